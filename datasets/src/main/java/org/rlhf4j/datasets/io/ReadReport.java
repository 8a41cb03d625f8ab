package org.rlhf4j.datasets.io;

import java.util.List;
import java.util.Map;
import org.rlhf4j.datasets.DataFormat;

/**
 * What reading one file produced.
 *
 * @param file the file name used in messages
 * @param format the format used (the detected one when reading with {@link DataFormat#AUTO})
 * @param lines lines read
 * @param rows rows accepted (parsed and not rejected by the sink)
 * @param rowsPerSplit accepted rows by split, in first-seen order
 * @param blankLines whitespace-only lines (not rows; reported, never counted as skipped)
 * @param skipped skipped rows by {@link org.rlhf4j.datasets.SkipReason#key()} (lenient mode only)
 * @param skipExamples the first skip messages
 */
public record ReadReport(
        String file,
        DataFormat format,
        long lines,
        long rows,
        Map<String, Long> rowsPerSplit,
        long blankLines,
        Map<String, Long> skipped,
        List<String> skipExamples) {

    /**
     * Copies the maps and lists.
     *
     * @param file file
     * @param format format
     * @param lines lines
     * @param rows rows
     * @param rowsPerSplit rows per split
     * @param blankLines blank lines
     * @param skipped skipped by reason
     * @param skipExamples examples
     */
    public ReadReport {
        rowsPerSplit = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(rowsPerSplit));
        skipped = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(skipped));
        skipExamples = List.copyOf(skipExamples);
    }

    /**
     * Returns the total number of skipped rows.
     *
     * @return the sum of {@link #skipped()}
     */
    public long skippedTotal() {
        return skipped.values().stream().mapToLong(Long::longValue).sum();
    }
}
