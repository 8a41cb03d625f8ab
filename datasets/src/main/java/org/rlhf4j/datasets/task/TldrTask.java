package org.rlhf4j.datasets.task;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.ChatExample;
import org.rlhf4j.datasets.ChatPair;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.Conversation;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.TldrPost;

/**
 * Formats and tokenizes TL;DR rows exactly as the references do.
 *
 * <p>Query: {@code "SUBREDDIT: r/{subreddit}\n\nTITLE: {title}\n\nPOST: {post}\n\nTL;DR:"}. While the query has more
 * than {@link TaskConfig#maxQueryTokens()} tokens, the post is cut before its last newline (the newline and
 * everything after it go); once the post has no newline left it is cut before its last whitespace character, and
 * once it has no whitespace either, its last character is dropped. A query that still does not fit with an empty
 * post is rejected ({@link SkipReason#QUERY_TOO_LONG}). CNN/DM articles use {@code "Article:\n{article}\n\nTL;DR:\n"}
 * and the same rule; raw prompts are never cut. Responses are {@code encode(text) + [eos]} where text is
 * {@code " " + summary} for TL;DR posts and the file's text for comparisons; a response longer than its limit is
 * rejected ({@link SkipReason#RESPONSE_TOO_LONG}), never truncated.
 *
 * <p>The reference implementation (summarize_from_feedback_details) drops one character at a time once no newline is
 * left; cutting at whitespace gives the same queries whenever the post has paragraphs, avoids cutting words, and needs
 * far fewer tokenizer calls. The rule is applied without encoding every cut in turn (a search skips the cuts that are
 * far too long), so a long post costs a few encodings, not one per removed word. The tokenizer is shared, not owned:
 * closing it is the caller's job.
 *
 * <p>With a chat template ({@link Builder#optChatRenderer}) the task also encodes TRL's conversational rows through
 * a {@link ChatEncoder}: prompts are rendered with the generation prompt and never truncated, completions are the
 * rest of {@code render(prompt + completion)}, whole conversations get a loss mask on their assistant turns; no EOS
 * is appended to rendered text (the template ends each turn). With {@link Builder#optChatPrompts} every
 * standard prompt too becomes one user message (the formatted, truncated query) and every response an assistant
 * message (its leading whitespace removed), for instruction-tuned models; truncation then counts the rendered tokens.
 */
public final class TldrTask {

    /**
     * How many tokens over the limit the truncation search stays before it takes the remaining cuts one at a time
     * (see {@link #encodeQuery}).
     */
    static final int SEARCH_MARGIN = 32;

    private final Tokenizer tokenizer;
    private final TaskConfig config;
    private final int eos;
    private final ChatEncoder chat;
    private final boolean chatPrompts;

    /**
     * Creates a task formatter.
     *
     * @param tokenizer the tokenizer (e.g. GPT-2's; not closed by this class)
     * @param config the limits
     */
    public TldrTask(Tokenizer tokenizer, TaskConfig config) {
        this(tokenizer, config, null, false);
    }

    private TldrTask(Tokenizer tokenizer, TaskConfig config, ChatRenderer renderer, boolean chatPrompts) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.config = Objects.requireNonNull(config, "config");
        this.eos = tokenizer.eosTokenId();
        this.chat = renderer == null ? null : new ChatEncoder(renderer, tokenizer);
        this.chatPrompts = chatPrompts;
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link TldrTask}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder {
        private Tokenizer tokenizer;
        private TaskConfig config = TaskConfig.DEFAULT;
        private ChatRenderer renderer;
        private boolean chatPrompts;

        private Builder() {}

        /**
         * Sets the tokenizer (shared, not closed by the task).
         *
         * @param t the tokenizer
         * @return this
         */
        public Builder setTokenizer(Tokenizer t) {
            this.tokenizer = t;
            return this;
        }

        /**
         * Sets the token limits (default {@link TaskConfig#DEFAULT}).
         *
         * @param c the limits
         * @return this
         */
        public Builder optConfig(TaskConfig c) {
            this.config = Objects.requireNonNull(c, "config");
            return this;
        }

        /**
         * Sets the model's chat template, needed for conversational rows and {@link #optChatPrompts}.
         *
         * @param r the renderer, or null for none
         * @return this
         */
        public Builder optChatRenderer(ChatRenderer r) {
            this.renderer = r;
            return this;
        }

        /**
         * Renders standard (text) prompts as one user message through the chat template, and responses as the
         * assistant's answer (the CLI's {@code --chat}, for instruction-tuned models).
         *
         * @param on whether to
         * @return this
         */
        public Builder optChatPrompts(boolean on) {
            this.chatPrompts = on;
            return this;
        }

        /**
         * Builds the task.
         *
         * @return the task
         * @throws IllegalArgumentException when the tokenizer is missing, or chat prompts are asked for without a
         *     chat template
         */
        public TldrTask build() {
            if (tokenizer == null) {
                throw new IllegalArgumentException("tokenizer is required");
            }
            if (chatPrompts && renderer == null) {
                throw new IllegalArgumentException("chat prompts need a chat template (optChatRenderer)");
            }
            return new TldrTask(tokenizer, config, renderer, chatPrompts);
        }
    }

    /**
     * Returns the chat encoder, when the task has a chat template.
     *
     * @return the encoder
     */
    public Optional<ChatEncoder> chat() {
        return Optional.ofNullable(chat);
    }

    /**
     * Returns whether standard prompts are rendered as a user message ({@link Builder#optChatPrompts}).
     *
     * @return true with {@code --chat}
     */
    public boolean chatPrompts() {
        return chatPrompts;
    }

    /**
     * Returns the limits.
     *
     * @return the config
     */
    public TaskConfig config() {
        return config;
    }

    /**
     * Returns the tokenizer.
     *
     * @return the tokenizer
     */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Formats and tokenizes a query, truncating the post (or article) to fit the budget.
     *
     * @param prompt the prompt
     * @return the query
     * @throws TaskLimitException when it cannot be made to fit
     */
    public EncodedQuery encodeQuery(Prompt prompt) {
        if (prompt instanceof Prompt.Chat || chatPrompts) {
            return chatQuery(prompt).query();
        }
        if (prompt instanceof Prompt.Reddit r) {
            return truncate(r.post(), r::format, config.maxQueryTokens(), "post");
        }
        if (prompt instanceof Prompt.Article a) {
            return truncate(a.article(), a::format, config.maxCnnDmQueryTokens(), "article");
        }
        String text = prompt.text();
        int[] ids = tokenizer.encode(text);
        if (ids.length > config.maxQueryTokens()) {
            throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, "prompt",
                    "query has " + ids.length + " tokens, limit " + config.maxQueryTokens()
                            + " (raw prompts are not truncated)");
        }
        return new EncodedQuery(text, ids, false);
    }

    /**
     * Applies the truncation rule: the first of the successive {@link #cut}s of the body whose query fits.
     *
     * <p>Encoding every cut in turn, as the rule is stated, costs one encoding of the whole query per removed word: a
     * 100 KB single-paragraph post took minutes. Instead the cuts' lengths are listed once (linear); a search
     * (galloping from an estimate of the answer, then bisection) finds a cut with more than {@code max +}
     * {@value #SEARCH_MARGIN} tokens beyond which the next cut has at most that many; and from there the cuts are
     * encoded one by one, as the rule says, until one fits. That is a full encoding of the post plus O(log n)
     * encodings of about the answer's length. The result is the step-by-step rule's as long as a longer cut never has
     * more than {@value #SEARCH_MARGIN} tokens fewer than a shorter one: BPE token counts can drop as text is added,
     * but by a token or two (a word cut in the middle), never by dozens.
     */
    private EncodedQuery truncate(String body, java.util.function.UnaryOperator<String> format, int max,
            String field) {
        String text = format.apply(body);
        int[] ids = tokenizer.encode(text);
        if (ids.length <= max) {
            return new EncodedQuery(text, ids, false);
        }
        int full = ids.length;
        int[] cuts = cutLengths(body);
        int last = cuts.length - 1;
        if (last == 0) {
            throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, field,
                    "query has " + full + " tokens and still " + full + " with the " + field + " removed, limit " + max);
        }
        java.util.Map<Integer, EncodedQuery> seen = new java.util.HashMap<>();
        java.util.function.IntFunction<EncodedQuery> query = k -> seen.computeIfAbsent(k, i -> {
            String t = format.apply(body.substring(0, cuts[i]));
            return new EncodedQuery(t, tokenizer.encode(t), true);
        });
        long bound = (long) max + SEARCH_MARGIN;
        // far: the cuts up to it are taken not to fit (cut 0 is known not to); near: at most bound tokens, or the last
        int far = 0;
        int near;
        int start = firstAtMost(cuts, (long) body.length() * max / full); // where the post's token density says
        start = Math.max(1, Math.min(start, last));
        if (query.apply(start).length() > bound) {
            far = start;
            near = last;
            for (long step = 1; far < last; step *= 2) {
                int k = (int) Math.min(far + step, last);
                if (k == last || query.apply(k).length() <= bound) {
                    near = k;
                    break;
                }
                far = k;
            }
        } else {
            near = start;
            for (long step = 1; near > 1; step *= 2) {
                int k = (int) Math.max(near - step, 1);
                if (query.apply(k).length() > bound) {
                    far = k;
                    break;
                }
                near = k;
            }
        }
        while (near - far > 1) {
            int mid = (far + near) >>> 1;
            if (query.apply(mid).length() > bound) {
                far = mid;
            } else {
                near = mid;
            }
        }
        for (int k = far + 1; k <= last; k++) {
            EncodedQuery q = query.apply(k);
            if (q.length() <= max) {
                return q;
            }
        }
        throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, field,
                "query has " + full + " tokens and still " + query.apply(last).length() + " with the " + field
                        + " removed, limit " + max);
    }

    /** Returns the first index of a strictly decreasing array whose element is at most a value (or its length). */
    private static int firstAtMost(int[] decreasing, long value) {
        int lo = 0;
        int hi = decreasing.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (decreasing[mid] <= value) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /**
     * Lists the lengths of the successive {@link #cut}s of a body, in linear time: element 0 is the body's length,
     * element i+1 the length of {@code cut} applied to the prefix of element i's length, the last element 0.
     *
     * @param body the post
     * @return the strictly decreasing prefix lengths
     */
    static int[] cutLengths(String body) {
        int[] out = new int[16];
        int n = 0;
        int len = body.length();
        out[n++] = len;
        // before the last newline, while there is one (each search starts below the previous cut)
        int nl;
        while (len > 0 && (nl = body.lastIndexOf('\n', len - 1)) >= 0) {
            len = nl;
            out = add(out, n++, len);
        }
        // then before the last whitespace character
        for (int i = len - 1; i >= 0; i--) {
            if (Character.isWhitespace(body.charAt(i))) {
                len = i;
                out = add(out, n++, len);
            }
        }
        // then by one code point
        while (len > 0) {
            len = body.offsetByCodePoints(len, -1);
            out = add(out, n++, len);
        }
        return Arrays.copyOf(out, n);
    }

    private static int[] add(int[] a, int at, int v) {
        int[] out = at == a.length ? Arrays.copyOf(a, a.length * 2) : a;
        out[at] = v;
        return out;
    }

    /**
     * Shortens a post by one truncation step: before its last newline, else before its last whitespace, else by its
     * last code point.
     *
     * @param body the post
     * @return the shorter post
     */
    public static String cut(String body) {
        int nl = body.lastIndexOf('\n');
        if (nl >= 0) {
            return body.substring(0, nl);
        }
        for (int i = body.length() - 1; i >= 0; i--) {
            if (Character.isWhitespace(body.charAt(i))) {
                return body.substring(0, i);
            }
        }
        return body.substring(0, body.offsetByCodePoints(body.length(), -1));
    }

    /** A query rendered through the chat template, with the messages it was rendered from. */
    private record ChatQuery(EncodedQuery query, List<ChatMessage> messages) {}

    /**
     * Renders a prompt through the chat template: a conversational prompt as it is (never truncated), a standard
     * one (with {@code --chat}) as one user message holding its formatted query, truncated so that the rendered
     * query fits.
     */
    private ChatQuery chatQuery(Prompt prompt) {
        ChatEncoder c = requireChat("prompt");
        if (prompt instanceof Prompt.Chat ch) {
            String text = c.renderPrompt(ch.messages(), "prompt");
            int[] ids = tokenizer.encode(text);
            if (ids.length > config.maxQueryTokens()) {
                throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, "prompt", "query has " + ids.length
                        + " tokens, limit " + config.maxQueryTokens() + " (conversational prompts are not truncated)");
            }
            return new ChatQuery(new EncodedQuery(text, ids, false), ch.messages());
        }
        Map<String, String> userText = new HashMap<>();
        UnaryOperator<String> asUser = u -> {
            String t = c.renderPrompt(List.of(ChatMessage.user(u)), "prompt");
            userText.put(t, u);
            return t;
        };
        EncodedQuery q;
        if (prompt instanceof Prompt.Reddit r) {
            q = truncate(r.post(), b -> asUser.apply(r.format(b)), config.maxQueryTokens(), "post");
        } else if (prompt instanceof Prompt.Article a) {
            q = truncate(a.article(), b -> asUser.apply(a.format(b)), config.maxCnnDmQueryTokens(), "article");
        } else {
            String text = asUser.apply(prompt.text());
            int[] ids = tokenizer.encode(text);
            if (ids.length > config.maxQueryTokens()) {
                throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, "prompt", "query has " + ids.length
                        + " tokens, limit " + config.maxQueryTokens() + " (raw prompts are not truncated)");
            }
            q = new EncodedQuery(text, ids, false);
        }
        return new ChatQuery(q, List.of(ChatMessage.user(userText.get(q.text()))));
    }

    /**
     * Renders and tokenizes a completion after a rendered prompt; no EOS is appended (the template ends the turn).
     */
    private int[] chatResponse(ChatQuery q, List<ChatMessage> completion, int limit, String field) {
        String text = requireChat(field).renderCompletion(q.messages(), q.query().text(), completion, field);
        int[] ids = tokenizer.encode(text);
        if (ids.length > limit) {
            throw new TaskLimitException(SkipReason.RESPONSE_TOO_LONG, field, "response has " + ids.length
                    + " tokens (the chat template's end of turn included), limit " + limit);
        }
        return ids;
    }

    /** A standard response as the assistant's answer (with {@code --chat}): its leading whitespace removed. */
    private static List<ChatMessage> asAssistant(String response) {
        return List.of(ChatMessage.assistant(response.stripLeading()));
    }

    private boolean usesChat(Prompt prompt) {
        return chatPrompts || prompt instanceof Prompt.Chat;
    }

    private ChatEncoder requireChat(String field) {
        if (chat == null) {
            throw new ChatRowException(field, "conversational rows (and --chat) need the model's chat template, and"
                    + " none was given", null);
        }
        return chat;
    }

    /**
     * Encodes a conversational prompt-completion row: query {@code render(prompt, true)}, response the rendered
     * completion, all of whose tokens carry loss (TRL's {@code completion_only_loss}).
     *
     * @param example the row
     * @return the sample
     * @throws TaskLimitException when the query or the response does not fit
     * @throws ChatRowException when the template cannot render the row
     */
    public Encoded.Sft encodeSft(ChatExample example) {
        ChatQuery q = chatQuery(example.prompt());
        return new Encoded.Sft(example.id(), q.query(),
                chatResponse(q, example.completion(), config.maxSftResponseTokens(), "completion"));
    }

    /**
     * Encodes a whole conversation: the query is everything rendered before the first assistant turn, the response
     * the rest, and only the assistant turns' tokens carry loss (TRL's {@code assistant_only_loss}; see
     * {@link ChatEncoder#assistantTurns}). The response (from the first assistant turn to the end) must fit the SFT
     * response limit.
     *
     * @param conversation the row
     * @return the sample with its loss mask
     * @throws TaskLimitException when the query or the response does not fit
     * @throws ChatRowException when the template cannot render the row
     */
    public Encoded.Sft encodeSft(Conversation conversation) {
        ChatEncoder c = requireChat("messages");
        ChatEncoder.Turns turns = c.assistantTurns(conversation.messages(), "messages");
        ChatEncoder.Tokens t = c.tokenize(turns, "messages");
        if (t.query().length > config.maxQueryTokens()) {
            throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, "messages", "query (before the first assistant"
                    + " turn) has " + t.query().length + " tokens, limit " + config.maxQueryTokens()
                    + " (conversations are not truncated)");
        }
        if (t.response().length > config.maxSftResponseTokens()) {
            throw new TaskLimitException(SkipReason.RESPONSE_TOO_LONG, "messages", "response (from the first"
                    + " assistant turn on) has " + t.response().length + " tokens, limit "
                    + config.maxSftResponseTokens());
        }
        String queryText = turns.text().substring(0, turns.assistant().get(0).start());
        return new Encoded.Sft(conversation.id(), new EncodedQuery(queryText, t.query(), false), t.response(),
                t.mask());
    }

    /**
     * Encodes a conversational preference row: query {@code render(prompt, true)}, chosen and rejected rendered
     * after it, within the RM response limit.
     *
     * @param pair the row
     * @return the sample
     * @throws TaskLimitException when the query or a response does not fit
     * @throws ChatRowException when the template cannot render the row
     */
    public Encoded.Pair encodePair(ChatPair pair) {
        ChatQuery q = chatQuery(pair.prompt());
        int limit = config.maxRmResponseTokens();
        return new Encoded.Pair(pair.id(), q.query(), chatResponse(q, pair.chosen(), limit, "chosen"),
                chatResponse(q, pair.rejected(), limit, "rejected"));
    }

    /**
     * Encodes an RL prompt from any prompt-bearing row: its prompt as the query, and as reference the completion of
     * an SFT row, the chosen response of a preference row, or a conversation's first assistant turn (prompt: the
     * messages before it); a prompt-only row has no reference unless it carries one.
     *
     * @param row the row
     * @return the prompt sample
     * @throws TaskLimitException when the query or the reference does not fit
     * @throws ChatRowException when the template cannot render the row
     */
    public Encoded.PromptOnly promptSample(DataRow row) {
        if (row instanceof TldrPost p) {
            return encodePrompt(p.toSft().toPromptRow());
        }
        if (row instanceof SftExample e) {
            return encodePrompt(e.toPromptRow());
        }
        if (row instanceof PromptRow p) {
            return encodePrompt(p);
        }
        if (row instanceof PreferencePair p) {
            return encodePrompt(p.toPromptRow());
        }
        if (row instanceof Comparison c) {
            return encodePrompt(c.toPair().toPromptRow());
        }
        if (row instanceof ChatExample e) {
            return chatPrompt(e.id(), e.prompt(), e.completion(), "completion");
        }
        if (row instanceof ChatPair p) {
            return chatPrompt(p.id(), p.prompt(), p.chosen(), "chosen");
        }
        Conversation c = (Conversation) row;
        int first = c.firstAssistant();
        if (first == 0) {
            throw new ChatRowException("messages[0]", "the conversation starts with an assistant message, so it has"
                    + " no prompt", null);
        }
        return chatPrompt(c.id(), c.prompt(), List.of(c.messages().get(first)), "messages[" + first + "]");
    }

    private Encoded.PromptOnly chatPrompt(String id, Prompt prompt, List<ChatMessage> reference, String field) {
        ChatQuery q = chatQuery(prompt);
        return new Encoded.PromptOnly(id, q.query(), chatResponse(q, reference, config.maxSftResponseTokens(), field));
    }

    /**
     * Encodes an SFT sample from a row of an SFT kind: a TL;DR post, a standard or conversational prompt-completion
     * row, or a whole conversation.
     *
     * @param row the row
     * @return the sample
     * @throws IllegalArgumentException when the row is of another kind (the message names the accepted ones)
     * @throws TaskLimitException when the row does not fit the limits
     * @throws ChatRowException when the template cannot render the row
     */
    public Encoded.Sft sftSample(DataRow row) {
        if (row instanceof TldrPost p) {
            return encodeSft(p.toSft(), "summary");
        }
        if (row instanceof SftExample e) {
            return encodeSft(e);
        }
        if (row instanceof ChatExample e) {
            return encodeSft(e);
        }
        if (row instanceof Conversation c) {
            return encodeSft(c);
        }
        throw new IllegalArgumentException("expected SFT rows (openai-tldr, sft: prompt + completion, or messages),"
                + " got " + row.getClass().getSimpleName());
    }

    /**
     * Encodes a preference sample from a row of a preference kind: a comparison, or a standard or conversational
     * pair.
     *
     * @param row the row
     * @return the sample
     * @throws IllegalArgumentException when the row is of another kind (the message names the accepted ones)
     * @throws TaskLimitException when the row does not fit the limits
     * @throws ChatRowException when the template cannot render the row
     */
    public Encoded.Pair pairSample(DataRow row) {
        if (row instanceof Comparison c) {
            return encodePair(c.toPair(), "summaries[" + c.choice() + "].text",
                    "summaries[" + (1 - c.choice()) + "].text");
        }
        if (row instanceof PreferencePair p) {
            return encodePair(p);
        }
        if (row instanceof ChatPair p) {
            return encodePair(p);
        }
        throw new IllegalArgumentException("expected preference rows (openai-comparisons or pairs: [prompt,] chosen,"
                + " rejected), got " + row.getClass().getSimpleName());
    }

    /**
     * Tokenizes a response and appends EOS, rejecting it when longer than a limit.
     *
     * @param text the response text before EOS (e.g. {@code " " + summary})
     * @param limit the largest allowed length including EOS
     * @param field the field named in the error
     * @return {@code encode(text) + [eos]}
     * @throws TaskLimitException when the result is longer than {@code limit}
     */
    public int[] encodeResponse(String text, int limit, String field) {
        int[] ids = tokenizer.encode(text);
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        if (out.length > limit) {
            throw new TaskLimitException(SkipReason.RESPONSE_TOO_LONG, field,
                    "response has " + out.length + " tokens (EOS included), limit " + limit);
        }
        return out;
    }

    /**
     * Encodes an SFT example: query and {@code encode(completion) + [eos]} within the SFT limit.
     *
     * @param example the example
     * @return the sample
     * @throws TaskLimitException when the query or the response does not fit
     */
    public Encoded.Sft encodeSft(SftExample example) {
        return encodeSft(example, "completion");
    }

    private Encoded.Sft encodeSft(SftExample example, String field) {
        if (usesChat(example.prompt())) {
            ChatQuery q = chatQuery(example.prompt());
            return new Encoded.Sft(example.id(), q.query(),
                    chatResponse(q, asAssistant(example.completion()), config.maxSftResponseTokens(), field));
        }
        EncodedQuery q = encodeQuery(example.prompt());
        return new Encoded.Sft(example.id(), q,
                encodeResponse(example.completion(), config.maxSftResponseTokens(), field));
    }

    /**
     * Encodes a preference pair within the RM response limit (the CNN/DM limit for article prompts).
     *
     * @param pair the pair
     * @return the sample
     * @throws TaskLimitException when the query or a response does not fit
     */
    public Encoded.Pair encodePair(PreferencePair pair) {
        return encodePair(pair, "chosen", "rejected");
    }

    private Encoded.Pair encodePair(PreferencePair pair, String chosenField, String rejectedField) {
        int limit = pair.prompt() instanceof Prompt.Article
                ? config.maxCnnDmResponseTokens()
                : config.maxRmResponseTokens();
        if (usesChat(pair.prompt())) {
            ChatQuery q = chatQuery(pair.prompt());
            return new Encoded.Pair(pair.id(), q.query(), chatResponse(q, asAssistant(pair.chosen()), limit,
                    chosenField), chatResponse(q, asAssistant(pair.rejected()), limit, rejectedField));
        }
        EncodedQuery q = encodeQuery(pair.prompt());
        return new Encoded.Pair(pair.id(), q, encodeResponse(pair.chosen(), limit, chosenField),
                encodeResponse(pair.rejected(), limit, rejectedField));
    }

    /**
     * Encodes an RL prompt; its reference, if any, must fit the SFT response limit.
     *
     * @param row the prompt row
     * @return the sample
     * @throws TaskLimitException when the query or the reference does not fit
     */
    public Encoded.PromptOnly encodePrompt(PromptRow row) {
        if (usesChat(row.prompt())) {
            ChatQuery q = chatQuery(row.prompt());
            int[] ref = row.reference() == null ? null
                    : chatResponse(q, asAssistant(row.reference()), config.maxSftResponseTokens(), "reference");
            return new Encoded.PromptOnly(row.id(), q.query(), ref);
        }
        EncodedQuery q = encodeQuery(row.prompt());
        int[] ref = row.reference() == null
                ? null
                : encodeResponse(row.reference(), config.maxSftResponseTokens(), "reference");
        return new Encoded.PromptOnly(row.id(), q, ref);
    }

    /**
     * Encodes any row: TL;DR posts as SFT samples, comparisons as pairs (errors name {@code summary} and
     * {@code summaries[i].text}), and the generic and conversational rows by kind.
     *
     * @param row the row
     * @return the encoded row
     * @throws TaskLimitException when the row does not fit the limits
     */
    public Encoded encode(DataRow row) {
        if (row instanceof TldrPost p) {
            return encodeSft(p.toSft(), "summary");
        }
        if (row instanceof Comparison c) {
            return encodePair(c.toPair(), "summaries[" + c.choice() + "].text",
                    "summaries[" + (1 - c.choice()) + "].text");
        }
        if (row instanceof PreferencePair p) {
            return encodePair(p);
        }
        if (row instanceof SftExample s) {
            return encodeSft(s);
        }
        if (row instanceof ChatExample || row instanceof Conversation) {
            return sftSample(row);
        }
        if (row instanceof ChatPair p) {
            return encodePair(p);
        }
        return encodePrompt((PromptRow) row);
    }
}
