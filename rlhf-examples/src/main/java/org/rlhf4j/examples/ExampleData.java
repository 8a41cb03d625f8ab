package org.rlhf4j.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.TldrData;
import org.rlhf4j.datasets.TldrPost;
import org.rlhf4j.datasets.io.JsonlReader;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and encodes the examples' data: the bundled TL;DR samples ({@code bundled}, the default) or a user's JSON
 * Lines file in any supported format. Rows that do not fit the task's token limits are skipped, counted by reason
 * and logged; nothing is dropped silently.
 */
public final class ExampleData {

    private static final Logger LOG = LoggerFactory.getLogger(ExampleData.class);

    /** The data source name of the bundled samples. */
    public static final String BUNDLED = "bundled";

    /**
     * Source name of the full OpenAI TL;DR files in the download cache ({@code rlhf4j data download tldr --what all};
     * see {@link TldrData}): SFT splits {@code train/valid/test}, comparison splits {@code train/valid1/valid2}.
     */
    public static final String FULL = "full";

    /** Whether a source names a split of built-in data ({@link #BUNDLED} or {@link #FULL}) rather than a file. */
    private static boolean named(String source) {
        return BUNDLED.equals(source) || FULL.equals(source);
    }

    /**
     * Opens the downloaded data, failing with what to run when a group is missing.
     *
     * @param comparisons whether the comparison batches (else the SFT files) are needed
     * @return the data
     * @throws IllegalArgumentException when that part of the download is missing (the message says what to run)
     */
    public static TldrData full(boolean comparisons) {
        return requireDownloaded(TldrData.open(), comparisons);
    }

    /** {@link #full(boolean)} on given data. */
    static TldrData requireDownloaded(TldrData d, boolean comparisons) {
        TldrData.Source s = comparisons ? d.comparisonsSource() : d.sftSource();
        if (s != TldrData.Source.DOWNLOADED) {
            throw new IllegalArgumentException("--data full needs the downloaded TL;DR " + (comparisons
                    ? "comparison batches" : "SFT files") + ", which are not all in the cache ($RLHF4J_CACHE or "
                    + "~/.cache/rlhf4j); run: ./rlhf4j data download tldr --what " + (comparisons ? "comparisons" : "sft")
                    + " (offline: see docs/data.md)");
        }
        return d;
    }

    private ExampleData() {}

    /**
     * Encoded SFT samples.
     *
     * @param task the task (tokenizer and limits)
     * @param source {@code bundled}, {@code full} or a file
     * @param split split of {@code bundled}/{@code full} ({@code train}, {@code valid}, {@code test}); ignored for files
     * @return the samples
     * @throws IOException when the file is unreadable or malformed
     */
    public static List<Encoded.Sft> sft(TldrTask task, String source, String split) throws IOException {
        List<SftExample> rows = new ArrayList<>();
        if (BUNDLED.equals(source)) {
            rows.addAll(BundledTldr.sft(split));
        } else if (FULL.equals(source)) {
            rows.addAll(full(false).sft(split));
        } else {
            for (DataRow r : read(source)) {
                if (r instanceof TldrPost p) {
                    rows.add(p.toSft());
                } else if (r instanceof SftExample s) {
                    rows.add(s);
                } else {
                    throw new IllegalArgumentException(source + ": expected SFT rows (openai-tldr or sft format), got "
                            + r.getClass().getSimpleName());
                }
            }
        }
        List<Encoded.Sft> out = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        for (SftExample e : rows) {
            try {
                out.add(task.encodeSft(e));
            } catch (TaskLimitException ex) {
                skipped.merge(ex.getMessage(), 1, Integer::sum);
            }
        }
        report(source + (named(source) ? ":" + split : ""), rows.size(), out.size(), skipped);
        return out;
    }

    /**
     * Encoded RL prompts with their reference summaries (the SFT rows' queries; DR-PO resets to the references).
     *
     * @param task the task
     * @param source {@code bundled}, {@code full} or a file (openai-tldr, sft or prompts format)
     * @param split split of {@code bundled}/{@code full}; ignored for files
     * @return the prompts
     * @throws IOException when the file is unreadable or malformed
     */
    public static List<Encoded.PromptOnly> prompts(TldrTask task, String source, String split) throws IOException {
        List<org.rlhf4j.datasets.PromptRow> rows = new ArrayList<>();
        if (BUNDLED.equals(source)) {
            rows.addAll(BundledTldr.prompts(split));
        } else if (FULL.equals(source)) {
            rows.addAll(full(false).prompts(split));
        } else {
            for (DataRow r : read(source)) {
                if (r instanceof TldrPost p) {
                    rows.add(p.toSft().toPromptRow());
                } else if (r instanceof SftExample s) {
                    rows.add(s.toPromptRow());
                } else if (r instanceof org.rlhf4j.datasets.PromptRow p) {
                    rows.add(p);
                } else {
                    throw new IllegalArgumentException(source + ": expected prompt rows (openai-tldr, sft or prompts "
                            + "format), got " + r.getClass().getSimpleName());
                }
            }
        }
        List<Encoded.PromptOnly> out = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        for (org.rlhf4j.datasets.PromptRow p : rows) {
            try {
                out.add(task.encodePrompt(p));
            } catch (TaskLimitException ex) {
                skipped.merge(ex.getMessage(), 1, Integer::sum);
            }
        }
        report(source + (named(source) ? ":" + split : ""), rows.size(), out.size(), skipped);
        return out;
    }

    /**
     * Raw preference pairs (not encoded), e.g. for DR-PO's reset to the preferred response.
     *
     * @param source {@code bundled}, {@code full} or a file (openai-comparisons or pairs format)
     * @param split split of {@code bundled}/{@code full}; ignored for files
     * @return the pairs, comparisons converted with {@link Comparison#toPair()}
     * @throws IOException when the file is unreadable or malformed
     */
    public static List<PreferencePair> preferencePairs(String source, String split) throws IOException {
        List<PreferencePair> rows = new ArrayList<>();
        if (BUNDLED.equals(source)) {
            rows.addAll(BundledTldr.pairs(split));
        } else if (FULL.equals(source)) {
            rows.addAll(full(true).pairs(split));
        } else {
            for (DataRow r : read(source)) {
                if (r instanceof Comparison c) {
                    rows.add(c.toPair());
                } else if (r instanceof PreferencePair p) {
                    rows.add(p);
                } else {
                    throw new IllegalArgumentException(source + ": expected preference rows (openai-comparisons or "
                            + "pairs format), got " + r.getClass().getSimpleName());
                }
            }
        }
        return rows;
    }

    /**
     * Encoded preference pairs.
     *
     * @param task the task
     * @param source {@code bundled}, {@code full} or a file
     * @param split split of {@code bundled}/{@code full} ({@code train}, {@code valid1}, {@code valid2}; bundled also
     *     {@code test}); ignored for files
     * @return the pairs
     * @throws IOException when the file is unreadable or malformed
     */
    public static List<Encoded.Pair> pairs(TldrTask task, String source, String split) throws IOException {
        List<PreferencePair> rows = preferencePairs(source, split);
        return encodePairs(task, rows, source + (named(source) ? ":" + split : ""));
    }

    /**
     * Held-out reward-model evaluation sets of the bundled data: the {@code valid1} and {@code valid2} pairs, and the
     * raw OpenAI comparisons grouped by the labellers' confidence.
     *
     * @param task the task
     * @return set name to pairs
     */
    public static Map<String, List<Encoded.Pair>> bundledRewardEvalSets(TldrTask task) {
        Map<String, List<Encoded.Pair>> sets = new LinkedHashMap<>();
        sets.put("valid1", encodePairs(task, BundledTldr.pairs("valid1"), "bundled:valid1"));
        sets.put("valid2", encodePairs(task, BundledTldr.pairs("valid2"), "bundled:valid2"));
        Map<Integer, List<PreferencePair>> byConfidence = new TreeMap<>();
        for (Comparison c : BundledTldr.comparisons()) {
            if (c.kind() == Comparison.Kind.TLDR && c.confidence() != null) {
                byConfidence.computeIfAbsent(c.confidence(), k -> new ArrayList<>()).add(c.toPair());
            }
        }
        byConfidence.forEach((conf, rows) ->
                sets.put("confidence" + conf, encodePairs(task, rows, "bundled:batch18:confidence" + conf)));
        return sets;
    }

    private static List<Encoded.Pair> encodePairs(TldrTask task, List<PreferencePair> rows, String name) {
        List<Encoded.Pair> out = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        for (PreferencePair p : rows) {
            try {
                out.add(task.encodePair(p));
            } catch (TaskLimitException ex) {
                skipped.merge(ex.getMessage(), 1, Integer::sum);
            }
        }
        report(name, rows.size(), out.size(), skipped);
        return out;
    }

    private static void report(String name, int rows, int kept, Map<String, Integer> skipped) {
        if (skipped.isEmpty()) {
            LOG.info("{}: {} rows", name, kept);
        } else {
            LOG.warn("{}: {} of {} rows kept; skipped by reason: {}", name, kept, rows, skipped);
        }
    }

    private static List<DataRow> read(String file) throws IOException {
        return JsonlReader.builder().setFormat(DataFormat.AUTO).build().readAll(Path.of(file));
    }

    /**
     * Builds the tiny preset's compact vocabulary: every GPT-2 token that occurs in the bundled TL;DR texts (SFT
     * queries and references of all splits, comparison queries and responses) and in an optional SFT data file.
     *
     * @param base the GPT-2 tokenizer (closed here)
     * @param task token limits (queries are truncated as training will truncate them)
     * @param sftFile a user SFT file, or {@code bundled}
     * @return the compact tokenizer (a {@code tokenizer.json} of its own; see
     *     {@link org.rlhf4j.core.tokenizer.CompactVocabulary})
     * @throws IOException when the file is unreadable
     */
    public static org.rlhf4j.core.tokenizer.HfTokenizer compactVocabulary(
            org.rlhf4j.core.tokenizer.Tokenizer base, org.rlhf4j.datasets.task.TaskConfig task, String sftFile)
            throws IOException {
        TldrTask t = new TldrTask(base, task);
        List<String> texts = new ArrayList<>();
        List<SftExample> sft = new ArrayList<>();
        for (String split : BundledTldr.SFT_SPLITS) {
            sft.addAll(BundledTldr.sft(split));
        }
        if (FULL.equals(sftFile)) {
            TldrData d = full(false);
            for (String split : BundledTldr.SFT_SPLITS) {
                sft.addAll(d.sft(split));
            }
        } else if (!BUNDLED.equals(sftFile)) {
            for (DataRow r : read(sftFile)) {
                if (r instanceof TldrPost p) {
                    sft.add(p.toSft());
                } else if (r instanceof SftExample e) {
                    sft.add(e);
                }
            }
        }
        for (SftExample e : sft) {
            texts.add(t.encodeQuery(e.prompt()).text());
            texts.add(e.completion());
        }
        List<PreferencePair> pairs = new ArrayList<>();
        for (String split : BundledTldr.PAIR_SPLITS) {
            pairs.addAll(BundledTldr.pairs(split));
        }
        for (Comparison c : BundledTldr.comparisons()) {
            pairs.add(c.toPair());
        }
        for (PreferencePair p : pairs) {
            texts.add(t.encodeQuery(p.prompt()).text());
            texts.add(p.chosen());
            texts.add(p.rejected());
        }
        int baseSize = base.vocabSize();
        org.rlhf4j.core.tokenizer.HfTokenizer c = org.rlhf4j.core.tokenizer.CompactVocabulary.fromTexts(base, texts);
        LOG.info("compact vocabulary: {} of {} GPT-2 tokens (those in {} texts and what spells them)", c.vocabSize(),
                baseSize, texts.size());
        return c;
    }

    /**
     * Identifies a data source for provenance: {@code bundled:...} or {@code file:PATH sha256=HEX}.
     *
     * @param source {@code bundled}, {@code full} or a file
     * @param what what is read from it (e.g. {@code sft})
     * @return the identifier
     * @throws IOException when the file is unreadable
     */
    public static String dataId(String source, String what) throws IOException {
        if (BUNDLED.equals(source)) {
            return "bundled:tldr-samples:" + what;
        }
        if (FULL.equals(source)) {
            // the cache verifies every file against its recorded sha256 before use
            return "full:openai-summarize-from-feedback:" + what;
        }
        try (InputStream in = Files.newInputStream(Path.of(source))) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return "file:" + Path.of(source).toAbsolutePath() + " sha256=" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
