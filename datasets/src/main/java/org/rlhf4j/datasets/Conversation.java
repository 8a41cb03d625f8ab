package org.rlhf4j.datasets;

import java.util.List;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.ChatMessage;

/**
 * A conversational language-modelling row, TRL's {@code {"messages": [...]}}: a whole conversation whose assistant
 * turns are trained on (TRL's {@code assistant_only_loss}).
 *
 * @param id row id
 * @param split split name
 * @param messages the conversation, with at least one assistant message
 */
public record Conversation(String id, String split, List<ChatMessage> messages) implements DataRow {

    /**
     * Checks and copies the parts.
     *
     * @param id id
     * @param split split
     * @param messages messages
     */
    public Conversation {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        messages = List.copyOf(messages);
        if (firstAssistant(messages) < 0) {
            throw new IllegalArgumentException("a conversation needs an assistant message, got roles "
                    + messages.stream().map(ChatMessage::role).toList());
        }
    }

    /**
     * Returns the messages before the first assistant message.
     *
     * @return the prompt, as a {@link Prompt.Chat}
     */
    @Override
    public Prompt prompt() {
        return new Prompt.Chat(messages.subList(0, firstAssistant(messages)));
    }

    /**
     * Returns the index of the first assistant message.
     *
     * @param messages messages
     * @return the index, or -1 when there is none
     */
    static int firstAssistant(List<ChatMessage> messages) {
        for (int i = 0; i < messages.size(); i++) {
            if (ChatMessage.ASSISTANT.equals(messages.get(i).role())) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Returns the index of the first assistant message.
     *
     * @return the index (at least one exists)
     */
    public int firstAssistant() {
        return firstAssistant(messages);
    }
}
