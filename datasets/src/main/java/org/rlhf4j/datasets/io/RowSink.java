package org.rlhf4j.datasets.io;

import org.rlhf4j.datasets.DataRow;

/** Receives parsed rows one at a time, with the row's location for follow-up checks. */
@FunctionalInterface
public interface RowSink {

    /**
     * Accepts one row. A sink that finds the row unusable (e.g. a response over the token limit) calls
     * {@link RowContext#reject}, which throws in strict mode and counts the row as skipped in lenient mode.
     *
     * @param row the parsed row
     * @param context where the row came from
     */
    void accept(DataRow row, RowContext context);
}
