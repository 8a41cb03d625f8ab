package org.rlhf4j.datasets;

import java.util.Objects;

/**
 * A preference pair: a prompt with a preferred and a dispreferred response.
 *
 * <p>Responses are the exact texts that follow the query, before EOS (for TL;DR data they begin with a space, as in
 * OpenAI's comparison files); a CarperAI {@code "TL;DR: "} prefix has already been removed.
 *
 * @param id row id
 * @param split split name
 * @param prompt what the query is built from
 * @param chosen the preferred response text
 * @param rejected the dispreferred response text
 */
public record PreferencePair(String id, String split, Prompt prompt, String chosen, String rejected)
        implements DataRow {

    /**
     * Checks that no part is null.
     *
     * @param id id
     * @param split split
     * @param prompt prompt
     * @param chosen chosen response
     * @param rejected rejected response
     */
    public PreferencePair {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
    }

    /**
     * Returns the prompt alone, as an RL prompt row whose reference is the chosen response.
     *
     * @return the prompt row
     */
    public PromptRow toPromptRow() {
        return new PromptRow(id, split, prompt, chosen);
    }
}
