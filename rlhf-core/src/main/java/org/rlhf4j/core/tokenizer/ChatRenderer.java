package org.rlhf4j.core.tokenizer;

import java.util.List;

/**
 * Renders a conversation to the exact text a chat model was trained on, as transformers'
 * {@code tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} does.
 *
 * <p>The text includes the template's special tokens (e.g. {@code <|im_start|>}), so it is tokenized without adding
 * special tokens again.
 */
@FunctionalInterface
public interface ChatRenderer {

    /**
     * Renders a conversation.
     *
     * @param messages the messages, in order
     * @param addGenerationPrompt whether to end with the header that opens an assistant turn
     * @return the rendered text
     * @throws ChatTemplateException when the template raises an error for these messages (its message is kept)
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);
}
