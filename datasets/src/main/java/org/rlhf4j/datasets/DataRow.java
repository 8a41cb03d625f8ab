package org.rlhf4j.datasets;

/**
 * One parsed data row; the closed set of row kinds the parsers produce.
 *
 * <p>Standard rows hold text; conversational rows ({@link Conversation}, {@link ChatExample}, {@link ChatPair}, and
 * a {@link PromptRow} whose prompt is a {@link Prompt.Chat}) hold messages that a chat template renders.
 *
 * <p>Every row knows its id (from the data, or {@code file:line} when the data has none), its split (from the
 * data, or from the file name) and the prompt its query is built from.
 */
public sealed interface DataRow permits TldrPost, Comparison, PreferencePair, SftExample, PromptRow, Conversation,
        ChatExample, ChatPair {

    /**
     * Returns the row id.
     *
     * @return the id from the data, or {@code file:line} when the format has no id
     */
    String id();

    /**
     * Returns the split this row belongs to.
     *
     * @return e.g. {@code train}, {@code valid1}; CNN/DM comparisons are prefixed {@code cnndm-}
     */
    String split();

    /**
     * Returns what the query is built from.
     *
     * @return the prompt
     */
    Prompt prompt();
}
