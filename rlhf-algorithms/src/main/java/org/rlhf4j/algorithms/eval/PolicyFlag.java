package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A sign that a policy's summaries are broken, whatever its scores say; the rules and thresholds are in
 * {@link EvaluationChecks}. Written to JSON and reports as {@link #key()}.
 */
public enum PolicyFlag {
    /** Half or more of the responses are degenerate: empty, or one token repeated ({@link EvaluationChecks}). */
    DEGENERATE("degenerate"),
    /** The mean response length is below a quarter of the references' mean length. */
    LENGTH_COLLAPSE("length_collapse"),
    /** More than half of the responses end without EOS within the token budget. */
    NO_EOS("no_eos"),
    /** More than half of a scaffolded policy's outputs lack the {@code Summary:} marker of its protocol. */
    NO_SUMMARY_MARKER("no_summary_marker");

    private final String key;

    PolicyFlag(String key) {
        this.key = key;
    }

    /**
     * Returns the flag's name in JSON and reports.
     *
     * @return e.g. {@code length_collapse}
     */
    @JsonValue
    public String key() {
        return key;
    }
}
