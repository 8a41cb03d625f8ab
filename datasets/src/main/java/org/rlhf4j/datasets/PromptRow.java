package org.rlhf4j.datasets;

import java.util.Objects;
import java.util.Optional;

/**
 * A prompt for reinforcement learning, with an optional reference response (the DR-PO reset source).
 *
 * @param id row id
 * @param split split name
 * @param prompt what the query is built from
 * @param reference the reference response text before EOS, or null when the data has none
 */
public record PromptRow(String id, String split, Prompt prompt, String reference) implements DataRow {

    /**
     * Checks that the required parts are not null.
     *
     * @param id id
     * @param split split
     * @param prompt prompt
     * @param reference reference, may be null
     */
    public PromptRow {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(prompt, "prompt");
    }

    /**
     * Returns the reference response, if any.
     *
     * @return the reference text
     */
    public Optional<String> optReference() {
        return Optional.ofNullable(reference);
    }
}
