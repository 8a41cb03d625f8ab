package org.rlhf4j.datasets.source;

import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.core.io.Hashes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.EnumMap;
import java.util.function.Function;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.ChatExample;
import org.rlhf4j.datasets.ChatPair;
import org.rlhf4j.datasets.Conversation;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.task.ChatRowException;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.TldrData;
import org.rlhf4j.datasets.TldrPost;
import org.rlhf4j.datasets.download.CacheDirs;
import org.rlhf4j.datasets.io.JsonlReader;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Where rows come from: the bundled TL;DR samples ({@link Bundled}), the full downloaded OpenAI TL;DR files
 * ({@link Full}) or a user's JSON Lines file in any supported format ({@link File}), as {@code --data} names them
 * ({@link #parse(String)}).
 *
 * <p>The {@code ...Rows} methods return rows converted to the shape a trainer needs (a TL;DR post becomes an SFT
 * example, an SFT example a prompt with its reference, a comparison a preference pair); a file row of another kind is
 * an error. {@link #sft}, {@link #prompts} and {@link #pairs} also encode them: rows over the task's token limits
 * are skipped, counted by reason and logged ({@link EncodedRows}). Splits name a split of the built-in data and are
 * ignored for a file.
 */
public sealed interface DataSource permits DataSource.Bundled, DataSource.Full, DataSource.File {

    /** The name of the bundled samples. */
    String BUNDLED = "bundled";

    /**
     * The name of the full OpenAI TL;DR files in the download cache ({@code rlhf4j data download tldr --what all};
     * see {@link TldrData}): SFT splits {@code train/valid/test}, comparison splits {@code train/valid1/valid2}.
     */
    String FULL = "full";

    /**
     * Parses a source as the command line names it.
     *
     * @param source {@code bundled}, {@code full} or a file path
     * @return the source
     * @throws IllegalArgumentException when the name is null or blank
     */
    static DataSource parse(String source) {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("data source must be 'bundled', 'full' or a file, got "
                    + (source == null ? "null" : "'" + source + "'"));
        }
        return switch (source) {
            case BUNDLED -> new Bundled();
            case FULL -> new Full();
            default -> new File(Path.of(source));
        };
    }

    /**
     * Returns the name that {@link #parse(String)} reads back.
     *
     * @return {@code bundled}, {@code full} or the file path
     */
    String name();

    /**
     * Returns what a split of this source is called in logs and reports.
     *
     * @param split the split
     * @return {@code bundled:SPLIT}, {@code full:SPLIT}, or the file path (a file has no splits)
     */
    String label(String split);

    /**
     * Returns the built-in data whose held-out splits go with this source: the full data for {@link Full}, else the
     * bundled samples.
     *
     * @return {@code this} for {@link Full}, else {@link Bundled}
     */
    default DataSource builtIn() {
        return this instanceof Full ? this : new Bundled();
    }

    /**
     * Returns SFT examples (a file: openai-tldr or sft format).
     *
     * @param split {@code train}, {@code valid} or {@code test}; ignored for a file
     * @return the examples, in order
     * @throws IOException when the file is unreadable or malformed
     * @throws IllegalArgumentException when a file row is not an SFT row, or the full data is not downloaded
     */
    List<SftExample> sftRows(String split) throws IOException;

    /**
     * Returns RL prompts with their reference summaries (DR-PO resets to them); a file: openai-tldr, sft or prompts
     * format.
     *
     * @param split {@code train}, {@code valid} or {@code test}; ignored for a file
     * @return the prompts, in order
     * @throws IOException when the file is unreadable or malformed
     * @throws IllegalArgumentException when a file row is not a prompt row, or the full data is not downloaded
     */
    List<PromptRow> promptRows(String split) throws IOException;

    /**
     * Returns preference pairs, not encoded (e.g. for DR-PO's reset to the preferred response); comparisons are
     * converted with {@link Comparison#toPair()}. A file: openai-comparisons or pairs format.
     *
     * @param split {@code train}, {@code valid1}, {@code valid2} (bundled also {@code test}); ignored for a file
     * @return the pairs, in order
     * @throws IOException when the file is unreadable or malformed
     * @throws IllegalArgumentException when a file row is not a preference row, or the comparisons are not downloaded
     */
    List<PreferencePair> pairRows(String split) throws IOException;

    /**
     * Identifies this source for provenance.
     *
     * @param what what is read from it (e.g. {@code sft}, {@code comparisons}, {@code prompts})
     * @return {@code bundled:tldr-samples:WHAT}, {@code full:openai-summarize-from-feedback:WHAT} or
     *     {@code file:ABSOLUTE_PATH sha256=HEX}
     * @throws IOException when the file is unreadable
     */
    String dataId(String what) throws IOException;

    /**
     * Returns encoded SFT samples; rows over the token limits are skipped and counted.
     *
     * @param task the task (tokenizer and limits)
     * @param split see {@link #sftRows(String)}
     * @return the samples and the skip counts
     * @throws IOException when the file is unreadable or malformed
     */
    default EncodedRows<Encoded.Sft> sft(TldrTask task, String split) throws IOException {
        return EncodedRows.encode(label(split), sftRows(split), task::encodeSft);
    }

    /**
     * Returns encoded RL prompts with their references; rows over the token limits are skipped and counted.
     *
     * @param task the task
     * @param split see {@link #promptRows(String)}
     * @return the prompts and the skip counts
     * @throws IOException when the file is unreadable or malformed
     */
    default EncodedRows<Encoded.PromptOnly> prompts(TldrTask task, String split) throws IOException {
        return EncodedRows.encode(label(split), promptRows(split), task::encodePrompt);
    }

    /**
     * Returns encoded preference pairs; rows over the token limits are skipped and counted.
     *
     * @param task the task
     * @param split see {@link #pairRows(String)}
     * @return the pairs and the skip counts
     * @throws IOException when the file is unreadable or malformed
     */
    default EncodedRows<Encoded.Pair> pairs(TldrTask task, String split) throws IOException {
        return EncodedRows.encode(label(split), pairRows(split), task::encodePair);
    }

    /**
     * Returns encoded RL prompts whose reference is the preferred response of each preference row (DR-PO's reset to
     * the preferred response).
     *
     * @param task the task
     * @param split see {@link #pairRows(String)}
     * @return the prompts and the skip counts
     * @throws IOException when the file is unreadable or malformed
     */
    default EncodedRows<Encoded.PromptOnly> preferredPrompts(TldrTask task, String split) throws IOException {
        return EncodedRows.encode(label(split), pairRows(split), p -> task.encodePrompt(p.toPromptRow()));
    }

    /**
     * Returns the held-out sets a reward model is evaluated on when this source is its evaluation data: the bundled
     * {@code valid1} and {@code valid2} pairs and the raw OpenAI batch18 comparisons grouped by the labellers'
     * confidence ({@code confidence1}, ...); the full data's {@code valid1} and {@code valid2}; a file's rows as
     * {@code eval}.
     *
     * @param task the task
     * @return set name to encoded pairs, in that order
     * @throws IOException when the file is unreadable or malformed
     */
    Map<String, EncodedRows<Encoded.Pair>> rewardEvalSets(TldrTask task) throws IOException;

    /** The TL;DR samples bundled with this module ({@link BundledTldr}). */
    record Bundled() implements DataSource {

        @Override
        public String name() {
            return BUNDLED;
        }

        @Override
        public String label(String split) {
            return BUNDLED + ":" + split;
        }

        @Override
        public List<SftExample> sftRows(String split) {
            return new ArrayList<>(BundledTldr.sft(split));
        }

        @Override
        public List<PromptRow> promptRows(String split) {
            return new ArrayList<>(BundledTldr.prompts(split));
        }

        @Override
        public List<PreferencePair> pairRows(String split) {
            return new ArrayList<>(BundledTldr.pairs(split));
        }

        @Override
        public String dataId(String what) {
            return "bundled:tldr-samples:" + what;
        }

        @Override
        public Map<String, EncodedRows<Encoded.Pair>> rewardEvalSets(TldrTask task) {
            Map<String, EncodedRows<Encoded.Pair>> sets = new LinkedHashMap<>();
            sets.put("valid1", pairs(task, "valid1"));
            sets.put("valid2", pairs(task, "valid2"));
            Map<Integer, List<PreferencePair>> byConfidence = new TreeMap<>();
            for (Comparison c : BundledTldr.comparisons()) {
                if (c.kind() == Comparison.Kind.TLDR && c.confidence() != null) {
                    byConfidence.computeIfAbsent(c.confidence(), k -> new ArrayList<>()).add(c.toPair());
                }
            }
            byConfidence.forEach((conf, rows) -> sets.put("confidence" + conf,
                    EncodedRows.encode(BUNDLED + ":batch18:confidence" + conf, rows, task::encodePair)));
            return sets;
        }

        @Override
        public EncodedRows<Encoded.Pair> pairs(TldrTask task, String split) {
            return EncodedRows.encode(label(split), pairRows(split), task::encodePair);
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /**
     * The full OpenAI TL;DR files in a download cache; reading fails, saying what to run, when that part of the
     * download is missing.
     *
     * @param cacheDir the cache root ({@link CacheDirs#defaultRoot()} for {@link #Full()})
     */
    record Full(Path cacheDir) implements DataSource {

        /**
         * Checks the cache root.
         *
         * @param cacheDir the cache root
         */
        public Full {
            Objects.requireNonNull(cacheDir, "cacheDir");
        }

        /** The full data in the default cache ({@code $RLHF4J_CACHE} or {@code ~/.cache/rlhf4j}). */
        public Full() {
            this(CacheDirs.defaultRoot());
        }

        /**
         * Opens the downloaded data.
         *
         * @param comparisons whether the comparison batches (else the SFT files) are needed
         * @return the data
         * @throws IllegalArgumentException when that part of the download is missing (the message says what to run)
         */
        public TldrData data(boolean comparisons) {
            TldrData d = TldrData.open(cacheDir);
            TldrData.Source s = comparisons ? d.comparisonsSource() : d.sftSource();
            if (s != TldrData.Source.DOWNLOADED) {
                throw new IllegalArgumentException("--data full needs the downloaded TL;DR " + (comparisons
                        ? "comparison batches" : "SFT files") + ", which are not all in the cache ($RLHF4J_CACHE or "
                        + "~/.cache/rlhf4j); run: ./rlhf4j data download tldr --what "
                        + (comparisons ? "comparisons" : "sft") + " (offline: see docs/data.md)");
            }
            return d;
        }

        @Override
        public String name() {
            return FULL;
        }

        @Override
        public String label(String split) {
            return FULL + ":" + split;
        }

        @Override
        public List<SftExample> sftRows(String split) throws IOException {
            return new ArrayList<>(data(false).sft(split));
        }

        @Override
        public List<PromptRow> promptRows(String split) throws IOException {
            return new ArrayList<>(data(false).prompts(split));
        }

        @Override
        public List<PreferencePair> pairRows(String split) throws IOException {
            return new ArrayList<>(data(true).pairs(split));
        }

        @Override
        public String dataId(String what) {
            // the cache verifies every file against its recorded sha256 before use
            return "full:openai-summarize-from-feedback:" + what;
        }

        @Override
        public Map<String, EncodedRows<Encoded.Pair>> rewardEvalSets(TldrTask task) throws IOException {
            Map<String, EncodedRows<Encoded.Pair>> sets = new LinkedHashMap<>();
            sets.put("valid1", pairs(task, "valid1"));
            sets.put("valid2", pairs(task, "valid2"));
            return sets;
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /**
     * A JSON Lines file in any supported format ({@link DataFormat#AUTO}); it has no splits.
     *
     * <p>The encoded views ({@link #sft}, {@link #prompts}, {@link #pairs}, {@link #preferredPrompts}) accept
     * conversational rows too: the task renders them through its chat template ({@link TldrTask#sftSample} and
     * friends, the one place rows become samples), and a row the template cannot render is an error naming the file,
     * the line and the field. {@link #prompts} takes a prompt from any row (the reference being the completion or
     * the chosen response). The text views ({@link #sftRows} and friends) reject conversational rows, which have no
     * text before rendering, except prompt-only ones ({@link Prompt.Chat} prompts).
     *
     * @param path the file
     */
    record File(Path path) implements DataSource {

        /**
         * Checks the path.
         *
         * @param path the file
         */
        public File {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public String name() {
            return path.toString();
        }

        @Override
        public String label(String split) {
            return path.toString();
        }

        @Override
        public List<SftExample> sftRows(String split) throws IOException {
            List<SftExample> rows = new ArrayList<>();
            for (DataRow r : read()) {
                if (r instanceof TldrPost p) {
                    rows.add(p.toSft());
                } else if (r instanceof SftExample s) {
                    rows.add(s);
                } else {
                    throw new IllegalArgumentException(path + ": expected SFT rows (openai-tldr or sft format), got "
                            + r.getClass().getSimpleName() + conversational(r));
                }
            }
            return rows;
        }

        @Override
        public List<PromptRow> promptRows(String split) throws IOException {
            List<PromptRow> rows = new ArrayList<>();
            for (DataRow r : read()) {
                if (r instanceof TldrPost p) {
                    rows.add(p.toSft().toPromptRow());
                } else if (r instanceof SftExample s) {
                    rows.add(s.toPromptRow());
                } else if (r instanceof PromptRow p) {
                    rows.add(p);
                } else {
                    throw new IllegalArgumentException(path + ": expected prompt rows (openai-tldr, sft or prompts "
                            + "format), got " + r.getClass().getSimpleName() + conversational(r));
                }
            }
            return rows;
        }

        @Override
        public List<PreferencePair> pairRows(String split) throws IOException {
            List<PreferencePair> rows = new ArrayList<>();
            for (DataRow r : read()) {
                if (r instanceof Comparison c) {
                    rows.add(c.toPair());
                } else if (r instanceof PreferencePair p) {
                    rows.add(p);
                } else {
                    throw new IllegalArgumentException(path + ": expected preference rows (openai-comparisons or "
                            + "pairs format), got " + r.getClass().getSimpleName() + conversational(r));
                }
            }
            return rows;
        }

        @Override
        public EncodedRows<Encoded.Sft> sft(TldrTask task, String split) throws IOException {
            return encodeRows(task::sftSample);
        }

        @Override
        public EncodedRows<Encoded.PromptOnly> prompts(TldrTask task, String split) throws IOException {
            return encodeRows(task::promptSample);
        }

        @Override
        public EncodedRows<Encoded.Pair> pairs(TldrTask task, String split) throws IOException {
            return encodeRows(task::pairSample);
        }

        @Override
        public EncodedRows<Encoded.PromptOnly> preferredPrompts(TldrTask task, String split) throws IOException {
            return encodeRows(row -> {
                if (!(row instanceof Comparison || row instanceof PreferencePair || row instanceof ChatPair)) {
                    throw new IllegalArgumentException("expected preference rows (openai-comparisons or pairs), got "
                            + row.getClass().getSimpleName());
                }
                return task.promptSample(row);
            });
        }

        /**
         * Reads and encodes the file row by row: rows over the task's limits are skipped and counted; a row the chat
         * template cannot render is a {@link DataFormatException} naming file, line and field; a row of a kind the
         * encoder does not take is an {@link IllegalArgumentException} naming the file and line.
         */
        private <T> EncodedRows<T> encodeRows(Function<DataRow, T> encoder) throws IOException {
            List<T> out = new ArrayList<>();
            Map<SkipReason, Integer> byReason = new EnumMap<>(SkipReason.class);
            Map<String, Integer> byMessage = new TreeMap<>();
            int[] read = {0};
            JsonlReader.builder().setFormat(DataFormat.AUTO).build().read(path, (row, ctx) -> {
                read[0]++;
                try {
                    out.add(encoder.apply(row));
                } catch (TaskLimitException e) {
                    byReason.merge(e.reason(), 1, Integer::sum);
                    byMessage.merge(e.getMessage(), 1, Integer::sum);
                } catch (ChatRowException e) {
                    ctx.reject(e.at(ctx.file(), ctx.line()));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(path + ":" + ctx.line() + ": " + e.getMessage(), e);
                }
            });
            return EncodedRows.logged(path.toString(), out, read[0], byReason, byMessage);
        }

        /**
         * Returns the SFT examples of the file, ignoring rows of other kinds (the compact vocabulary reads what it
         * can).
         *
         * @return the SFT rows
         * @throws IOException when the file is unreadable or malformed
         */
        List<SftExample> sftRowsLenient() throws IOException {
            List<SftExample> rows = new ArrayList<>();
            for (DataRow r : read()) {
                if (r instanceof TldrPost p) {
                    rows.add(p.toSft());
                } else if (r instanceof SftExample e) {
                    rows.add(e);
                }
            }
            return rows;
        }

        private static String conversational(DataRow r) {
            return r instanceof ChatExample || r instanceof ChatPair || r instanceof Conversation
                    ? " (conversational rows have no text until a chat template renders them: use the encoded views,"
                    + " e.g. sft(task, split), with a task that has the model's chat template)" : "";
        }

        @Override
        public String dataId(String what) throws IOException {
            return "file:" + path.toAbsolutePath() + " sha256=" + Hashes.sha256(path);
        }

        @Override
        public Map<String, EncodedRows<Encoded.Pair>> rewardEvalSets(TldrTask task) throws IOException {
            Map<String, EncodedRows<Encoded.Pair>> sets = new LinkedHashMap<>();
            sets.put("eval", pairs(task, "valid1"));
            return sets;
        }

        @Override
        public String toString() {
            return name();
        }

        private List<DataRow> read() throws IOException {
            return JsonlReader.builder().setFormat(DataFormat.AUTO).build().readAll(path);
        }
    }
}
