package org.rlhf4j.datasets;

import java.util.List;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.ChatMessage;

/**
 * A conversational prompt-completion row, TRL's {@code {"prompt": [...], "completion": [...]}}: the model is trained on
 * the completion's tokens only (TRL's {@code completion_only_loss}).
 *
 * @param id row id
 * @param split split name
 * @param promptMessages the prompt (non-empty; its last message is a user or tool message)
 * @param completion the completion messages (non-empty)
 */
public record ChatExample(String id, String split, List<ChatMessage> promptMessages, List<ChatMessage> completion)
        implements DataRow {

    /**
     * Checks and copies the parts.
     *
     * @param id id
     * @param split split
     * @param promptMessages prompt
     * @param completion completion
     */
    public ChatExample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        promptMessages = List.copyOf(promptMessages);
        completion = List.copyOf(completion);
        if (promptMessages.isEmpty() || completion.isEmpty()) {
            throw new IllegalArgumentException("prompt and completion must not be empty, got " + promptMessages.size()
                    + " and " + completion.size() + " messages");
        }
    }

    /** {@inheritDoc} */
    @Override
    public Prompt prompt() {
        return new Prompt.Chat(promptMessages);
    }
}
