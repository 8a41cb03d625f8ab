package org.rlhf4j.algorithms.eval;

import java.util.Objects;
import org.rlhf4j.datasets.Prompt;

/**
 * Two candidate summaries of the same post, to be compared by a {@link Judge}.
 *
 * @param id row id (for reports and sample output)
 * @param post the post as shown to an LLM judge (see {@link #postText(Prompt)})
 * @param queryIds the encoded query the reward model conditions on, or null when only an LLM judge is used
 * @param a summary A (text; a leading space is not significant)
 * @param b summary B
 */
public record Matchup(String id, String post, int[] queryIds, String a, String b) {

    /**
     * Checks the parts.
     *
     * @param id id
     * @param post post
     * @param queryIds query ids, may be null
     * @param a summary A
     * @param b summary B
     */
    public Matchup {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(post, "post");
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
    }

    /**
     * Returns the matchup with A and B exchanged.
     *
     * @return the swapped matchup
     */
    public Matchup swapped() {
        return new Matchup(id, post, queryIds, b, a);
    }

    /**
     * Returns the text of a prompt shown to an LLM judge: a Reddit post as {@code "SUBREDDIT: r/…\n\nTITLE: …\n\nPOST:
     * …"} (the full, untruncated post, without the policy's {@code TL;DR:} cue), an article as its text, a raw prompt
     * as it is with a trailing {@code TL;DR:} removed.
     *
     * @param prompt the prompt
     * @return the text
     */
    public static String postText(Prompt prompt) {
        if (prompt instanceof Prompt.Reddit r) {
            return "SUBREDDIT: r/" + r.subreddit() + "\n\nTITLE: " + r.title() + "\n\nPOST: " + r.post().strip();
        }
        if (prompt instanceof Prompt.Article a) {
            return a.article().strip();
        }
        String t = prompt.text().strip();
        return t.endsWith("TL;DR:") ? t.substring(0, t.length() - "TL;DR:".length()).strip() : t;
    }
}
