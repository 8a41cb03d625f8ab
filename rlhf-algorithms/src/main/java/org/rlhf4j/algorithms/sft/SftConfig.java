package org.rlhf4j.algorithms.sft;

import org.rlhf4j.algorithms.common.OptimizerConfig;

/**
 * Supervised fine-tuning settings (validated, immutable). Defaults follow summarize_from_feedback_details
 * {@code sft.py} (Huang et al. 2024): η = 3e-6 with cosine decay, AdamW ε = 1e-5, batch 128, one epoch.
 *
 * @param seed run seed: data order and sampling derive from (seed, step)
 * @param optimizer AdamW and schedule (refs: η 3e-6, cosine, ε 1e-5, clip 1.0)
 * @param batchSize sequences per optimizer update, B (refs: 128)
 * @param microBatchSize sequences per forward/backward; B must be a multiple (gradient accumulation)
 * @param epochs passes over the training data (may be fractional); the run has ⌈epochs·N/B⌉ updates
 * @param evalEvery evaluate every n updates (0: only at the end)
 * @param checkpointEvery write the checkpoint every n updates (0: only at the end)
 * @param numSamples greedy sample summaries written at each evaluation
 * @param sampleMaxTokens maximum tokens of a sample summary (refs: 53)
 */
public record SftConfig(
        long seed,
        OptimizerConfig optimizer,
        int batchSize,
        int microBatchSize,
        double epochs,
        int evalEvery,
        int checkpointEvery,
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
        if (evalEvery < 0 || checkpointEvery < 0 || numSamples < 0 || sampleMaxTokens < 1) {
            throw new IllegalArgumentException("evalEvery, checkpointEvery, numSamples must be >= 0 and "
                    + "sampleMaxTokens >= 1; got " + evalEvery + ", " + checkpointEvery + ", " + numSamples + ", "
                    + sampleMaxTokens);
        }
    }

    /**
     * The references' settings (Pythia TL;DR SFT).
     *
     * @return the config
     */
    public static SftConfig references() {
        return new SftConfig(1, OptimizerConfig.references(3e-6, OptimizerConfig.Schedule.COSINE), 128, 16, 1.0, 200,
                200, 4, 53);
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

    /**
     * Returns a copy with other batch sizes.
     *
     * @param batch B
     * @param micro micro-batch size
     * @return the copy
     */
    public SftConfig withBatch(int batch, int micro) {
        return new SftConfig(seed, optimizer, batch, micro, epochs, evalEvery, checkpointEvery, numSamples, sampleMaxTokens);
    }

    /**
     * Returns a copy with another number of epochs.
     *
     * @param e epochs
     * @return the copy
     */
    public SftConfig withEpochs(double e) {
        return new SftConfig(seed, optimizer, batchSize, microBatchSize, e, evalEvery, checkpointEvery, numSamples, sampleMaxTokens);
    }

    /**
     * Returns a copy with another seed.
     *
     * @param s seed
     * @return the copy
     */
    public SftConfig withSeed(long s) {
        return new SftConfig(s, optimizer, batchSize, microBatchSize, epochs, evalEvery, checkpointEvery, numSamples, sampleMaxTokens);
    }

    // TEMPORARY shim until the builder-based configs land (issue 14)
    public int evalSteps() { return evalEvery; }
    public int saveSteps() { return checkpointEvery; }
    public int saveTotalLimit() { return 2; }
    public int loggingSteps() { return 1; }
}
