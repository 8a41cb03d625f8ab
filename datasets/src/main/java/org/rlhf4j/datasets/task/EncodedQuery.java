package org.rlhf4j.datasets.task;

/**
 * A formatted, tokenized query.
 *
 * @param text the query text (after truncation)
 * @param ids its token ids (no padding)
 * @param truncated whether the post / article had to be shortened
 */
public record EncodedQuery(String text, int[] ids, boolean truncated) {

    /**
     * Returns the number of tokens.
     *
     * @return {@code ids.length}
     */
    public int length() {
        return ids.length;
    }
}
