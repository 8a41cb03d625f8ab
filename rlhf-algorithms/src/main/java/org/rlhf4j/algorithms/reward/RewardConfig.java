package org.rlhf4j.algorithms.reward;

import org.rlhf4j.algorithms.common.OptimizerConfig;

/**
 * Reward-model training settings (validated, immutable). Build one with {@link #builder()}; the defaults
 * ({@link #references()}) follow the TL;DR references (Stiennon et al. 2020 §3.4; summarize_from_feedback_details
 * {@code reward.py}): one epoch over the comparisons, AdamW ε = 1e-5, cosine decay, then reward normalisation on the
 * SFT references.
 *
 * @param seed run seed. Default 1.
 * @param optimizer AdamW and schedule. Default: η 3e-6, cosine, ε 1e-5, clip 1.0.
 * @param batchSize comparison pairs per update, B. Default 64.
 * @param microBatchSize pairs per forward/backward (each pair is two sequences); B must be a multiple. Default 8.
 * @param epochs passes over the comparisons. Default 1.
 * @param centerRewardsCoefficient TRL {@code center_rewards_coefficient} c: adds c·mean((r_w + r_l)²) to the loss
 *     (Eisenstein et al. 2023); 0 disables. Default 0.
 * @param evalSteps evaluate every n updates (0: only at the end). Default 200.
 * @param saveSteps write a checkpoint every n updates (0: only at the end). Default 200.
 * @param saveTotalLimit how many {@code checkpoint-<step>} directories to keep (0: all). Default 2.
 * @param loggingSteps log metrics every n updates (&gt;= 1); the last update and evaluation updates are always
 *     logged. Default 1.
 * @param normalizeOnReferences after training, set the head bias so that reference summaries score 0 on average
 *     (N+ details). Default true.
 */
public record RewardConfig(
        long seed,
        OptimizerConfig optimizer,
        int batchSize,
        int microBatchSize,
        double epochs,
        double centerRewardsCoefficient,
        int evalSteps,
        int saveSteps,
        int saveTotalLimit,
        int loggingSteps,
        boolean normalizeOnReferences) {

    /** Validates. */
    public RewardConfig {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        if (batchSize < 1 || microBatchSize < 1 || batchSize % microBatchSize != 0) {
            throw new IllegalArgumentException(
                    "batchSize (" + batchSize + ") must be a positive multiple of microBatchSize (" + microBatchSize + ")");
        }
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
        }
        if (!(centerRewardsCoefficient >= 0)) {
            throw new IllegalArgumentException("centerRewardsCoefficient must be >= 0, got " + centerRewardsCoefficient);
        }
        if (evalSteps < 0) {
            throw new IllegalArgumentException("evalSteps must be >= 0 (0: only at the end), got " + evalSteps);
        }
        if (saveSteps < 0) {
            throw new IllegalArgumentException("saveSteps must be >= 0 (0: only at the end), got " + saveSteps);
        }
        if (saveTotalLimit < 0) {
            throw new IllegalArgumentException("saveTotalLimit must be >= 0 (0: keep all), got " + saveTotalLimit);
        }
        if (loggingSteps < 1) {
            throw new IllegalArgumentException("loggingSteps must be >= 1, got " + loggingSteps);
        }
    }

    /**
     * Returns a builder with the references' settings (see the class description).
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
                .setSeed(seed)
                .setOptimizer(optimizer)
                .setBatchSize(batchSize)
                .setMicroBatchSize(microBatchSize)
                .setEpochs(epochs)
                .setCenterRewardsCoefficient(centerRewardsCoefficient)
                .setEvalSteps(evalSteps)
                .setSaveSteps(saveSteps)
                .setSaveTotalLimit(saveTotalLimit)
                .setLoggingSteps(loggingSteps)
                .setNormalizeOnReferences(normalizeOnReferences);
    }

    /**
     * The references' settings (Pythia TL;DR reward model): {@code builder().build()}.
     *
     * @return the config
     */
    public static RewardConfig references() {
        return builder().build();
    }

    /**
     * Returns the number of optimizer updates for a dataset.
     *
     * @param pairs number of training pairs
     * @return ⌈epochs·N/B⌉
     */
    public long totalSteps(int pairs) {
        return Math.max(1, (long) Math.ceil(epochs * pairs / batchSize));
    }

    /** Builder of {@link RewardConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private long seed = 1;
        private OptimizerConfig optimizer = OptimizerConfig.references(3e-6, OptimizerConfig.Schedule.COSINE);
        private int batchSize = 64;
        private int microBatchSize = 8;
        private double epochs = 1.0;
        private double centerRewardsCoefficient = 0.0;
        private int evalSteps = 200;
        private int saveSteps = 200;
        private int saveTotalLimit = 2;
        private int loggingSteps = 1;
        private boolean normalizeOnReferences = true;

        private Builder() {}

        /**
         * Sets {@link RewardConfig#seed()}.
         *
         * @param v the seed
         * @return this
         */
        public Builder setSeed(long v) {
            seed = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#optimizer()}.
         *
         * @param v the optimizer settings
         * @return this
         */
        public Builder setOptimizer(OptimizerConfig v) {
            optimizer = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#batchSize()}.
         *
         * @param v B
         * @return this
         */
        public Builder setBatchSize(int v) {
            batchSize = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#microBatchSize()}.
         *
         * @param v pairs per forward/backward
         * @return this
         */
        public Builder setMicroBatchSize(int v) {
            microBatchSize = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#epochs()}.
         *
         * @param v epochs
         * @return this
         */
        public Builder setEpochs(double v) {
            epochs = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#centerRewardsCoefficient()}.
         *
         * @param v c
         * @return this
         */
        public Builder setCenterRewardsCoefficient(double v) {
            centerRewardsCoefficient = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#evalSteps()}.
         *
         * @param v updates between evaluations (0: at the end)
         * @return this
         */
        public Builder setEvalSteps(int v) {
            evalSteps = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#saveSteps()}.
         *
         * @param v updates between checkpoints (0: at the end)
         * @return this
         */
        public Builder setSaveSteps(int v) {
            saveSteps = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#saveTotalLimit()}.
         *
         * @param v checkpoints kept (0: all)
         * @return this
         */
        public Builder setSaveTotalLimit(int v) {
            saveTotalLimit = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#loggingSteps()}.
         *
         * @param v updates between logged rows
         * @return this
         */
        public Builder setLoggingSteps(int v) {
            loggingSteps = v;
            return this;
        }

        /**
         * Sets {@link RewardConfig#normalizeOnReferences()}.
         *
         * @param v whether to normalise the rewards on the references
         * @return this
         */
        public Builder setNormalizeOnReferences(boolean v) {
            normalizeOnReferences = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public RewardConfig build() {
            return new RewardConfig(seed, optimizer, batchSize, microBatchSize, epochs, centerRewardsCoefficient,
                    evalSteps, saveSteps, saveTotalLimit, loggingSteps, normalizeOnReferences);
        }
    }
}
