package org.rlhf4j.core.tokenizer;

import java.util.List;

/**
 * A rendered conversation with the character ranges of its {@code {% generation %}} blocks: what transformers'
 * {@code apply_chat_template(..., return_assistant_tokens_mask=True)} turns into the assistant mask (tokens whose
 * characters fall in a span are the model's own).
 *
 * @param text the rendered text
 * @param assistantSpans the generation blocks in render order, as {@code text.substring(start, end)} ranges (Java
 *     {@code char} indices; transformers reports Python code-point indices, which differ after astral characters
 *     such as emoji)
 */
public record RenderedChat(String text, List<Span> assistantSpans) {

    /**
     * One generation block.
     *
     * @param start first character (inclusive)
     * @param end last character (exclusive)
     */
    public record Span(int start, int end) {

        /**
         * Checks the bounds.
         *
         * @param start first character
         * @param end end
         */
        public Span {
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("bad span [" + start + ", " + end + ")");
            }
        }
    }

    /**
     * Copies the span list.
     *
     * @param text the text
     * @param assistantSpans the spans
     */
    public RenderedChat {
        assistantSpans = List.copyOf(assistantSpans);
        for (Span s : assistantSpans) {
            if (s.end() > text.length()) {
                throw new IllegalArgumentException("span " + s + " beyond the text (" + text.length() + " chars)");
            }
        }
    }
}
