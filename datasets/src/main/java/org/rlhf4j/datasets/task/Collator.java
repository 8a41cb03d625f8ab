package org.rlhf4j.datasets.task;

import java.util.List;
import java.util.Objects;

/**
 * Pads token sequences into rectangular arrays: queries on the left (so generation continues right after the last
 * query token), responses on the right, with attention masks. NDArray-free; see {@link Padded}.
 */
public final class Collator {

    private Collator() {}

    /**
     * Left-pads sequences to the longest one.
     *
     * @param seqs the sequences
     * @param padId the padding id
     * @return the padded batch
     */
    public static Padded leftPad(List<int[]> seqs, long padId) {
        return pad(seqs, padId, maxLength(seqs), true);
    }

    /**
     * Left-pads sequences to a fixed width.
     *
     * @param seqs the sequences
     * @param padId the padding id
     * @param width the width, at least the longest sequence
     * @return the padded batch
     * @throws IllegalArgumentException when a sequence is longer than {@code width}
     */
    public static Padded leftPad(List<int[]> seqs, long padId, int width) {
        return pad(seqs, padId, width, true);
    }

    /**
     * Right-pads sequences to the longest one.
     *
     * @param seqs the sequences
     * @param padId the padding id
     * @return the padded batch
     */
    public static Padded rightPad(List<int[]> seqs, long padId) {
        return pad(seqs, padId, maxLength(seqs), false);
    }

    /**
     * Right-pads sequences to a fixed width.
     *
     * @param seqs the sequences
     * @param padId the padding id
     * @param width the width, at least the longest sequence
     * @return the padded batch
     * @throws IllegalArgumentException when a sequence is longer than {@code width}
     */
    public static Padded rightPad(List<int[]> seqs, long padId, int width) {
        return pad(seqs, padId, width, false);
    }

    /**
     * Builds query+response rows: each row is its left-padded query followed by its right-padded response, so all
     * queries end at the same column and all responses start at the next one.
     *
     * @param queries query ids
     * @param responses response ids, same count
     * @param padId the padding id
     * @return the batch
     */
    public static Batch collate(List<int[]> queries, List<int[]> responses, long padId) {
        if (queries.size() != responses.size()) {
            throw new IllegalArgumentException(
                    queries.size() + " queries but " + responses.size() + " responses");
        }
        return new Batch(leftPad(queries, padId), rightPad(responses, padId));
    }

    private static int maxLength(List<int[]> seqs) {
        int max = 0;
        for (int[] s : seqs) {
            max = Math.max(max, s.length);
        }
        return max;
    }

    private static Padded pad(List<int[]> seqs, long padId, int width, boolean left) {
        Objects.requireNonNull(seqs, "seqs");
        if (width < 0) {
            throw new IllegalArgumentException("width must be >= 0, got " + width);
        }
        long[][] ids = new long[seqs.size()][width];
        int[][] mask = new int[seqs.size()][width];
        for (int r = 0; r < seqs.size(); r++) {
            int[] s = seqs.get(r);
            if (s.length > width) {
                throw new IllegalArgumentException(
                        "sequence " + r + " has " + s.length + " tokens, more than the width " + width);
            }
            int offset = left ? width - s.length : 0;
            java.util.Arrays.fill(ids[r], padId);
            for (int c = 0; c < s.length; c++) {
                ids[r][offset + c] = s[c];
                mask[r][offset + c] = 1;
            }
        }
        return new Padded(ids, mask);
    }
}
