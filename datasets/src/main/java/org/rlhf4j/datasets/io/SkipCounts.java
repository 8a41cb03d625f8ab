package org.rlhf4j.datasets.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.SkipReason;

/** Counts of skipped rows by reason, with the first few error messages as examples. */
public final class SkipCounts {

    /** How many example messages are kept. */
    public static final int MAX_EXAMPLES = 10;

    private final EnumMap<SkipReason, Long> counts = new EnumMap<>(SkipReason.class);
    private final List<String> examples = new ArrayList<>();

    /** Creates empty counts. */
    public SkipCounts() {}

    /**
     * Records one skipped row.
     *
     * @param error the error that caused the skip
     */
    public void add(DataFormatException error) {
        counts.merge(error.reason(), 1L, Long::sum);
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(error.getMessage());
        }
    }

    /**
     * Returns the total number of skipped rows.
     *
     * @return the sum over all reasons
     */
    public long total() {
        long t = 0;
        for (long c : counts.values()) {
            t += c;
        }
        return t;
    }

    /**
     * Returns the count for one reason.
     *
     * @param reason the reason
     * @return the count, 0 when none
     */
    public long count(SkipReason reason) {
        return counts.getOrDefault(reason, 0L);
    }

    /**
     * Returns the counts keyed by {@link SkipReason#key()}, only reasons that occurred, in enum order.
     *
     * @return an unmodifiable map
     */
    public Map<String, Long> byKey() {
        Map<String, Long> out = new LinkedHashMap<>();
        counts.forEach((r, c) -> out.put(r.key(), c));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Returns the first error messages (at most {@link #MAX_EXAMPLES}).
     *
     * @return the messages, e.g. {@code train.jsonl:17: field 'summary': empty}
     */
    public List<String> examples() {
        return List.copyOf(examples);
    }
}
