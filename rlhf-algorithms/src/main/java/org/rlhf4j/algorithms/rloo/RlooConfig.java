package org.rlhf4j.algorithms.rloo;

import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;

/**
 * RLOO settings (validated, immutable). Build one with {@link #builder()}; the defaults follow TRL 1.13.0's
 * {@code RLOOConfig} (REINFORCE Leave-One-Out, Ahmadian et al. 2024, "Back to Basics"): k = 2 completions per prompt,
 * β = 0.05 with the KL in the reward, ε = 0.2, one iteration per generation, AdamW η = 1e-6 (ε 1e-8) with linear
 * decay, 512-token completions at τ = 1. One update generates k completions for each of P prompts (B = P·k
 * completions) and takes μ optimizer steps on them. TRL defaults are in parentheses.
 *
 * @param seed run seed: prompt order and sampling derive from (seed, update) (TRL {@code seed}: 1 here, 42 in TRL)
 * @param optimizer AdamW and learning-rate schedule, stepped μ times per update (TRL: {@code learning_rate} 1e-6,
 *     linear decay, AdamW ε 1e-8, no weight decay, {@code max_grad_norm} 1.0)
 * @param epochs passes over the prompts (may be fractional); the run has ⌈epochs·N/P⌉ updates (1)
 * @param promptsPerStep prompts per update, P; B = P·k completions (TRL: {@code per_device_train_batch_size} ×
 *     {@code gradient_accumulation_steps} / k = 8 / 2 = 4)
 * @param numGenerations completions per prompt, k ≥ 2 (the leave-one-out baseline needs another sample)
 *     (TRL {@code num_generations}: 2)
 * @param microBatchSize completions per forward/backward; B must be a multiple (gradient accumulation) (TRL
 *     {@code per_device_train_batch_size}: 8)
 * @param numIterations optimizer steps per generation batch, μ (TRL {@code num_iterations}: 1)
 * @param maxCompletionLength maximum completion tokens; generation stops at EOS (TRL
 *     {@code max_completion_length}: 512)
 * @param temperature sampling temperature τ &gt; 0; log-probabilities are computed from z/τ as in TRL (1.0)
 * @param topK top-k sampling, 0 off (TRL {@code top_k}: 0)
 * @param topP nucleus sampling (TRL {@code top_p}: 1.0)
 * @param beta KL coefficient β of the penalty in the reward r − β·KL (TRL {@code beta}: 0.05; 0 needs no reference)
 * @param rewardClipRange {lo, hi} to clip the rewards to before the KL penalty, or null (TRL
 *     {@code reward_clip_range}: None)
 * @param normalizeAdvantages whiten the advantages over the batch (TRL {@code normalize_advantages}: false)
 * @param epsilon lower clip ε_low of the sequence ratio (TRL {@code epsilon}: 0.2)
 * @param epsilonHigh upper clip ε_high (TRL {@code epsilon_high}: None = ε_low; NaN in the builder means the same)
 * @param maskTruncatedCompletions give completions without EOS no gradient (TRL
 *     {@code mask_truncated_completions}: false)
 * @param schedule when to evaluate, checkpoint and log; cannot change the trajectory (see {@link TrainingSchedule})
 *     (evaluation and checkpoint every 100 updates, 2 checkpoints kept, metrics every update)
 */
public record RlooConfig(
        long seed,
        OptimizerConfig optimizer,
        double epochs,
        int promptsPerStep,
        int numGenerations,
        int microBatchSize,
        int numIterations,
        int maxCompletionLength,
        double temperature,
        int topK,
        double topP,
        double beta,
        double[] rewardClipRange,
        boolean normalizeAdvantages,
        double epsilon,
        double epsilonHigh,
        boolean maskTruncatedCompletions,
        TrainingSchedule schedule) {

    /** TRL's optimizer defaults: η 1e-6, linear decay, AdamW ε 1e-8, clip 1.0. */
    public static final OptimizerConfig DEFAULT_OPTIMIZER = OptimizerConfig.builder().setLearningRate(1e-6)
            .setSchedule(OptimizerConfig.Schedule.LINEAR).setEps(1e-8).build();

    /** Validates; ε_high NaN becomes ε_low. */
    public RlooConfig {
        if (optimizer == null || schedule == null) {
            throw new IllegalArgumentException("optimizer and schedule must not be null");
        }
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
        }
        if (promptsPerStep < 1) {
            throw new IllegalArgumentException("promptsPerStep must be >= 1, got " + promptsPerStep);
        }
        if (numGenerations < 2) {
            throw new IllegalArgumentException("numGenerations must be >= 2 (leave-one-out), got " + numGenerations);
        }
        int b = promptsPerStep * numGenerations;
        if (microBatchSize < 1 || b % microBatchSize != 0) {
            throw new IllegalArgumentException("batch size " + b + " (promptsPerStep × numGenerations) must be a "
                    + "multiple of microBatchSize (" + microBatchSize + ")");
        }
        if (numIterations < 1 || maxCompletionLength < 1) {
            throw new IllegalArgumentException("numIterations and maxCompletionLength must be >= 1, got "
                    + numIterations + ", " + maxCompletionLength);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 (RLOO samples), got " + temperature);
        }
        if (topK < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topK must be >= 0 and topP in (0, 1], got " + topK + ", " + topP);
        }
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("beta must be >= 0, got " + beta);
        }
        if (rewardClipRange != null) {
            if (rewardClipRange.length != 2 || !(rewardClipRange[0] <= rewardClipRange[1])) {
                throw new IllegalArgumentException("rewardClipRange must be {lo, hi} with lo <= hi");
            }
            rewardClipRange = rewardClipRange.clone();
        }
        if (Double.isNaN(epsilonHigh)) {
            epsilonHigh = epsilon;
        }
        if (!(epsilon > 0 && epsilon < 1) || !(epsilonHigh > 0) || Double.isInfinite(epsilonHigh)) {
            throw new IllegalArgumentException("epsilon must be in (0, 1) and epsilonHigh > 0, got " + epsilon + ", "
                    + epsilonHigh);
        }
    }

    /**
     * Returns a builder with TRL's defaults (see the class description).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the completions per update.
     *
     * @return B = P·k
     */
    public int batchSize() {
        return promptsPerStep * numGenerations;
    }

    /**
     * Returns the number of updates for a prompt set.
     *
     * @param prompts N
     * @return ⌈epochs·N/P⌉
     */
    public long totalSteps(int prompts) {
        return Math.max(1, (long) Math.ceil(epochs * prompts / promptsPerStep));
    }

    /**
     * Returns a builder initialised from this config.
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder()
                .setSeed(seed)
                .setOptimizer(optimizer)
                .setEpochs(epochs)
                .setPromptsPerStep(promptsPerStep)
                .setNumGenerations(numGenerations)
                .setMicroBatchSize(microBatchSize)
                .setNumIterations(numIterations)
                .setMaxCompletionLength(maxCompletionLength)
                .setTemperature(temperature)
                .setTopK(topK)
                .setTopP(topP)
                .setBeta(beta)
                .setRewardClipRange(rewardClipRange)
                .setNormalizeAdvantages(normalizeAdvantages)
                .setEpsilon(epsilon)
                .setEpsilonHigh(epsilonHigh)
                .setMaskTruncatedCompletions(maskTruncatedCompletions)
                .setSchedule(schedule);
    }

    /** Builder of {@link RlooConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private long seed = 1;
        private OptimizerConfig optimizer = DEFAULT_OPTIMIZER;
        private double epochs = 1.0;
        private int promptsPerStep = 4;
        private int numGenerations = 2;
        private int microBatchSize = 8;
        private int numIterations = 1;
        private int maxCompletionLength = 512;
        private double temperature = 1.0;
        private int topK = 0;
        private double topP = 1.0;
        private double beta = 0.05;
        private double[] rewardClipRange = null;
        private boolean normalizeAdvantages = false;
        private double epsilon = 0.2;
        private double epsilonHigh = Double.NaN;
        private boolean maskTruncatedCompletions = false;
        private TrainingSchedule schedule = TrainingSchedule.of(100, 100);

        private Builder() {}

        /**
         * Sets {@link RlooConfig#seed()}.
         *
         * @param v the seed
         * @return this
         */
        public Builder setSeed(long v) {
            seed = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#optimizer()}.
         *
         * @param v the optimizer settings
         * @return this
         */
        public Builder setOptimizer(OptimizerConfig v) {
            optimizer = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#epochs()}.
         *
         * @param v epochs
         * @return this
         */
        public Builder setEpochs(double v) {
            epochs = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#promptsPerStep()}.
         *
         * @param v P
         * @return this
         */
        public Builder setPromptsPerStep(int v) {
            promptsPerStep = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#numGenerations()}.
         *
         * @param v k
         * @return this
         */
        public Builder setNumGenerations(int v) {
            numGenerations = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#microBatchSize()}.
         *
         * @param v completions per forward/backward
         * @return this
         */
        public Builder setMicroBatchSize(int v) {
            microBatchSize = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#numIterations()}.
         *
         * @param v μ
         * @return this
         */
        public Builder setNumIterations(int v) {
            numIterations = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#maxCompletionLength()}.
         *
         * @param v maximum completion tokens
         * @return this
         */
        public Builder setMaxCompletionLength(int v) {
            maxCompletionLength = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#temperature()}.
         *
         * @param v τ
         * @return this
         */
        public Builder setTemperature(double v) {
            temperature = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#topK()}.
         *
         * @param v top-k (0: off)
         * @return this
         */
        public Builder setTopK(int v) {
            topK = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#topP()}.
         *
         * @param v top-p
         * @return this
         */
        public Builder setTopP(double v) {
            topP = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#beta()}.
         *
         * @param v β
         * @return this
         */
        public Builder setBeta(double v) {
            beta = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#rewardClipRange()}.
         *
         * @param v {lo, hi}, or null
         * @return this
         */
        public Builder setRewardClipRange(double[] v) {
            rewardClipRange = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#normalizeAdvantages()}.
         *
         * @param v whether to whiten advantages
         * @return this
         */
        public Builder setNormalizeAdvantages(boolean v) {
            normalizeAdvantages = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#epsilon()}.
         *
         * @param v ε_low
         * @return this
         */
        public Builder setEpsilon(double v) {
            epsilon = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#epsilonHigh()}.
         *
         * @param v ε_high (NaN: ε_low)
         * @return this
         */
        public Builder setEpsilonHigh(double v) {
            epsilonHigh = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#maskTruncatedCompletions()}.
         *
         * @param v whether to mask truncated completions
         * @return this
         */
        public Builder setMaskTruncatedCompletions(boolean v) {
            maskTruncatedCompletions = v;
            return this;
        }

        /**
         * Sets {@link RlooConfig#schedule()}.
         *
         * @param v when to evaluate, checkpoint and log
         * @return this
         */
        public Builder setSchedule(TrainingSchedule v) {
            schedule = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public RlooConfig build() {
            return new RlooConfig(seed, optimizer, epochs, promptsPerStep, numGenerations, microBatchSize, numIterations, maxCompletionLength, temperature, topK, topP, beta, rewardClipRange, normalizeAdvantages, epsilon, epsilonHigh, maskTruncatedCompletions, schedule);
        }
    }
}
