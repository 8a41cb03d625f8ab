package org.rlhf4j.algorithms.reduce;

import java.util.Objects;
import org.rlhf4j.datasets.DataRow;

/**
 * One comparison to reduce: its 1-based line in the input file, its texts and the parsed row (kept for model
 * embeddings and the judge, which encode it the way the {@code reward} command does).
 *
 * @param line 1-based line number in the input file (the row's identity in the report)
 * @param prompt the prompt text
 * @param chosen the preferred response text
 * @param rejected the dispreferred response text
 * @param row the parsed row, or null when the rows were built from texts only
 */
public record ReductionRow(long line, String prompt, String chosen, String rejected, DataRow row) {

    /**
     * Checks the parts.
     *
     * @param line line number (&ge; 1)
     * @param prompt prompt
     * @param chosen chosen response
     * @param rejected rejected response
     * @param row parsed row or null
     */
    public ReductionRow {
        if (line < 1) {
            throw new IllegalArgumentException("line must be >= 1, got " + line);
        }
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
    }

    /**
     * Returns a row with texts only (no parsed row).
     *
     * @param line 1-based line
     * @param prompt prompt
     * @param chosen chosen response
     * @param rejected rejected response
     * @return the row
     */
    public static ReductionRow of(long line, String prompt, String chosen, String rejected) {
        return new ReductionRow(line, prompt, chosen, rejected, null);
    }

    /**
     * Returns the key under which two rows compare the same prompt and the same two responses, whatever the label:
     * the prompt and the two responses in lexicographic order.
     *
     * @return the unordered comparison key
     */
    String pairKey() {
        String a = chosen.compareTo(rejected) <= 0 ? chosen : rejected;
        String b = a == chosen ? rejected : chosen;
        return prompt + '\u0000' + a + '\u0000' + b;
    }
}
