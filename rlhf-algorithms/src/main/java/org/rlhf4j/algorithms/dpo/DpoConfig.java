package org.rlhf4j.algorithms.dpo;

import org.rlhf4j.algorithms.common.OptimizerConfig;

/**
 * DPO settings (validated, immutable). {@link #defaults()} follows TRL's {@code DPOConfig} (β = 0.1, sigmoid loss,
 * no label smoothing, η = 1e-6 with linear decay, precomputable reference log-probs) with the TL;DR references'
 * AdamW (ε = 1e-5, no weight decay, clipping at 1.0).
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
 * @param evalEvery evaluate on the held-out pairs every n updates (0: only at the end). Default 100.
 * @param checkpointEvery write the checkpoint every n updates (0: only at the end). Default 100.
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
        int evalEvery,
        int checkpointEvery,
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
        if (evalEvery < 0) {
            throw new IllegalArgumentException("evalEvery must be >= 0, got " + evalEvery);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("checkpointEvery must be >= 0, got " + checkpointEvery);
        }
    }

    /**
     * The defaults (see the class description).
     *
     * @return the config
     */
    public static DpoConfig defaults() {
        return new DpoConfig(1, OptimizerConfig.references(1e-6, OptimizerConfig.Schedule.LINEAR), 0.1,
                DpoLossType.SIGMOID, 0.0, 64, 8, 1.0, 100, 100, true);
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
        return new DpoConfig(seed, optimizer, beta, lossType, labelSmoothing, batch, micro, epochs, evalEvery,
                checkpointEvery, precomputeReferenceLogprobs);
    }

    /**
     * Returns a copy with another number of epochs.
     *
     * @param e epochs
     * @return the copy
     */
    public DpoConfig withEpochs(double e) {
        return new DpoConfig(seed, optimizer, beta, lossType, labelSmoothing, batchSize, microBatchSize, e, evalEvery,
                checkpointEvery, precomputeReferenceLogprobs);
    }

    /**
     * Returns a copy with another seed.
     *
     * @param s seed
     * @return the copy
     */
    public DpoConfig withSeed(long s) {
        return new DpoConfig(s, optimizer, beta, lossType, labelSmoothing, batchSize, microBatchSize, epochs, evalEvery,
                checkpointEvery, precomputeReferenceLogprobs);
    }

    /**
     * Returns a copy with another optimizer configuration.
     *
     * @param o the optimizer settings
     * @return the copy
     */
    public DpoConfig withOptimizer(OptimizerConfig o) {
        return new DpoConfig(seed, o, beta, lossType, labelSmoothing, batchSize, microBatchSize, epochs, evalEvery,
                checkpointEvery, precomputeReferenceLogprobs);
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
        return new DpoConfig(seed, optimizer, b, type, eps, batchSize, microBatchSize, epochs, evalEvery,
                checkpointEvery, precomputeReferenceLogprobs);
    }

    /**
     * Returns a copy with other evaluation and checkpoint intervals.
     *
     * @param eval evaluate every n updates (0: at the end)
     * @param checkpoint checkpoint every n updates (0: at the end)
     * @return the copy
     */
    public DpoConfig withIntervals(int eval, int checkpoint) {
        return new DpoConfig(seed, optimizer, beta, lossType, labelSmoothing, batchSize, microBatchSize, epochs, eval,
                checkpoint, precomputeReferenceLogprobs);
    }

    /**
     * Returns a copy that precomputes reference log-probs, or computes them on every micro-batch.
     *
     * @param precompute whether to precompute
     * @return the copy
     */
    public DpoConfig withPrecomputeReferenceLogprobs(boolean precompute) {
        return new DpoConfig(seed, optimizer, beta, lossType, labelSmoothing, batchSize, microBatchSize, epochs,
                evalEvery, checkpointEvery, precompute);
    }

    // TEMPORARY shim until the builder-based configs land (issue 14)
    public int evalSteps() { return evalEvery; }
    public int saveSteps() { return checkpointEvery; }
    public int saveTotalLimit() { return 2; }
    public int loggingSteps() { return 1; }
}
