package org.rlhf4j.datasets.task;

/**
 * Padded token ids with their attention mask (1 = real token, 0 = padding), as plain Java arrays.
 *
 * <p>Convert with DJL as {@code manager.create(padded.ids())} and {@code manager.create(padded.mask())}.
 *
 * @param ids token ids, {@code [rows][width]}
 * @param mask attention mask, same shape
 */
public record Padded(long[][] ids, int[][] mask) {

    /**
     * Checks that the shapes agree.
     *
     * @param ids ids
     * @param mask mask
     */
    public Padded {
        if (ids.length != mask.length) {
            throw new IllegalArgumentException("ids has " + ids.length + " rows but mask has " + mask.length);
        }
    }

    /**
     * Returns the number of rows.
     *
     * @return the batch size
     */
    public int rows() {
        return ids.length;
    }

    /**
     * Returns the padded length.
     *
     * @return the width (0 for an empty batch)
     */
    public int width() {
        return ids.length == 0 ? 0 : ids[0].length;
    }

    /**
     * Returns position ids derived from the mask: the number of real tokens before each position, so the first real
     * token of every row is at position 0 whatever the left padding (padding positions get 0).
     *
     * @return positions, {@code [rows][width]}
     */
    public long[][] positionIds() {
        long[][] pos = new long[ids.length][];
        for (int r = 0; r < ids.length; r++) {
            pos[r] = new long[mask[r].length];
            long seen = 0;
            for (int c = 0; c < mask[r].length; c++) {
                pos[r][c] = mask[r][c] == 0 ? 0 : seen;
                seen += mask[r][c];
            }
        }
        return pos;
    }
}
