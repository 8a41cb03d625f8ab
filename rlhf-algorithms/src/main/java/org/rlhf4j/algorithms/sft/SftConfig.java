package org.rlhf4j.algorithms.sft;

import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;

/**
 * Supervised fine-tuning settings (validated, immutable). Build one with {@link #builder()}; the defaults
 * ({@link #references()}) follow summarize_from_feedback_details {@code sft.py} (Huang et al. 2024): η = 3e-6 with
 * cosine decay, AdamW ε = 1e-5, batch 128, one epoch.
 *
 * @param seed run seed: data order and sampling derive from (seed, step). Default 1.
 * @param optimizer AdamW and schedule. Default: η 3e-6, cosine, ε 1e-5, clip 1.0.
 * @param batchSize sequences per optimizer update, B. Default 128.
 * @param microBatchSize sequences per forward/backward; B must be a multiple (gradient accumulation). Default 16.
 * @param epochs passes over the training data (may be fractional); the run has ⌈epochs·N/B⌉ updates. Default 1.
 * @param schedule when to evaluate, checkpoint and log; cannot change the trajectory (see {@link TrainingSchedule}).
 *     Default: evaluation and checkpoint every 200 updates, 2 checkpoints kept, metrics every update.
 * @param numSamples greedy sample summaries written at each evaluation. Default 4.
 * @param sampleMaxTokens maximum tokens of a sample summary. Default 53.
 */
public record SftConfig(
        long seed,
        OptimizerConfig optimizer,
        int batchSize,
        int microBatchSize,
        double epochs,
        TrainingSchedule schedule,
        int numSamples,
        int sampleMaxTokens) {

    /** Validates. */
    public SftConfig {
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
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must not be null");
        }
        if (numSamples < 0) {
            throw new IllegalArgumentException("numSamples must be >= 0, got " + numSamples);
        }
        if (sampleMaxTokens < 1) {
            throw new IllegalArgumentException("sampleMaxTokens must be >= 1, got " + sampleMaxTokens);
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
                .setSchedule(schedule)
                .setNumSamples(numSamples)
                .setSampleMaxTokens(sampleMaxTokens);
    }

    /**
     * The references' settings (Pythia TL;DR SFT): {@code builder().build()}.
     *
     * @return the config
     */
    public static SftConfig references() {
        return builder().build();
    }

    /**
     * Returns the number of optimizer updates for a dataset.
     *
     * @param datasetSize N
     * @return ⌈epochs·N/B⌉
     */
    public long totalSteps(int datasetSize) {
        return Math.max(1, (long) Math.ceil(epochs * datasetSize / batchSize));
    }

    /** Builder of {@link SftConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private long seed = 1;
        private OptimizerConfig optimizer = OptimizerConfig.references(3e-6, OptimizerConfig.Schedule.COSINE);
        private int batchSize = 128;
        private int microBatchSize = 16;
        private double epochs = 1.0;
        private TrainingSchedule schedule = TrainingSchedule.of(200, 200);
        private int numSamples = 4;
        private int sampleMaxTokens = 53;

        private Builder() {}

        /**
         * Sets {@link SftConfig#seed()}.
         *
         * @param v the seed
         * @return this
         */
        public Builder setSeed(long v) {
            seed = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#optimizer()}.
         *
         * @param v the optimizer settings
         * @return this
         */
        public Builder setOptimizer(OptimizerConfig v) {
            optimizer = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#batchSize()}.
         *
         * @param v B
         * @return this
         */
        public Builder setBatchSize(int v) {
            batchSize = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#microBatchSize()}.
         *
         * @param v sequences per forward/backward
         * @return this
         */
        public Builder setMicroBatchSize(int v) {
            microBatchSize = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#epochs()}.
         *
         * @param v epochs
         * @return this
         */
        public Builder setEpochs(double v) {
            epochs = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#schedule()}.
         *
         * @param v when to evaluate, checkpoint and log
         * @return this
         */
        public Builder setSchedule(TrainingSchedule v) {
            schedule = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#numSamples()}.
         *
         * @param v samples per evaluation
         * @return this
         */
        public Builder setNumSamples(int v) {
            numSamples = v;
            return this;
        }

        /**
         * Sets {@link SftConfig#sampleMaxTokens()}.
         *
         * @param v maximum tokens of a sample
         * @return this
         */
        public Builder setSampleMaxTokens(int v) {
            sampleMaxTokens = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public SftConfig build() {
            return new SftConfig(seed, optimizer, batchSize, microBatchSize, epochs, schedule, numSamples,
                    sampleMaxTokens);
        }
    }
}
