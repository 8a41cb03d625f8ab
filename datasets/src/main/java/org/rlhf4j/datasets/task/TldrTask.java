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
 * far fewer tokenizer calls. The rule is applied without encoding every cut in turn (a search skips the cuts that are
 * far too long), so a long post costs a few encodings, not one per removed word. The tokenizer is shared, not owned:
 * closing it is the caller's job.
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
