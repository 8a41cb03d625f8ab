package org.rlhf4j.algorithms.eval;

/** The outcome of comparing summary A with summary B. */
public enum Verdict {
    /** A is preferred. */
    A,
    /** B is preferred. */
    B,
    /** Neither is preferred: equal scores, or an LLM that chose differently in the two presentation orders. */
    TIE,
    /** No usable answer (a malformed LLM reply); excluded from rates and counted separately. */
    INVALID;

    /**
     * Returns whether this verdict names a winner.
     *
     * @return true for A and B
     */
    public boolean decisive() {
        return this == A || this == B;
    }

    /**
     * Returns the verdict with the roles of A and B exchanged (A ↔ B; TIE and INVALID unchanged).
     *
     * @return the swapped verdict
     */
    public Verdict swapped() {
        return switch (this) {
            case A -> B;
            case B -> A;
            default -> this;
        };
    }
}
