package org.rlhf4j.datasets.stats;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.io.JsonlReader;
import org.rlhf4j.datasets.io.ReadReport;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Statistics of one data file, computed in a single streaming pass: rows, rows per split, skipped rows by reason,
 * and token-length percentiles of the formatted queries and of the responses (EOS included).
 *
 * <p>Each row is parsed and encoded with a {@link TldrTask}; a row whose query cannot be made to fit or whose response
 * is over the limit is rejected like any other bad row (strict: error; lenient: counted by reason). Response lengths
 * count every response of a row: one for SFT rows, two for pairs, the reference (if any) for prompts.
 *
 * @param report what reading the file produced
 * @param queryTokens percentiles of query lengths (after truncation)
 * @param responseTokens percentiles of response lengths
 * @param truncatedQueries how many queries had their post shortened
 * @param maxQueryTokens the query budget used
 */
public record DatasetStats(
        ReadReport report, Percentiles queryTokens, Percentiles responseTokens, long truncatedQueries,
        int maxQueryTokens) {

    /**
     * Computes the statistics of a file.
     *
     * @param file the file
     * @param format the format, or {@link DataFormat#AUTO}
     * @param lenient whether bad rows are skipped and counted
     * @param task the formatter (tokenizer and limits)
     * @return the statistics
     * @throws IOException when the file cannot be read
     * @throws DataFormatException in strict mode, on the first bad row
     */
    public static DatasetStats compute(Path file, DataFormat format, boolean lenient, TldrTask task)
            throws IOException {
        Objects.requireNonNull(task, "task");
        int[][] q = {new int[1024]};
        int[][] r = {new int[2048]};
        int[] nq = {0};
        int[] nr = {0};
        long[] truncated = {0};
        JsonlReader reader = JsonlReader.builder().setFormat(format).setLenient(lenient).build();
        ReadReport report = reader.read(file, (row, ctx) -> {
            Encoded e;
            try {
                e = task.encode(row);
            } catch (TaskLimitException ex) {
                ctx.reject(ex.at(ctx.file(), ctx.line()));
                return;
            } catch (org.rlhf4j.datasets.task.ChatRowException ex) {
                ctx.reject(ex.at(ctx.file(), ctx.line()));
                return;
            }
            if (nq[0] == q[0].length) {
                q[0] = Arrays.copyOf(q[0], q[0].length * 2);
            }
            q[0][nq[0]++] = e.query().length();
            if (e.query().truncated()) {
                truncated[0]++;
            }
            for (int[] resp : e.responses()) {
                if (nr[0] == r[0].length) {
                    r[0] = Arrays.copyOf(r[0], r[0].length * 2);
                }
                r[0][nr[0]++] = resp.length;
            }
        });
        return new DatasetStats(report, Percentiles.of(q[0], nq[0]), Percentiles.of(r[0], nr[0]), truncated[0],
                task.config().maxQueryTokens());
    }

    /**
     * Returns the statistics as one JSON object.
     *
     * <p>Keys: {@code file, format, rows, rows_per_split, blank_lines, skipped {total, by_reason, examples},
     * query_tokens {count, p50, p90, p99, max}, response_tokens {...}, truncated_queries, max_query_tokens}.
     *
     * @return the JSON object
     */
    public ObjectNode toJson() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("file", report.file());
        root.put("format", report.format().cliName());
        root.put("rows", report.rows());
        ObjectNode perSplit = root.putObject("rows_per_split");
        report.rowsPerSplit().forEach(perSplit::put);
        root.put("blank_lines", report.blankLines());
        ObjectNode skipped = root.putObject("skipped");
        skipped.put("total", report.skippedTotal());
        ObjectNode by = skipped.putObject("by_reason");
        report.skipped().forEach(by::put);
        report.skipExamples().forEach(skipped.putArray("examples")::add);
        root.set("query_tokens", Json.MAPPER.valueToTree(queryTokens));
        root.set("response_tokens", Json.MAPPER.valueToTree(responseTokens));
        root.put("truncated_queries", truncatedQueries);
        root.put("max_query_tokens", maxQueryTokens);
        return root;
    }
}
