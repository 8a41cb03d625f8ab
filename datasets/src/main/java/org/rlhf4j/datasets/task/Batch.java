package org.rlhf4j.datasets.task;

/**
 * A collated batch: left-padded queries and right-padded responses.
 *
 * @param queries left-padded query ids and mask
 * @param responses right-padded response ids and mask
 */
public record Batch(Padded queries, Padded responses) {

    /**
     * Checks that both parts have the same number of rows.
     *
     * @param queries queries
     * @param responses responses
     */
    public Batch {
        if (queries.rows() != responses.rows()) {
            throw new IllegalArgumentException(
                    queries.rows() + " query rows but " + responses.rows() + " response rows");
        }
    }

    /**
     * Returns the batch size.
     *
     * @return rows
     */
    public int size() {
        return queries.rows();
    }

    /**
     * Returns the concatenation {@code [query | response]} per row with the combined mask; the response of every
     * row starts at column {@code queries().width()}.
     *
     * @return the concatenated ids and mask
     */
    public Padded concatenated() {
        int qw = queries.width();
        int rw = responses.width();
        long[][] ids = new long[size()][qw + rw];
        int[][] mask = new int[size()][qw + rw];
        for (int r = 0; r < size(); r++) {
            System.arraycopy(queries.ids()[r], 0, ids[r], 0, qw);
            System.arraycopy(responses.ids()[r], 0, ids[r], qw, rw);
            System.arraycopy(queries.mask()[r], 0, mask[r], 0, qw);
            System.arraycopy(responses.mask()[r], 0, mask[r], qw, rw);
        }
        return new Padded(ids, mask);
    }
}
