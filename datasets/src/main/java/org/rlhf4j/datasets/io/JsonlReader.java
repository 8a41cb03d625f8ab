package org.rlhf4j.datasets.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.SkipReason;

/**
 * Streams the rows of a JSON Lines file (optionally gzip-compressed) to a {@link RowSink}.
 *
 * <p>One line is held at a time: its bytes are decoded with a strict UTF-8 decoder, parsed by Jackson into a small
 * tree and converted by {@link RowParser}. Whitespace-only lines are not rows; they are counted in the report.
 * In strict mode (the default) the first bad row throws a {@link DataFormatException} naming file, line and field;
 * in lenient mode bad rows are skipped and counted by reason. Nothing is dropped silently. A line over the JSON
 * parser's limits (nesting deeper than 1000 levels, a string over 20,000,000 characters) is a bad row like any other
 * ({@link SkipReason#JSON_LIMIT}).
 *
 * <pre>{@code
 * JsonlReader reader = JsonlReader.builder().setFormat(DataFormat.AUTO).setLenient(true).build();
 * ReadReport report = reader.read(Path.of("train.jsonl"), (row, ctx) -> rows.add(row));
 * }</pre>
 */
public final class JsonlReader {

    /** Split names recognised in file names (e.g. {@code carper-sft-valid.jsonl} is split {@code valid}). */
    public static final Set<String> SPLIT_NAMES =
            Set.of("train", "valid", "validation", "test", "valid1", "valid2", "dev", "eval");

    private static final ObjectReader LINE_READER =
            Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final DataFormat format;
    private final boolean lenient;
    private final String split;

    private JsonlReader(Builder b) {
        this.format = b.format;
        this.lenient = b.lenient;
        this.split = b.split;
    }

    /**
     * Returns a builder (defaults: format auto, strict, split from the file name).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link JsonlReader}. */
    public static final class Builder {
        private DataFormat format = DataFormat.AUTO;
        private boolean lenient;
        private String split;

        private Builder() {}

        /**
         * Sets the row format.
         *
         * @param format the format, {@link DataFormat#AUTO} to detect it from the first row
         * @return this
         */
        public Builder setFormat(DataFormat format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        /**
         * Sets lenient mode: bad rows are skipped and counted instead of failing the read.
         *
         * @param lenient true to skip bad rows
         * @return this
         */
        public Builder setLenient(boolean lenient) {
            this.lenient = lenient;
            return this;
        }

        /**
         * Sets the split given to rows that carry none (default: from the file name, see
         * {@link #splitFromFileName(String)}).
         *
         * @param split the split name, or null for the file-name rule
         * @return this
         */
        public Builder optSplit(String split) {
            if (split != null && split.isBlank()) {
                throw new IllegalArgumentException("split must not be blank, got '" + split + "'");
            }
            this.split = split;
            return this;
        }

        /**
         * Builds the reader.
         *
         * @return the reader
         */
        public JsonlReader build() {
            return new JsonlReader(this);
        }
    }

    /**
     * Derives a split name from a file name: the base name without {@code .gz}, {@code .jsonl}, {@code .json}, if it
     * or its last {@code -}/{@code _}-separated part is a known split name ({@link #SPLIT_NAMES}); else {@code all}.
     *
     * @param fileName e.g. {@code carper-comparisons-valid1.jsonl}
     * @return e.g. {@code valid1}
     */
    public static String splitFromFileName(String fileName) {
        String base = fileName.toLowerCase(Locale.ROOT);
        int slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
        base = base.substring(slash + 1);
        for (String ext : List.of(".gz", ".jsonl", ".json")) {
            if (base.endsWith(ext)) {
                base = base.substring(0, base.length() - ext.length());
            }
        }
        if (SPLIT_NAMES.contains(base)) {
            return base;
        }
        int cut = Math.max(base.lastIndexOf('-'), base.lastIndexOf('_'));
        String last = base.substring(cut + 1);
        return SPLIT_NAMES.contains(last) ? last : "all";
    }

    /**
     * Reads a file (gzip-compressed when its name ends with {@code .gz}).
     *
     * @param file the file
     * @param sink receives each row
     * @return the report
     * @throws IOException when the file cannot be read
     * @throws DataFormatException in strict mode, on the first bad row; in any mode when the format cannot be
     *     detected
     */
    public ReadReport read(Path file, RowSink sink) throws IOException {
        String name = file.getFileName().toString();
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(name, in, sink);
        }
    }

    /**
     * Reads a stream.
     *
     * @param name the name used in messages and for the default split
     * @param stream the bytes (closed when done)
     * @param sink receives each row
     * @return the report
     * @throws IOException when the stream cannot be read
     * @throws DataFormatException in strict mode, on the first bad row; in any mode when the format cannot be
     *     detected
     */
    public ReadReport read(String name, InputStream stream, RowSink sink) throws IOException {
        Objects.requireNonNull(sink, "sink");
        String defaultSplit = split != null ? split : splitFromFileName(name);
        RowParser parser = new RowParser(name, defaultSplit);
        SkipCounts skips = new SkipCounts();
        RowContext ctx = new RowContext(name, lenient, skips);
        DataFormat used = format;
        long rows = 0;
        long blank = 0;
        Map<String, Long> perSplit = new LinkedHashMap<>();
        try (Utf8LineReader lines = new Utf8LineReader(new BufferedInputStream(stream, 1 << 16))) {
            while (true) {
                String text;
                try {
                    text = lines.next();
                } catch (Utf8LineReader.InvalidUtf8Exception e) {
                    ctx.moveTo(lines.lineNumber());
                    ctx.reject(SkipReason.INVALID_UTF8, null, e.getMessage());
                    continue;
                }
                if (text == null) {
                    break;
                }
                long line = lines.lineNumber();
                ctx.moveTo(line);
                if (line == 1 && !text.isEmpty() && text.charAt(0) == '\uFEFF') {
                    text = text.substring(1);
                }
                if (text.isBlank()) {
                    blank++;
                    continue;
                }
                JsonNode node;
                try {
                    node = LINE_READER.readTree(text);
                } catch (StreamConstraintsException e) {
                    ctx.reject(new DataFormatException(name, line, null, SkipReason.JSON_LIMIT,
                            "JSON over the parser's limits: " + firstLine(e.getOriginalMessage()), e));
                    continue;
                } catch (JsonProcessingException e) {
                    JsonLocation at = e.getLocation();
                    ctx.reject(new DataFormatException(name, line, null, SkipReason.MALFORMED_JSON, "malformed JSON"
                            + (at != null && at.getColumnNr() > 0 ? " at column " + at.getColumnNr() : "") + ": "
                            + firstLine(e.getOriginalMessage()), e));
                    continue;
                }
                if (!node.isObject()) {
                    String what = node.isArray() ? "an array (a JSON file, not JSON Lines?)" : node.getNodeType()
                            .name().toLowerCase(Locale.ROOT);
                    ctx.reject(SkipReason.MALFORMED_JSON, null, "expected one JSON object per line, got " + what);
                    continue;
                }
                if (used == DataFormat.AUTO) {
                    used = DataFormat.detect(node);
                    if (used == DataFormat.AUTO) {
                        throw new DataFormatException(name, line, null, SkipReason.MISSING_FIELD,
                                "cannot detect the format from the fields " + DataFormat.fieldNames(node)
                                        + "; expected one of: openai-tldr (post, summary), openai-comparisons (info,"
                                        + " summaries), pairs ([prompt,] chosen, rejected), sft (prompt, completion |"
                                        + " label), prompts (prompt), messages (messages); pass the format explicitly");
                    }
                }
                DataRow row;
                try {
                    row = parser.parse(node, used, line);
                } catch (DataFormatException e) {
                    ctx.reject(e);
                    continue;
                }
                sink.accept(row, ctx);
                if (!ctx.rejected()) {
                    rows++;
                    perSplit.merge(row.split(), 1L, Long::sum);
                }
            }
            return new ReadReport(name, used, lines.lineNumber(), rows, perSplit, blank, skips.byKey(),
                    skips.examples());
        }
    }

    private static String firstLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        t = nl >= 0 ? t.substring(0, nl).strip() : t;
        return t.length() <= 300 ? t : t.substring(0, 300) + "...";
    }

    /**
     * Reads all rows of a file into a list.
     *
     * @param file the file
     * @return the rows in file order
     * @throws IOException when the file cannot be read
     * @throws DataFormatException on a bad row (strict mode)
     */
    public List<DataRow> readAll(Path file) throws IOException {
        List<DataRow> out = new ArrayList<>();
        read(file, (row, ctx) -> out.add(row));
        return out;
    }
}
