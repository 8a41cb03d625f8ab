package org.rlhf4j.algorithms.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.rlhf4j.core.model.ForwardHook;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.LossScaler;
import org.rlhf4j.core.train.LrSchedule;
import org.rlhf4j.core.train.MixedPrecision;
import org.rlhf4j.core.train.Updater;

/**
 * AdamW and learning-rate settings shared by every trainer (validated, immutable). Build one with {@link #builder()}
 * (the defaults below) or {@link #references(double, Schedule)}.
 *
 * @param learningRate peak learning rate η &gt; 0. Default 3e-6 (the TL;DR references' SFT, reward model and PPO).
 * @param schedule shape of the schedule over the run. Default {@link Schedule#LINEAR}.
 * @param warmupSteps linear warm-up updates (&gt;= 0). Default 0.
 * @param weightDecay decoupled weight decay λ &gt;= 0 (biases and LayerNorm excluded). Default 0.
 * @param beta1 Adam β₁ in [0, 1). Default 0.9.
 * @param beta2 Adam β₂ in [0, 1). Default 0.999.
 * @param eps Adam ε &gt; 0. Default 1e-5 (the TL;DR references; PyTorch's default is 1e-8).
 * @param maxGradNorm global-norm clipping threshold; 0 disables. Default 1.0.
 * @param maxConsecutiveNonFinite non-finite steps tolerated in a row before training stops. Default 3.
 * @param fp16 fp16 mixed precision ({@link MixedPrecision}): float32 master weights, float16 linear layers in the
 *     trained models' loss forwards, dynamic loss scaling ({@link LossScaler}, torch's defaults). Default false.
 *     Recorded in {@code run_config.json} only when true, so runs written before the field resume unchanged.
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
        int maxConsecutiveNonFinite,
        @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean fp16) {

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
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
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
     * Returns a builder with the defaults (see the class description).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder initialised from this config.
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder()
                .setLearningRate(learningRate)
                .setSchedule(schedule)
                .setWarmupSteps(warmupSteps)
                .setWeightDecay(weightDecay)
                .setBeta1(beta1)
                .setBeta2(beta2)
                .setEps(eps)
                .setMaxGradNorm(maxGradNorm)
                .setMaxConsecutiveNonFinite(maxConsecutiveNonFinite)
                .setFp16(fp16);
    }

    /**
     * The TL;DR references' optimizer: AdamW ε = 1e-5, no weight decay, clipping at 1.0 (the defaults) with the given
     * η and schedule.
     *
     * @param learningRate η
     * @param schedule schedule shape
     * @return the config
     */
    public static OptimizerConfig references(double learningRate, Schedule schedule) {
        return builder().setLearningRate(learningRate).setSchedule(schedule).build();
    }

    /**
     * Returns a copy with another learning rate.
     *
     * @param lr η
     * @return the copy
     */
    public OptimizerConfig withLearningRate(double lr) {
        return toBuilder().setLearningRate(lr).build();
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
        return new Updater(name, optimizer, lrSchedule(totalSteps), maxGradNorm, maxConsecutiveNonFinite,
                fp16 ? LossScaler.builder().build() : null);
    }

    /**
     * Returns the forward hook of the trained models' loss forwards: {@link MixedPrecision#FP16} with {@link #fp16},
     * else {@link ForwardHook#NONE}.
     *
     * @return the hook
     */
    public ForwardHook forwardHook() {
        return MixedPrecision.hook(fp16);
    }

    /** Builder of {@link OptimizerConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private double learningRate = 3e-6;
        private Schedule schedule = Schedule.LINEAR;
        private long warmupSteps = 0;
        private double weightDecay = 0.0;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-5;
        private double maxGradNorm = 1.0;
        private int maxConsecutiveNonFinite = 3;
        private boolean fp16 = false;

        private Builder() {}

        /**
         * Sets {@link OptimizerConfig#learningRate()}.
         *
         * @param v η
         * @return this
         */
        public Builder setLearningRate(double v) {
            learningRate = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#schedule()}.
         *
         * @param v the schedule shape
         * @return this
         */
        public Builder setSchedule(Schedule v) {
            schedule = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#warmupSteps()}.
         *
         * @param v warm-up updates
         * @return this
         */
        public Builder setWarmupSteps(long v) {
            warmupSteps = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#weightDecay()}.
         *
         * @param v λ
         * @return this
         */
        public Builder setWeightDecay(double v) {
            weightDecay = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#beta1()}.
         *
         * @param v β₁
         * @return this
         */
        public Builder setBeta1(double v) {
            beta1 = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#beta2()}.
         *
         * @param v β₂
         * @return this
         */
        public Builder setBeta2(double v) {
            beta2 = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#eps()}.
         *
         * @param v ε
         * @return this
         */
        public Builder setEps(double v) {
            eps = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#maxGradNorm()}.
         *
         * @param v the clipping threshold (0: off)
         * @return this
         */
        public Builder setMaxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#maxConsecutiveNonFinite()}.
         *
         * @param v non-finite steps tolerated in a row
         * @return this
         */
        public Builder setMaxConsecutiveNonFinite(int v) {
            maxConsecutiveNonFinite = v;
            return this;
        }

        /**
         * Sets {@link OptimizerConfig#fp16()}.
         *
         * @param v whether to train with fp16 mixed precision
         * @return this
         */
        public Builder setFp16(boolean v) {
            fp16 = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public OptimizerConfig build() {
            return new OptimizerConfig(learningRate, schedule, warmupSteps, weightDecay, beta1, beta2, eps, maxGradNorm,
                    maxConsecutiveNonFinite, fp16);
        }
    }
}
