package org.rlhf4j.datasets;

import java.util.Objects;

/**
 * A supervised example: a prompt and the completion the model should produce after the query.
 *
 * <p>The completion is the exact text that follows the query, before EOS; for TL;DR data it is
 * {@code " " + summary} (with the leading space), so the response ids are {@code encode(completion) + [eos]}.
 *
 * @param id row id
 * @param split split name
 * @param prompt what the query is built from
 * @param completion the response text before EOS
 */
public record SftExample(String id, String split, Prompt prompt, String completion) implements DataRow {

    /**
     * Checks that no part is null.
     *
     * @param id id
     * @param split split
     * @param prompt prompt
     * @param completion completion
     */
    public SftExample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(completion, "completion");
    }

    /**
     * Converts this example into an RL prompt row that keeps the completion as reference.
     *
     * @return the prompt row
     */
    public PromptRow toPromptRow() {
        return new PromptRow(id, split, prompt, completion);
    }
}
