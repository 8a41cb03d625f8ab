package org.rlhf4j.algorithms.dpo;

import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;

/**
 * DPO settings (validated, immutable). Build one with {@link #builder()}; the defaults ({@link #defaults()}) follow
 * TRL's {@code DPOConfig} (β = 0.1, sigmoid loss, no label smoothing, η = 1e-6 with linear decay, precomputable
 * reference log-probs) with the TL;DR references' AdamW (ε = 1e-5, no weight decay, clipping at 1.0).
 *
 * @param seed run seed: the data order of every update derives from (seed, step). Default 1.
 * @param optimizer AdamW and schedule. Default: η = 1e-6 (TRL {@code DPOConfig.learning_rate}; the DPO paper used
 *     1e-6; 5e-7 is also common), linear decay to 0, no warm-up, AdamW ε 1e-5, clipping 1.0.
 * @param beta β &gt; 0, the KL-regularisation strength of the implied RLHF objective and the scale of the implicit
 *     reward r = β·log(π_θ/π_ref); small β lets the policy move further from π_ref. Default 0.1 (TRL, DPO paper;
 *     DR-PO's DPO baseline used 0.05). For IPO it is τ of Azar et al. (target log-ratio difference 1/(2β)).
 * @param lossType the loss variant. Default {@link DpoLossType#SIGMOID}.
 * @param labelSmoothing ε in [0, 0.5): the assumed label-flip rate of cDPO ({@code SIGMOID}) and robust DPO
 *     ({@code ROBUST}); must be 0 for {@code IPO} and {@code HINGE}. Default 0.
 * @param batchSize pairs per optimizer update, B (the loss is the mean over the B pairs). Default 64.
 * @param microBatchSize pairs per forward/backward (2× as many rows: chosen and rejected run in one batched forward);
 *     B must be a multiple (gradient accumulation). Default 8.
 * @param epochs passes over the training pairs (may be fractional); the run has ⌈epochs·N/B⌉ updates. Default 1.
 * @param schedule when to evaluate, checkpoint and log; cannot change the trajectory (see {@link TrainingSchedule}).
 *     Default: evaluation and checkpoint every 100 updates, 2 checkpoints kept, metrics every update.
 * @param precomputeReferenceLogprobs compute log π_ref of every train and eval response once before training and
 *     cache it (TRL {@code precompute_ref_log_probs}; saves one reference forward per step) instead of running the
 *     reference on every micro-batch. Both give the same loss. Default true.
 */
public record DpoConfig(
        long seed,
        OptimizerConfig optimizer,
        double beta,
        DpoLossType lossType,
        double labelSmoothing,
        int batchSize,
        int microBatchSize,
        double epochs,
        TrainingSchedule schedule,
        boolean precomputeReferenceLogprobs) {

    /** Validates. */
    public DpoConfig {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        if (!(beta > 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("beta must be > 0 and finite, got " + beta);
        }
        DpoLosses.checkSmoothing(lossType, labelSmoothing);
        if (batchSize < 1 || microBatchSize < 1 || batchSize % microBatchSize != 0) {
            throw new IllegalArgumentException(
                    "batchSize (" + batchSize + ") must be a positive multiple of microBatchSize (" + microBatchSize + ")");
        }
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new IllegalArgumentException("epochs must be > 0 and finite, got " + epochs);
        }
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must not be null");
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
                .setSeed(seed)
                .setOptimizer(optimizer)
                .setBeta(beta)
                .setLossType(lossType)
                .setLabelSmoothing(labelSmoothing)
                .setBatchSize(batchSize)
                .setMicroBatchSize(microBatchSize)
                .setEpochs(epochs)
                .setSchedule(schedule)
                .setPrecomputeReferenceLogprobs(precomputeReferenceLogprobs);
    }

    /**
     * The defaults (see the class description): {@code builder().build()}.
     *
     * @return the config
     */
    public static DpoConfig defaults() {
        return builder().build();
    }

    /**
     * Returns the number of optimizer updates for a dataset.
     *
     * @param datasetSize N pairs
     * @return ⌈epochs·N/B⌉ (at least 1)
     */
    public long totalSteps(int datasetSize) {
        return Math.max(1, (long) Math.ceil(epochs * datasetSize / batchSize));
    }

    /**
     * Returns a copy with other batch sizes.
     *
     * @param batch B
     * @param micro micro-batch size
     * @return the copy
     */
    public DpoConfig withBatch(int batch, int micro) {
        return toBuilder().setBatchSize(batch).setMicroBatchSize(micro).build();
    }

    /**
     * Returns a copy with another number of epochs.
     *
     * @param e epochs
     * @return the copy
     */
    public DpoConfig withEpochs(double e) {
        return toBuilder().setEpochs(e).build();
    }

    /**
     * Returns a copy with another seed.
     *
     * @param s seed
     * @return the copy
     */
    public DpoConfig withSeed(long s) {
        return toBuilder().setSeed(s).build();
    }

    /**
     * Returns a copy with another loss.
     *
     * @param b β
     * @param type the variant
     * @param eps label smoothing ε
     * @return the copy
     */
    public DpoConfig withLoss(double b, DpoLossType type, double eps) {
        return toBuilder().setBeta(b).setLossType(type).setLabelSmoothing(eps).build();
    }

    /**
     * Returns a copy that precomputes reference log-probs, or computes them on every micro-batch.
     *
     * @param precompute whether to precompute
     * @return the copy
     */
    public DpoConfig withPrecomputeReferenceLogprobs(boolean precompute) {
        return toBuilder().setPrecomputeReferenceLogprobs(precompute).build();
    }

    /** Builder of {@link DpoConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private long seed = 1;
        private OptimizerConfig optimizer = OptimizerConfig.references(1e-6, OptimizerConfig.Schedule.LINEAR);
        private double beta = 0.1;
        private DpoLossType lossType = DpoLossType.SIGMOID;
        private double labelSmoothing = 0.0;
        private int batchSize = 64;
        private int microBatchSize = 8;
        private double epochs = 1.0;
        private TrainingSchedule schedule = TrainingSchedule.builder().build();
        private boolean precomputeReferenceLogprobs = true;

        private Builder() {}

        /**
         * Sets {@link DpoConfig#seed()}.
         *
         * @param v the seed
         * @return this
         */
        public Builder setSeed(long v) {
            seed = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#optimizer()}.
         *
         * @param v the optimizer settings
         * @return this
         */
        public Builder setOptimizer(OptimizerConfig v) {
            optimizer = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#beta()}.
         *
         * @param v β
         * @return this
         */
        public Builder setBeta(double v) {
            beta = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#lossType()}.
         *
         * @param v the loss variant
         * @return this
         */
        public Builder setLossType(DpoLossType v) {
            lossType = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#labelSmoothing()}.
         *
         * @param v ε
         * @return this
         */
        public Builder setLabelSmoothing(double v) {
            labelSmoothing = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#batchSize()}.
         *
         * @param v B
         * @return this
         */
        public Builder setBatchSize(int v) {
            batchSize = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#microBatchSize()}.
         *
         * @param v pairs per forward/backward
         * @return this
         */
        public Builder setMicroBatchSize(int v) {
            microBatchSize = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#epochs()}.
         *
         * @param v epochs
         * @return this
         */
        public Builder setEpochs(double v) {
            epochs = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#schedule()}.
         *
         * @param v when to evaluate, checkpoint and log
         * @return this
         */
        public Builder setSchedule(TrainingSchedule v) {
            schedule = v;
            return this;
        }

        /**
         * Sets {@link DpoConfig#precomputeReferenceLogprobs()}.
         *
         * @param v whether to precompute
         * @return this
         */
        public Builder setPrecomputeReferenceLogprobs(boolean v) {
            precomputeReferenceLogprobs = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public DpoConfig build() {
            return new DpoConfig(seed, optimizer, beta, lossType, labelSmoothing, batchSize, microBatchSize, epochs,
                    schedule, precomputeReferenceLogprobs);
        }
    }
}
