package org.rlhf4j.algorithms.reward;

import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;

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
 * @param schedule when to evaluate, checkpoint and log; cannot change the trajectory (see {@link TrainingSchedule}).
 *     Default: evaluation and checkpoint every 200 updates, 2 checkpoints kept, metrics every update.
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
        TrainingSchedule schedule,
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
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must not be null");
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
                .setSchedule(schedule)
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
        private TrainingSchedule schedule = TrainingSchedule.of(200, 200);
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
         * Sets {@link RewardConfig#schedule()}.
         *
         * @param v when to evaluate, checkpoint and log
         * @return this
         */
        public Builder setSchedule(TrainingSchedule v) {
            schedule = v;
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
                    schedule, normalizeOnReferences);
        }
    }
}
