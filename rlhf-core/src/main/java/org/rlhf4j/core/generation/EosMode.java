package org.rlhf4j.core.generation;

/** What generation does with the end-of-sequence token. */
public enum EosMode {
    /** A sequence ends at its first EOS (kept, mask 1); later positions are padding. Generation stops when all end. */
    STOP,
    /**
     * Responses of exactly {@code maxNewTokens} columns, EOS not stopping any row; then each response is truncated
     * after its first EOS (later tokens become padding). This is what the RLHF references do for PPO (N+
     * implementation details, detail 23: fixed response length, truncation at EOS, then the missing-EOS penalty).
     * The {@link Generator} stops decoding once every row holds an EOS: the steps it skips would only produce tokens
     * that the truncation replaces by padding, so the rollout is the same.
     */
    FIXED_LENGTH_THEN_TRUNCATE
}
