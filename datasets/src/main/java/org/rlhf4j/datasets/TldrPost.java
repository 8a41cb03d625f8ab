package org.rlhf4j.datasets;

import java.util.Objects;

/**
 * A row of OpenAI's {@code tldr_3_filtered} data: a Reddit post and its human TL;DR.
 *
 * @param id the Reddit post id (e.g. {@code t3_1ov8e4})
 * @param split the split, from the file name ({@code train}, {@code valid}, {@code test})
 * @param subreddit subreddit name without {@code r/}
 * @param title post title
 * @param post post body
 * @param summary the human summary, without a leading space
 */
public record TldrPost(String id, String split, String subreddit, String title, String post, String summary)
        implements DataRow {

    /**
     * Checks that no part is null.
     *
     * @param id id
     * @param split split
     * @param subreddit subreddit
     * @param title title
     * @param post post
     * @param summary summary
     */
    public TldrPost {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(subreddit, "subreddit");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(post, "post");
        Objects.requireNonNull(summary, "summary");
    }

    /** {@inheritDoc} */
    @Override
    public Prompt prompt() {
        return new Prompt.Reddit(subreddit, title, post);
    }

    /**
     * Returns the reference response text that precedes EOS: {@code " " + summary}.
     *
     * @return the response text
     */
    public String referenceResponse() {
        return " " + summary;
    }

    /**
     * Converts this post into a supervised example whose completion is the reference response.
     *
     * @return the example
     */
    public SftExample toSft() {
        return new SftExample(id, split, prompt(), referenceResponse());
    }

    /**
     * Converts this post into an RL prompt row that keeps the reference response (the DR-PO reset source).
     *
     * @return the prompt row
     */
    public PromptRow toPromptRow() {
        return new PromptRow(id, split, prompt(), referenceResponse());
    }
}
