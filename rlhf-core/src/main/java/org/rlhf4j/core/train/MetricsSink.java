package org.rlhf4j.core.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.JsonlFiles;

/**
 * Receives one map of named scalar metrics per step. Metric names are stable identifiers (e.g.
 * {@code objective/kl}); see each algorithm's documentation.
 */
public interface MetricsSink extends AutoCloseable {

    /**
     * Records the metrics of one step.
     *
     * @param step the step
     * @param metrics name to value, in display order
     */
    void log(long step, Map<String, Double> metrics);

    /** Flushes and releases resources. */
    @Override
    default void close() {}

    /**
     * Returns a sink that forwards to several sinks.
     *
     * @param sinks the sinks
     * @return the combined sink
     */
    static MetricsSink tee(MetricsSink... sinks) {
        List<MetricsSink> list = List.of(sinks);
        return new MetricsSink() {
            @Override
            public void log(long step, Map<String, Double> metrics) {
                list.forEach(s -> s.log(step, metrics));
            }

            @Override
            public void close() {
                list.forEach(MetricsSink::close);
            }
        };
    }

    /**
     * Returns a sink that discards everything.
     *
     * @return the sink
     */
    static MetricsSink none() {
        return (step, metrics) -> {};
    }

    /**
     * Returns a sink that keeps every record in memory (tests, plotting).
     *
     * @return the sink
     */
    static InMemory inMemory() {
        return new InMemory();
    }

    /** Keeps records in memory. */
    final class InMemory implements MetricsSink {
        private final List<Map<String, Double>> rows = new ArrayList<>();

        @Override
        public synchronized void log(long step, Map<String, Double> metrics) {
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("step", (double) step);
            row.putAll(metrics);
            rows.add(row);
        }

        /**
         * Returns the records.
         *
         * @return one map per logged step (with key {@code step})
         */
        public synchronized List<Map<String, Double>> rows() {
            return List.copyOf(rows);
        }

        /**
         * Returns one metric's series.
         *
         * @param name metric name
         * @return values in logging order (steps without it skipped)
         */
        public synchronized double[] series(String name) {
            return rows.stream().filter(r -> r.containsKey(name)).mapToDouble(r -> r.get(name)).toArray();
        }
    }

    /**
     * Writes one JSON object per line: {@code {"step": s, "name": value, ...}}, flushed per line (append-only).
     * Opened for a resumed run, it first cuts the file back to the resume point with
     * {@link org.rlhf4j.core.io.JsonlFiles#truncateToStep} (atomic replace; a torn last line is cut with a warning), so
     * the file always describes exactly one trajectory.
     */
    final class Jsonl implements MetricsSink {
        private final BufferedWriter out;

        /**
         * Opens (creating or appending to) a metrics file.
         *
         * @param file the file
         * @param resumeStep keep only lines with step &lt;= this; a negative value starts a fresh file
         * @throws IOException on failure, or when a line before the last is malformed (named by file and line)
         */
        public Jsonl(Path file, long resumeStep) throws IOException {
            JsonlFiles.truncateToStep(file, resumeStep);
            out = JsonlFiles.append(file);
        }

        @Override
        public void log(long step, Map<String, Double> metrics) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", step);
            metrics.forEach((k, v) -> row.put(k, v == null || v.isNaN() || v.isInfinite() ? String.valueOf(v) : v));
            try {
                out.write(Json.compact(row));
                out.newLine();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Prints a compact line of selected metrics every {@code every} steps. */
    final class Console implements MetricsSink {
        private final PrintStream out;
        private final long every;

        /**
         * Creates a console sink.
         *
         * @param out where to print
         * @param every print every n-th step
         */
        public Console(PrintStream out, long every) {
            if (every < 1) {
                throw new IllegalArgumentException("every must be >= 1, got " + every);
            }
            this.out = out;
            this.every = every;
        }

        @Override
        public void log(long step, Map<String, Double> metrics) {
            if (step % every != 0) {
                return;
            }
            StringBuilder sb = new StringBuilder("step ").append(step);
            metrics.forEach((k, v) -> sb.append("  ").append(k).append('=').append(format(v)));
            out.println(sb);
        }

        private static String format(Double v) {
            if (v == null) {
                return "null";
            }
            double a = Math.abs(v);
            return a != 0 && (a < 1e-3 || a >= 1e5) ? String.format(Locale.ROOT, "%.3e", v)
                    : String.format(Locale.ROOT, "%.4f", v);
        }
    }
}
