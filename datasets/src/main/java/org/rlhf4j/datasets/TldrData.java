package org.rlhf4j.datasets;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.datasets.download.CacheDirs;
import org.rlhf4j.datasets.download.TldrDownloader;
import org.rlhf4j.datasets.download.TldrFile;
import org.rlhf4j.datasets.io.JsonlReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single entry point to TL;DR data: the full downloaded files when the cache has them, else the bundled samples,
 * and a log line saying which.
 *
 * <p>SFT data counts as downloaded when all three {@code tldr_3_filtered} files are cached; comparisons when every
 * comparison batch is cached. Cached files are verified against the manifest before use. Nothing here touches the
 * network; run {@code rlhf4j data download tldr} (or {@link TldrDownloader}) first for the full data.
 */
public final class TldrData {

    /** Where rows come from. */
    public enum Source {
        /** The full OpenAI files in the cache. */
        DOWNLOADED,
        /** The samples shipped in this module ({@link BundledTldr}). */
        BUNDLED
    }

    private static final Logger LOG = LoggerFactory.getLogger(TldrData.class);

    private final TldrDownloader cache;
    private final Source sftSource;
    private final Source comparisonsSource;

    private TldrData(Path cacheDir) {
        this.cache = TldrDownloader.builder().setCacheDir(cacheDir).build();
        this.sftSource = cache.missing(TldrFile.SFT_FILES).isEmpty() ? Source.DOWNLOADED : Source.BUNDLED;
        this.comparisonsSource =
                cache.missing(TldrFile.COMPARISON_FILES).isEmpty() ? Source.DOWNLOADED : Source.BUNDLED;
        LOG.info("TL;DR data: {}", describe());
    }

    /**
     * Opens the data in the default cache ({@code $RLHF4J_CACHE} or {@code ~/.cache/rlhf4j}).
     *
     * @return the data
     */
    public static TldrData open() {
        return open(CacheDirs.defaultRoot());
    }

    /**
     * Opens the data in a given cache root.
     *
     * @param cacheDir the cache root
     * @return the data
     */
    public static TldrData open(Path cacheDir) {
        return new TldrData(Objects.requireNonNull(cacheDir, "cacheDir"));
    }

    /**
     * Returns where SFT rows (and RL prompts) come from.
     *
     * @return the source
     */
    public Source sftSource() {
        return sftSource;
    }

    /**
     * Returns where preference rows come from.
     *
     * @return the source
     */
    public Source comparisonsSource() {
        return comparisonsSource;
    }

    /**
     * Describes the sources in one line.
     *
     * @return e.g. {@code SFT: bundled samples (no download in /x/summarize-from-feedback); comparisons: ...}
     */
    public String describe() {
        return "SFT: " + describe(sftSource) + "; comparisons: " + describe(comparisonsSource);
    }

    private String describe(Source s) {
        return s == Source.DOWNLOADED
                ? "downloaded files in " + cache.dataRoot()
                : "bundled samples (no complete download in " + cache.dataRoot()
                        + "; run 'rlhf4j data download tldr')";
    }

    /**
     * Returns the SFT examples of a split.
     *
     * @param split {@code train}, {@code valid} or {@code test}
     * @return the examples (completion {@code " " + summary})
     * @throws IOException when a cached file is unreadable or fails its checksum
     * @throws DataFormatException when a cached row is bad
     */
    public List<SftExample> sft(String split) throws IOException {
        if (sftSource == Source.BUNDLED) {
            return BundledTldr.sft(split);
        }
        TldrFile file = TldrFile.SFT_FILES.stream()
                .filter(f -> f.fileName().equals(split + ".jsonl"))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "unknown split '" + split + "'; SFT splits are " + BundledTldr.SFT_SPLITS));
        Path path = cache.verify(file);
        List<SftExample> out = new ArrayList<>();
        JsonlReader.builder().setFormat(DataFormat.OPENAI_TLDR).optSplit(split).build()
                .read(path, (row, ctx) -> out.add(((TldrPost) row).toSft()));
        return out;
    }

    /**
     * Returns RL prompts of a split (the SFT rows with their reference responses).
     *
     * @param split {@code train}, {@code valid} or {@code test}
     * @return the prompt rows
     * @throws IOException when a cached file is unreadable or fails its checksum
     */
    public List<PromptRow> prompts(String split) throws IOException {
        return sft(split).stream().map(SftExample::toPromptRow).toList();
    }

    /**
     * Returns the TL;DR preference pairs of a split (CNN/DM rows excluded).
     *
     * @param split {@code train}, {@code valid1} or {@code valid2} (bundled data also has {@code test})
     * @return the pairs
     * @throws IOException when a cached file is unreadable or fails its checksum
     */
    public List<PreferencePair> pairs(String split) throws IOException {
        if (comparisonsSource == Source.BUNDLED) {
            return BundledTldr.pairs(split);
        }
        return comparisons(split).stream().map(Comparison::toPair).toList();
    }

    /**
     * Returns the raw comparisons of a split; TL;DR splits are {@code train}, {@code valid1}, {@code valid2} and
     * CNN/DM rows are under {@code cnndm-<split>}. Bundled data has only the 100 batch18 rows.
     *
     * @param split the split (see {@link Comparison#split()})
     * @return the comparisons
     * @throws IOException when a cached file is unreadable or fails its checksum
     */
    public List<Comparison> comparisons(String split) throws IOException {
        List<Comparison> out = new ArrayList<>();
        if (comparisonsSource == Source.BUNDLED) {
            for (Comparison c : BundledTldr.comparisons()) {
                if (c.split().equals(split)) {
                    out.add(c);
                }
            }
            return out;
        }
        for (TldrFile f : TldrFile.COMPARISON_FILES) {
            Path path = cache.verify(f);
            JsonlReader.builder().setFormat(DataFormat.OPENAI_COMPARISONS).build().read(path, (row, ctx) -> {
                Comparison c = (Comparison) row;
                if (c.split().equals(split)) {
                    out.add(c);
                }
            });
        }
        return out;
    }
}
