package org.rlhf4j.core.tokenizer;

import java.util.Objects;

/**
 * One message of a conversation, as in Hugging Face's chat format: {@code {"role": "user", "content": "..."}}.
 *
 * @param role the speaker ({@code system}, {@code user}, {@code assistant}, or a template-specific role)
 * @param content the text
 */
public record ChatMessage(String role, String content) {

    /** The role of the model's own turns, whose tokens assistant-only losses train on. */
    public static final String ASSISTANT = "assistant";

    /** The role of the human turns. */
    public static final String USER = "user";

    /** The role of the system prompt. */
    public static final String SYSTEM = "system";

    /**
     * Checks that both fields are present.
     *
     * @param role the speaker
     * @param content the text
     */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) {
            throw new IllegalArgumentException("role is blank");
        }
    }

    /**
     * Creates a user message.
     *
     * @param content the text
     * @return the message
     */
    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    /**
     * Creates an assistant message.
     *
     * @param content the text
     * @return the message
     */
    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }

    /**
     * Creates a system message.
     *
     * @param content the text
     * @return the message
     */
    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }
}
