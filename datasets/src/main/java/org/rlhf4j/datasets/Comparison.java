package org.rlhf4j.datasets;

import java.util.List;
import java.util.Objects;

/**
 * A row of OpenAI's human comparison data: two summaries of one post (or CNN/DM article) and the labeler's choice.
 *
 * @param id the post or article id ({@code info.id})
 * @param kind whether the row is a Reddit TL;DR or a CNN/DM row
 * @param prompt the post ({@link Prompt.Reddit}) or article ({@link Prompt.Article})
 * @param summaries exactly two summaries, texts as in the file (they begin with a space)
 * @param choice index (0 or 1) of the summary the labeler preferred
 * @param worker labeler id, or null when absent
 * @param batch batch name (e.g. {@code batch18}), or null when absent
 * @param rawSplit the file's {@code split} value ({@code train}, {@code valid1}, {@code valid2})
 * @param confidence {@code extra.confidence} (1-9), or null when absent
 */
public record Comparison(
        String id,
        Kind kind,
        Prompt prompt,
        List<Summary> summaries,
        int choice,
        String worker,
        String batch,
        String rawSplit,
        Integer confidence)
        implements DataRow {

    /** Where a comparison's text comes from; CNN/DM rows are kept apart from TL;DR rows. */
    public enum Kind {
        /** A Reddit TL;DR post ({@code info.post}). */
        TLDR,
        /** A CNN/Daily Mail article ({@code info.article}). */
        CNNDM
    }

    /**
     * One of the two summaries.
     *
     * @param text summary text as in the file (begins with a space)
     * @param policy the policy that wrote it (e.g. {@code ref}, {@code sup4_6b_p.95}), or null
     * @param note the labeler's note, or null
     */
    public record Summary(String text, String policy, String note) {

        /**
         * Checks the text.
         *
         * @param text text
         * @param policy policy
         * @param note note
         */
        public Summary {
            Objects.requireNonNull(text, "text");
        }
    }

    /**
     * Checks the parts.
     *
     * @param id id
     * @param kind kind
     * @param prompt prompt
     * @param summaries two summaries
     * @param choice 0 or 1
     * @param worker worker
     * @param batch batch
     * @param rawSplit split
     * @param confidence confidence
     */
    public Comparison {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(rawSplit, "rawSplit");
        summaries = List.copyOf(summaries);
        if (summaries.size() != 2) {
            throw new IllegalArgumentException("a comparison needs exactly 2 summaries, got " + summaries.size());
        }
        if (choice != 0 && choice != 1) {
            throw new IllegalArgumentException("choice must be 0 or 1, got " + choice);
        }
    }

    /**
     * Returns the split, with CNN/DM rows kept apart: {@code rawSplit} for TL;DR rows, {@code "cnndm-" + rawSplit}
     * for CNN/DM rows.
     *
     * @return the split
     */
    @Override
    public String split() {
        return kind == Kind.CNNDM ? "cnndm-" + rawSplit : rawSplit;
    }

    /**
     * Returns the preferred summary, {@code summaries[choice]}.
     *
     * @return the chosen summary
     */
    public Summary chosen() {
        return summaries.get(choice);
    }

    /**
     * Returns the other summary, {@code summaries[1 - choice]}.
     *
     * @return the rejected summary
     */
    public Summary rejected() {
        return summaries.get(1 - choice);
    }

    /**
     * Converts this comparison into a preference pair (texts unchanged).
     *
     * @return the pair
     */
    public PreferencePair toPair() {
        return new PreferencePair(id, split(), prompt, chosen().text(), rejected().text());
    }
}
