package org.rlhf4j.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.datasets.io.JsonlReader;
import org.rlhf4j.datasets.io.ReadReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real TL;DR rows shipped inside this module (see {@code org/rlhf4j/datasets/tldr/NOTICE.md}): the default data
 * when nothing was downloaded, and the fixtures of the tests.
 *
 * <p>SFT rows: the first 50 rows of each split of CarperAI/openai_summarize_tldr ({@code train}, {@code valid},
 * {@code test}); preference pairs: the first 50 rows of each split of CarperAI/openai_summarize_comparisons
 * ({@code train}, {@code test}, {@code valid1}, {@code valid2}); raw comparisons: the first 100 rows of OpenAI's
 * {@code batch18.json}. Rows are read strictly (a bad bundled row is a bug).
 */
public final class BundledTldr {

    /** The classpath directory of the bundled files. */
    public static final String RESOURCE_DIR = "/org/rlhf4j/datasets/tldr/";

    /** The SFT splits. */
    public static final List<String> SFT_SPLITS = List.of("train", "valid", "test");

    /** The preference-pair splits. */
    public static final List<String> PAIR_SPLITS = List.of("train", "test", "valid1", "valid2");

    /** The file of raw OpenAI comparisons. */
    public static final String COMPARISONS_FILE = "openai-comparisons-batch18-head100.jsonl";

    private static final Logger LOG = LoggerFactory.getLogger(BundledTldr.class);

    private BundledTldr() {}

    /**
     * Returns the SFT examples of a split: Reddit prompt and completion {@code " " + label}.
     *
     * @param split {@code train}, {@code valid} or {@code test}
     * @return 50 examples
     */
    public static List<SftExample> sft(String split) {
        check(split, SFT_SPLITS);
        return read("carper-sft-" + split + ".jsonl", DataFormat.SFT, SftExample.class);
    }

    /**
     * Returns RL prompts of a split (the SFT rows, with the label as reference).
     *
     * @param split {@code train}, {@code valid} or {@code test}
     * @return 50 prompt rows
     */
    public static List<PromptRow> prompts(String split) {
        return sft(split).stream().map(SftExample::toPromptRow).toList();
    }

    /**
     * Returns the usable preference pairs of a split, {@code "TL;DR:"} prefix removed; rows with an empty summary
     * are skipped and logged (see {@link #pairsReport(String)}).
     *
     * @param split {@code train}, {@code test}, {@code valid1} or {@code valid2}
     * @return 50 pairs (47 for {@code valid2})
     */
    public static List<PreferencePair> pairs(String split) {
        List<PreferencePair> out = new ArrayList<>();
        ReadReport report = readPairs(split, out);
        if (report.skippedTotal() > 0) {
            LOG.warn("Bundled pairs '{}': skipped {} unusable rows: {}", split, report.skippedTotal(),
                    report.skipExamples());
        }
        return List.copyOf(out);
    }

    /**
     * Returns the read report of a bundled pair split: rows kept and rows skipped by reason.
     *
     * @param split {@code train}, {@code test}, {@code valid1} or {@code valid2}
     * @return the report
     */
    public static ReadReport pairsReport(String split) {
        return readPairs(split, new ArrayList<>());
    }

    private static ReadReport readPairs(String split, List<PreferencePair> out) {
        check(split, PAIR_SPLITS);
        String fileName = "carper-comparisons-" + split + ".jsonl";
        try (InputStream in = open(fileName)) {
            return JsonlReader.builder().setFormat(DataFormat.PAIRS).setLenient(true).build()
                    .read(fileName, in, (row, ctx) -> out.add((PreferencePair) row));
        } catch (IOException e) {
            throw new UncheckedIOException("bundled file " + fileName + " is unreadable", e);
        }
    }

    /**
     * Returns the 100 raw OpenAI comparisons (all splits; filter with {@link Comparison#split()}).
     *
     * @return the comparisons in file order
     */
    public static List<Comparison> comparisons() {
        return read(COMPARISONS_FILE, DataFormat.OPENAI_COMPARISONS, Comparison.class);
    }

    /**
     * Opens a bundled file.
     *
     * @param fileName e.g. {@code carper-sft-train.jsonl}
     * @return the stream (close it)
     * @throws IllegalArgumentException when there is no such bundled file
     */
    public static InputStream open(String fileName) {
        InputStream in = BundledTldr.class.getResourceAsStream(RESOURCE_DIR + fileName);
        if (in == null) {
            throw new IllegalArgumentException("no bundled file '" + fileName + "' under " + RESOURCE_DIR);
        }
        return in;
    }

    private static <T extends DataRow> List<T> read(String fileName, DataFormat format, Class<T> type) {
        List<T> out = new ArrayList<>();
        try (InputStream in = open(fileName)) {
            JsonlReader.builder().setFormat(format).build().read(fileName, in, (row, ctx) -> out.add(type.cast(row)));
        } catch (IOException e) {
            throw new UncheckedIOException("bundled file " + fileName + " is unreadable", e);
        }
        return List.copyOf(out);
    }

    private static void check(String split, List<String> allowed) {
        if (!allowed.contains(split)) {
            throw new IllegalArgumentException("unknown split '" + split + "'; bundled splits are " + allowed);
        }
    }
}
