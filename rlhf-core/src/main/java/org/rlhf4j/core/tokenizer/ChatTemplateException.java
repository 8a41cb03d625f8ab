package org.rlhf4j.core.tokenizer;

/**
 * Thrown when a chat template cannot render a conversation: the template called {@code raise_exception(message)}
 * (the message is kept as is), or the template itself is malformed.
 */
public class ChatTemplateException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what went wrong (for {@code raise_exception}, the template's own message)
     */
    public ChatTemplateException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what went wrong
     * @param cause the engine's error
     */
    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
