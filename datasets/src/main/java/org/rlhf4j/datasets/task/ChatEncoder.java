package org.rlhf4j.datasets.task;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.ChatTemplateException;
import org.rlhf4j.core.tokenizer.GenerationSpanRenderer;
import org.rlhf4j.core.tokenizer.GenerationSpanRenderer.Span;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * Renders conversational rows through a chat template and tokenizes them, as TRL does.
 *
 * <ul>
 *   <li>A prompt is {@code render(prompt, addGenerationPrompt=true)} (TRL {@code data_utils.apply_chat_template}).
 *   <li>A completion (or chosen / rejected) is {@code render(prompt + completion)} with the rendered prompt removed
 *       from its front; when the rendered prompt is not a prefix of it the row is an error (TRL silently keeps the
 *       common prefix instead, see {@code docs/decisions/0017-conversational-data.md}).
 *   <li>The assistant turns of a whole conversation are the character spans
 *       {@code [len(render(m[:i], true)), len(render(m[:i+1])))} for each assistant message i (what the model writes
 *       after its generation prompt, end-of-turn included), or the template's {@code {% generation %}} blocks when the
 *       renderer is a {@link GenerationSpanRenderer} that reports some.
 *   <li>Rendered text already holds the template's special tokens: it is encoded as it is ({@link Tokenizer} never
 *       adds special tokens), and no EOS is appended.
 *   <li>Text is tokenized piecewise at the turn boundaries (query, then each turn or gap), so every token belongs to
 *       exactly one piece and the loss mask is exact; the pieces are what generation sees (a prompt encoded alone,
 *       then the answer).
 * </ul>
 */
public final class ChatEncoder {

    private final ChatRenderer renderer;
    private final Tokenizer tokenizer;

    /**
     * Creates an encoder.
     *
     * @param renderer the model's chat template
     * @param tokenizer the model's tokenizer (not closed here)
     */
    public ChatEncoder(ChatRenderer renderer, Tokenizer tokenizer) {
        this.renderer = Objects.requireNonNull(renderer, "renderer");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /**
     * Returns the renderer.
     *
     * @return the chat template
     */
    public ChatRenderer renderer() {
        return renderer;
    }

    /**
     * Renders a prompt with the generation prompt appended.
     *
     * @param prompt the prompt messages
     * @param field the field named in errors
     * @return {@code render(prompt, true)}
     * @throws ChatRowException when the template fails
     */
    public String renderPrompt(List<ChatMessage> prompt, String field) {
        return render(prompt, true, field);
    }

    /**
     * Renders a completion after a prompt: {@code render(prompt + completion)} minus the rendered prompt.
     *
     * @param prompt the prompt messages
     * @param renderedPrompt {@link #renderPrompt} of them
     * @param completion the completion messages
     * @param field the field named in errors (e.g. {@code chosen})
     * @return the completion text (non-empty)
     * @throws ChatRowException when the template fails, or the rendered prompt is not a prefix of the whole
     */
    public String renderCompletion(List<ChatMessage> prompt, String renderedPrompt, List<ChatMessage> completion,
            String field) {
        List<ChatMessage> all = new ArrayList<>(prompt);
        all.addAll(completion);
        String full = render(all, false, field);
        // trl data_utils.apply_chat_template: completion = prompt_completion[len(prompt):]
        if (!full.startsWith(renderedPrompt)) {
            throw new ChatRowException(field, "the chat template renders the prompt (with its generation prompt) "
                    + "differently from the start of prompt + " + field + ": " + firstDifference(renderedPrompt, full),
                    null);
        }
        String text = full.substring(renderedPrompt.length());
        if (text.isEmpty()) {
            throw new ChatRowException(field, "the chat template renders nothing after the prompt", null);
        }
        return text;
    }

    /**
     * A rendered conversation with its assistant turns.
     *
     * @param text the rendered conversation
     * @param assistant the assistant turns as character spans of {@code text}, in order and disjoint
     */
    public record Turns(String text, List<Span> assistant) {

        /**
         * Copies the spans.
         *
         * @param text text
         * @param assistant spans
         */
        public Turns {
            Objects.requireNonNull(text, "text");
            assistant = List.copyOf(assistant);
        }
    }

    /**
     * Renders a conversation and finds its assistant turns: the renderer's generation blocks when it reports some,
     * else for each assistant message i the span from {@code len(render(m[:i], true))} to
     * {@code len(render(m[:i+1], false))}, both renderings being prefixes of the whole conversation.
     *
     * @param messages the conversation
     * @param field the field named in errors
     * @return the text and the spans
     * @throws ChatRowException when the template fails or does not render prefixes of the conversation as its
     *     prefixes
     */
    public Turns assistantTurns(List<ChatMessage> messages, String field) {
        if (renderer instanceof GenerationSpanRenderer g) {
            GenerationSpanRenderer.Rendered r;
            try {
                r = g.renderWithGenerationSpans(messages, false);
            } catch (ChatTemplateException e) {
                throw new ChatRowException(field, "chat template: " + e.getMessage(), e);
            }
            if (!r.generation().isEmpty()) {
                return new Turns(r.text(), r.generation());
            }
        }
        String full = render(messages, false, field);
        List<Span> spans = new ArrayList<>();
        int previousEnd = 0;
        for (int i = 0; i < messages.size(); i++) {
            if (!ChatMessage.ASSISTANT.equals(messages.get(i).role())) {
                continue;
            }
            String before = render(messages.subList(0, i), true, field);
            String through = render(messages.subList(0, i + 1), false, field);
            if (!through.startsWith(before) || !full.startsWith(through)) {
                String diff = !through.startsWith(before) ? firstDifference(before, through)
                        : firstDifference(through, full);
                throw new ChatRowException(field + "[" + i + "]", "the chat template does not render the"
                        + " conversation up to this assistant message as a prefix of the whole conversation, so the"
                        + " assistant turn cannot be located: " + diff, null);
            }
            if (before.length() < previousEnd) {
                throw new ChatRowException(field + "[" + i + "]", "assistant turns overlap in the rendered text", null);
            }
            spans.add(new Span(before.length(), through.length()));
            previousEnd = through.length();
        }
        return new Turns(full, spans);
    }

    /**
     * Token ids of a rendered conversation split into a query (everything before the first assistant turn) and a
     * response (the rest) with its loss mask.
     *
     * @param query the query ids (non-empty)
     * @param response the response ids (non-empty)
     * @param mask 1 for the response tokens of assistant turns, 0 for the others; same length as {@code response}
     */
    public record Tokens(int[] query, int[] response, int[] mask) {}

    /**
     * Tokenizes a rendered conversation piecewise at its assistant turns.
     *
     * @param turns the conversation and its assistant turns
     * @param field the field named in errors
     * @return query, response and mask
     * @throws ChatRowException when nothing comes before the first turn or the turns have no tokens
     */
    public Tokens tokenize(Turns turns, String field) {
        String text = turns.text();
        List<Span> spans = turns.assistant();
        if (spans.isEmpty()) {
            throw new ChatRowException(field, "the rendered conversation has no assistant turn", null);
        }
        int[] query = tokenizer.encode(text.substring(0, spans.get(0).start()));
        if (query.length == 0) {
            throw new ChatRowException(field, "the chat template renders nothing before the first assistant turn, so"
                    + " the query would be empty", null);
        }
        IntList ids = new IntList();
        IntList mask = new IntList();
        int at = spans.get(0).start();
        for (Span s : spans) {
            append(ids, mask, text.substring(at, s.start()), 0);
            append(ids, mask, text.substring(s.start(), s.end()), 1);
            at = s.end();
        }
        append(ids, mask, text.substring(at), 0);
        int[] m = mask.toArray();
        if (java.util.Arrays.stream(m).sum() == 0) {
            throw new ChatRowException(field, "the assistant turns render to no tokens", null);
        }
        return new Tokens(query, ids.toArray(), m);
    }

    private void append(IntList ids, IntList mask, String piece, int bit) {
        if (piece.isEmpty()) {
            return;
        }
        for (int id : tokenizer.encode(piece)) {
            ids.add(id);
            mask.add(bit);
        }
    }

    private String render(List<ChatMessage> messages, boolean addGenerationPrompt, String field) {
        try {
            return renderer.render(messages, addGenerationPrompt);
        } catch (ChatTemplateException e) {
            throw new ChatRowException(field, "chat template: " + e.getMessage(), e);
        }
    }

    /** Describes where two renderings part, e.g. {@code at character 12: "<|im_start|>as" vs "<|im_start|>us"}. */
    static String firstDifference(String a, String b) {
        int i = 0;
        int n = Math.min(a.length(), b.length());
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        int from = Math.max(0, i - 20);
        return "they differ at character " + i + ": \"" + escape(a.substring(from, Math.min(a.length(), i + 20)))
                + "\" vs \"" + escape(b.substring(from, Math.min(b.length(), i + 20))) + "\"";
    }

    private static String escape(String s) {
        return s.replace("\n", "\\n");
    }

    /** A growable int array. */
    private static final class IntList {
        private int[] a = new int[64];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
