package org.rlhf4j.datasets;

import java.util.List;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.ChatMessage;

/**
 * A conversational preference row, TRL's {@code {"prompt": [...], "chosen": [...], "rejected": [...]}} (an implicit
 * prompt has already been extracted from the shared leading messages of {@code chosen} and {@code rejected}).
 *
 * @param id row id
 * @param split split name
 * @param promptMessages the prompt (non-empty; its last message is a user or tool message)
 * @param chosen the preferred continuation (non-empty)
 * @param rejected the dispreferred continuation (non-empty)
 */
public record ChatPair(String id, String split, List<ChatMessage> promptMessages, List<ChatMessage> chosen,
        List<ChatMessage> rejected) implements DataRow {

    /**
     * Checks and copies the parts.
     *
     * @param id id
     * @param split split
     * @param promptMessages prompt
     * @param chosen chosen
     * @param rejected rejected
     */
    public ChatPair {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        promptMessages = List.copyOf(promptMessages);
        chosen = List.copyOf(chosen);
        rejected = List.copyOf(rejected);
        if (promptMessages.isEmpty() || chosen.isEmpty() || rejected.isEmpty()) {
            throw new IllegalArgumentException("prompt, chosen and rejected must not be empty, got "
                    + promptMessages.size() + ", " + chosen.size() + " and " + rejected.size() + " messages");
        }
    }

    /** {@inheritDoc} */
    @Override
    public Prompt prompt() {
        return new Prompt.Chat(promptMessages);
    }
}
