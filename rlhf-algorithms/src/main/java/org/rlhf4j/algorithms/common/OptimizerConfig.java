package org.rlhf4j.algorithms.common;

import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.LrSchedule;
import org.rlhf4j.core.train.Updater;

/**
 * AdamW and learning-rate settings shared by every trainer (validated, immutable).
 *
 * @param learningRate peak learning rate η
 * @param schedule shape of the schedule over the run
 * @param warmupSteps linear warm-up updates
 * @param weightDecay decoupled weight decay λ (biases and LayerNorm excluded)
 * @param beta1 Adam β₁
 * @param beta2 Adam β₂
 * @param eps Adam ε (the TL;DR references use 1e-5)
 * @param maxGradNorm global-norm clipping threshold; 0 disables
 * @param maxConsecutiveNonFinite non-finite steps tolerated in a row before training stops
 */
public record OptimizerConfig(
        double learningRate,
        Schedule schedule,
        long warmupSteps,
        double weightDecay,
        double beta1,
        double beta2,
        double eps,
        double maxGradNorm,
        int maxConsecutiveNonFinite) {

    /** Schedule shapes. */
    public enum Schedule {
        /** η after warm-up. */
        CONSTANT,
        /** Linear decay to 0 at the last update. */
        LINEAR,
        /** Cosine decay to 0 at the last update. */
        COSINE
    }

    /** Validates. */
    public OptimizerConfig {
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be > 0 and finite, got " + learningRate);
        }
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must not be null");
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (weightDecay < 0) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("eps must be > 0, got " + eps);
        }
        if (maxGradNorm < 0) {
            throw new IllegalArgumentException("maxGradNorm must be >= 0, got " + maxGradNorm);
        }
        if (maxConsecutiveNonFinite < 0) {
            throw new IllegalArgumentException("maxConsecutiveNonFinite must be >= 0, got " + maxConsecutiveNonFinite);
        }
    }

    /**
     * The TL;DR references' optimizer: AdamW ε = 1e-5, no weight decay, clipping at 1.0.
     *
     * @param learningRate η
     * @param schedule schedule shape
     * @return the config
     */
    public static OptimizerConfig references(double learningRate, Schedule schedule) {
        return new OptimizerConfig(learningRate, schedule, 0, 0.0, 0.9, 0.999, 1e-5, 1.0, 3);
    }

    /**
     * Returns a copy with another learning rate.
     *
     * @param lr η
     * @return the copy
     */
    public OptimizerConfig withLearningRate(double lr) {
        return new OptimizerConfig(lr, schedule, warmupSteps, weightDecay, beta1, beta2, eps, maxGradNorm,
                maxConsecutiveNonFinite);
    }

    /**
     * Returns the learning-rate schedule for a run of {@code totalSteps} updates.
     *
     * @param totalSteps total updates
     * @return the schedule
     */
    public LrSchedule lrSchedule(long totalSteps) {
        long total = Math.max(totalSteps, Math.max(1, warmupSteps));
        return switch (schedule) {
            case CONSTANT -> new LrSchedule.Constant(learningRate, warmupSteps);
            case LINEAR -> new LrSchedule.Linear(learningRate, warmupSteps, total, 0.0);
            case COSINE -> new LrSchedule.Cosine(learningRate, warmupSteps, total, 0.0);
        };
    }

    /**
     * Creates the optimizer for some weights.
     *
     * @param weights the parameters
     * @return AdamW with these settings
     */
    public AdamW newOptimizer(Weights weights) {
        return new AdamW(weights, beta1, beta2, eps, weightDecay, AdamW.NO_DECAY_BIAS_AND_NORM);
    }

    /**
     * Creates the end-of-step updater.
     *
     * @param optimizer the optimizer
     * @param totalSteps total updates of the run
     * @return the updater
     */
    public Updater newUpdater(AdamW optimizer, long totalSteps) {
        return newUpdater("model", optimizer, totalSteps);
    }

    /**
     * Creates the end-of-step updater of one of several models (its errors name the model).
     *
     * @param name the model's role, e.g. {@code policy} or {@code critic}
     * @param optimizer the optimizer
     * @param totalSteps total updates of the run
     * @return the updater
     */
    public Updater newUpdater(String name, AdamW optimizer, long totalSteps) {
        return new Updater(name, optimizer, lrSchedule(totalSteps), maxGradNorm, maxConsecutiveNonFinite);
    }
}
