package org.rlhf4j.datasets.download;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * One canonical file of OpenAI's summarize-from-feedback release, named by its path under the base URL
 * {@code https://openaipublic.blob.core.windows.net/summarize-from-feedback/}.
 *
 * @param path path relative to the base URL (also the path relative to the cache's data root)
 * @param group which download group it belongs to
 */
public record TldrFile(String path, Group group) {

    /** The download groups ({@code --what}). */
    public enum Group {
        /** The {@code tldr_3_filtered} SFT posts. */
        SFT,
        /** The human comparison batches. */
        COMPARISONS;

        /**
         * Parses {@code sft}, {@code comparisons} or {@code all}.
         *
         * @param what the name
         * @return the groups it selects
         * @throws IllegalArgumentException when the name is unknown
         */
        public static List<Group> parse(String what) {
            String w = what == null ? "" : what.trim().toLowerCase(Locale.ROOT);
            return switch (w) {
                case "sft" -> List.of(SFT);
                case "comparisons" -> List.of(COMPARISONS);
                case "all" -> List.of(SFT, COMPARISONS);
                default -> throw new IllegalArgumentException(
                        "unknown download group '" + what + "'; expected sft, comparisons or all");
            };
        }
    }

    /** The SFT files: train, valid, test. */
    public static final List<TldrFile> SFT_FILES = List.of(
            new TldrFile("datasets/tldr_3_filtered/train.jsonl", Group.SFT),
            new TldrFile("datasets/tldr_3_filtered/valid.jsonl", Group.SFT),
            new TldrFile("datasets/tldr_3_filtered/test.jsonl", Group.SFT));

    /** The comparison files: batch3..batch20, batch22, batch0_cnndm, cnndm0, cnndm2, edit_b2_eval_test. */
    public static final List<TldrFile> COMPARISON_FILES;

    static {
        List<TldrFile> c = new ArrayList<>();
        for (int b = 3; b <= 20; b++) {
            c.add(new TldrFile("dataset/comparisons/batch" + b + ".json", Group.COMPARISONS));
        }
        for (String n : List.of("batch22", "batch0_cnndm", "cnndm0", "cnndm2", "edit_b2_eval_test")) {
            c.add(new TldrFile("dataset/comparisons/" + n + ".json", Group.COMPARISONS));
        }
        COMPARISON_FILES = Collections.unmodifiableList(c);
    }

    /**
     * Returns the files of some groups, SFT first.
     *
     * @param groups the groups
     * @return the files
     */
    public static List<TldrFile> of(List<Group> groups) {
        List<TldrFile> out = new ArrayList<>();
        if (groups.contains(Group.SFT)) {
            out.addAll(SFT_FILES);
        }
        if (groups.contains(Group.COMPARISONS)) {
            out.addAll(COMPARISON_FILES);
        }
        return out;
    }

    /**
     * Returns the file name (last path segment).
     *
     * @return e.g. {@code batch18.json}
     */
    public String fileName() {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
