package org.rlhf4j.datasets.task;

import java.util.Arrays;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.Comparison;
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
 * far fewer tokenizer calls. The tokenizer is shared, not owned: closing it is the caller's job.
 */
public final class TldrTask {

    private final Tokenizer tokenizer;
    private final TaskConfig config;
    private final int eos;

    /**
     * Creates a task formatter.
     *
     * @param tokenizer the tokenizer (e.g. GPT-2's; not closed by this class)
     * @param config the limits
     */
    public TldrTask(Tokenizer tokenizer, TaskConfig config) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.config = Objects.requireNonNull(config, "config");
        this.eos = tokenizer.eosTokenId();
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

    private EncodedQuery truncate(String body, java.util.function.UnaryOperator<String> format, int max,
            String field) {
        String text = format.apply(body);
        int[] ids = tokenizer.encode(text);
        int full = ids.length;
        boolean truncated = false;
        while (ids.length > max) {
            if (body.isEmpty()) {
                throw new TaskLimitException(SkipReason.QUERY_TOO_LONG, field,
                        "query has " + full + " tokens and still " + ids.length + " with the " + field
                                + " removed, limit " + max);
            }
            body = cut(body);
            truncated = true;
            text = format.apply(body);
            ids = tokenizer.encode(text);
        }
        return new EncodedQuery(text, ids, truncated);
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
        EncodedQuery q = encodeQuery(row.prompt());
        int[] ref = row.reference() == null
                ? null
                : encodeResponse(row.reference(), config.maxSftResponseTokens(), "reference");
        return new Encoded.PromptOnly(row.id(), q, ref);
    }

    /**
     * Encodes any row: TL;DR posts as SFT samples, comparisons as pairs (errors name {@code summary} and
     * {@code summaries[i].text}), and the generic rows by kind.
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
        return encodePrompt((PromptRow) row);
    }
}
