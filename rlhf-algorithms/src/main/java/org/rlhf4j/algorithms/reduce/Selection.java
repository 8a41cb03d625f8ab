package org.rlhf4j.algorithms.reduce;

/** How a training subset is chosen in {@link ReductionBench}. */
public enum Selection {
    /** {@link DataReducer}: codebook, deduplication, contradictions. */
    CODEBOOK,
    /** A uniformly random subset of the same size as the codebook's ({@link DataReducer#randomSubset}). */
    RANDOM,
    /** Every row. */
    FULL
}
