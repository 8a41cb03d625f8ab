package org.rlhf4j.datasets.source;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encoded rows of one data set, with what was skipped: the rows that did not fit the task's token limits are left
 * out, counted by {@link SkipReason} and by message, and logged (nothing is dropped silently).
 *
 * @param name what the rows are, as in the log (e.g. {@code bundled:train} or a file name)
 * @param rows the encoded rows, in the order of the source
 * @param read rows read from the source, skipped ones included
 * @param skipped skipped rows per reason, only reasons that occurred, in enum order
 * @param skippedByMessage skipped rows per error message (sorted by message; what the log line shows)
 * @param <T> the encoded row type
 */
public record EncodedRows<T>(String name, List<T> rows, int read, Map<SkipReason, Integer> skipped,
        Map<String, Integer> skippedByMessage) {

    private static final Logger LOG = LoggerFactory.getLogger(EncodedRows.class);

    /**
     * Checks and copies the parts.
     *
     * @param name name
     * @param rows rows
     * @param read rows read
     * @param skipped counts per reason
     * @param skippedByMessage counts per message
     */
    public EncodedRows {
        Objects.requireNonNull(name, "name");
        rows = List.copyOf(rows);
        skipped = Collections.unmodifiableMap(skipped.isEmpty() ? new EnumMap<>(SkipReason.class) : new EnumMap<>(skipped));
        skippedByMessage = Collections.unmodifiableMap(new TreeMap<>(skippedByMessage));
        int total = skipped.values().stream().mapToInt(Integer::intValue).sum();
        if (read != rows.size() + total) {
            throw new IllegalArgumentException(name + ": read must be kept + skipped = " + rows.size() + " + " + total
                    + ", got " + read);
        }
    }

    /**
     * Encodes rows in order, skipping those the encoder rejects with a {@link TaskLimitException}, and logs the
     * count (a warning with the skips by message when any row was skipped).
     *
     * @param name what the rows are, for the log and {@link #name()}
     * @param rows the rows
     * @param encoder e.g. {@code task::encodeSft}
     * @param <R> the row type
     * @param <T> the encoded type
     * @return the encoded rows with the skip counts
     */
    public static <R, T> EncodedRows<T> encode(String name, List<? extends R> rows, Function<? super R, ? extends T> encoder) {
        List<T> out = new ArrayList<>();
        Map<SkipReason, Integer> byReason = new EnumMap<>(SkipReason.class);
        Map<String, Integer> byMessage = new TreeMap<>();
        for (R r : rows) {
            try {
                out.add(encoder.apply(r));
            } catch (TaskLimitException ex) {
                byReason.merge(ex.reason(), 1, Integer::sum);
                byMessage.merge(ex.getMessage(), 1, Integer::sum);
            }
        }
        return logged(name, out, rows.size(), byReason, byMessage);
    }

    /**
     * Creates encoded rows and logs the count (a warning with the skips by message when any row was skipped), as
     * {@link #encode} does.
     *
     * @param name what the rows are
     * @param rows the kept rows
     * @param read rows read, skipped ones included
     * @param byReason skips per reason
     * @param byMessage skips per message
     * @param <T> the encoded type
     * @return the encoded rows
     */
    static <T> EncodedRows<T> logged(String name, List<T> rows, int read, Map<SkipReason, Integer> byReason,
            Map<String, Integer> byMessage) {
        if (byMessage.isEmpty()) {
            LOG.info("{}: {} rows", name, rows.size());
        } else {
            LOG.warn("{}: {} of {} rows kept; skipped by reason: {}", name, rows.size(), read, byMessage);
        }
        return new EncodedRows<>(name, rows, read, byReason, byMessage);
    }

    /**
     * Returns the number of rows kept.
     *
     * @return {@code rows().size()}
     */
    public int kept() {
        return rows.size();
    }

    /**
     * Returns the number of rows skipped.
     *
     * @return {@code read() - kept()}
     */
    public int skippedTotal() {
        return read - rows.size();
    }

    /**
     * Returns the rows of each set, in the map's order (e.g. for a trainer's evaluation sets).
     *
     * @param sets set name to encoded rows
     * @param <T> the encoded row type
     * @return set name to rows, in the same order
     */
    public static <T> Map<String, List<T>> rowsOf(Map<String, EncodedRows<T>> sets) {
        Map<String, List<T>> out = new java.util.LinkedHashMap<>();
        sets.forEach((k, v) -> out.put(k, v.rows()));
        return out;
    }
}
