package org.rlhf4j.datasets.task;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.SftExample;

/**
 * The "facts, then summary" protocol as a training target, after the directed "exoskeleton reasoning" of
 * Humains-Junior (Yaron et al. 2025, arXiv:2510.25933): a policy trained on it first writes the post's facts, then a summary grounded in them.
 *
 * <pre>
 *  Facts:
 * - &lt;fact 1&gt;
 * - &lt;fact 2&gt;
 * Summary: &lt;summary&gt;
 * </pre>
 *
 * (with the completion's leading space, as every TL;DR completion has). TL;DR data has no fact lists, so
 * {@link #extractFacts} picks them deterministically and offline: the post's sentences that share the most content
 * words with the reference summary (a sentence-level form of ROUGE-1 recall, the extractive "oracle" heuristic of
 * extractive summarisation; Nallapati et al. 2017, SummaRuNNer). The facts are therefore the post's own sentences,
 * never invented; they are those the reference draws on, which is what the protocol should teach. At generation time
 * {@link #summaryPart} keeps the text after the last {@value #SUMMARY_MARKER}.
 */
public final class FactScaffold {

    /** The line that opens the fact list. */
    public static final String FACTS_HEADER = "Facts:";

    /** The marker before the summary. */
    public static final String SUMMARY_MARKER = "Summary:";

    /** Default number of facts per target. */
    public static final int DEFAULT_MAX_FACTS = 3;

    /** Longest fact in words; longer sentences are cut and end with "…". */
    public static final int MAX_FACT_WORDS = 30;

    private static final Pattern WORD = Pattern.compile("[a-z0-9]+");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+|\\s*\\R\\s*");
    // function words that carry no fact; a sentence is chosen for the content words it shares with the reference
    private static final Set<String> STOP = Set.of("a", "an", "the", "and", "or", "but", "if", "so", "to", "of", "in",
            "on", "at", "for", "with", "from", "by", "about", "as", "into", "than", "then", "that", "this", "these",
            "those", "it", "its", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "have",
            "has", "had", "i", "me", "my", "we", "our", "you", "your", "he", "him", "his", "she", "her", "they", "them",
            "their", "what", "which", "who", "how", "when", "where", "why", "not", "no", "just", "very", "can", "will",
            "would", "should", "could", "m", "s", "t", "re", "ve", "ll", "d", "all", "any", "some", "there", "here",
            "up", "out", "get", "got", "really", "also", "too", "because", "what's", "tl", "dr");

    private FactScaffold() {}

    /**
     * Picks up to {@code maxFacts} facts for a target: the sentences of the post (a Reddit post's title and body; an
     * article's text; a raw prompt's text without a trailing {@code TL;DR:}, a {@code SUBREDDIT:} line and the
     * {@code TITLE:} / {@code POST:} labels) that share at least one content word
     * with the summary, the most shared first (ties: the earlier sentence), then put back in the post's order. A
     * sentence is split at {@code .!?} followed by space and at line breaks; sentences of fewer than 3 words are not
     * facts; a fact longer than {@value #MAX_FACT_WORDS} words is cut. Content words: lower-cased runs of
     * {@code [a-z0-9]}, without a short list of function words.
     *
     * @param prompt the post
     * @param summary the summary the facts should support (the reference, or a preferred response)
     * @param maxFacts the most facts, &ge; 1
     * @return the facts, in post order; empty when no sentence shares a content word with the summary
     */
    public static List<String> extractFacts(Prompt prompt, String summary, int maxFacts) {
        if (maxFacts < 1) {
            throw new IllegalArgumentException("maxFacts must be >= 1, got " + maxFacts);
        }
        Set<String> target = contentWords(summary);
        List<String> sentences = sentences(prompt);
        record Scored(int index, int score) {}
        List<Scored> scored = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            Set<String> words = contentWords(sentences.get(i));
            words.retainAll(target);
            if (!words.isEmpty()) {
                scored.add(new Scored(i, words.size()));
            }
        }
        scored.sort(Comparator.comparingInt(Scored::score).reversed().thenComparingInt(Scored::index));
        List<Scored> kept = new ArrayList<>(scored.subList(0, Math.min(maxFacts, scored.size())));
        kept.sort(Comparator.comparingInt(Scored::index));
        List<String> out = new ArrayList<>(kept.size());
        for (Scored s : kept) {
            out.add(cut(sentences.get(s.index())));
        }
        return out;
    }

    /**
     * Renders a protocol target: {@code " Facts:\n- f1\n- f2\nSummary: " + summary.strip()}; with no facts the list
     * is {@code "- (none)"}, so the shape never changes.
     *
     * @param facts the facts
     * @param summary the summary
     * @return the completion text (leading space included)
     */
    public static String render(List<String> facts, String summary) {
        StringBuilder sb = new StringBuilder(" ").append(FACTS_HEADER).append('\n');
        if (facts.isEmpty()) {
            sb.append("- (none)\n");
        }
        for (String f : facts) {
            sb.append("- ").append(f.strip().replaceAll("\\s+", " ")).append('\n');
        }
        return sb.append(SUMMARY_MARKER).append(' ').append(summary.strip()).toString();
    }

    /**
     * Returns an SFT example whose completion is the protocol target of its own completion.
     *
     * @param e the example
     * @param maxFacts the most facts
     * @return the scaffolded example
     */
    public static SftExample scaffold(SftExample e, int maxFacts) {
        return new SftExample(e.id(), e.split(), e.prompt(),
                render(extractFacts(e.prompt(), e.completion(), maxFacts), e.completion()));
    }

    /**
     * Returns a preference pair whose responses are protocol targets with the same facts, picked for the chosen
     * response; the pair then differs only in its summaries (in DPO the shared fact tokens have equal log-probabilities
     * in both responses and cancel from the margin: the protocol itself is taught by SFT).
     *
     * @param p the pair
     * @param maxFacts the most facts
     * @return the scaffolded pair
     */
    public static PreferencePair scaffold(PreferencePair p, int maxFacts) {
        List<String> facts = extractFacts(p.prompt(), p.chosen(), maxFacts);
        return new PreferencePair(p.id(), p.split(), p.prompt(), render(facts, p.chosen()), render(facts, p.rejected()));
    }

    /**
     * Returns the summary part of a scaffolded output: the text after the last {@value #SUMMARY_MARKER}, stripped.
     *
     * @param output the generated text
     * @return the summary, or empty when the output has no marker
     */
    public static Optional<String> summaryPart(String output) {
        int i = output.lastIndexOf(SUMMARY_MARKER);
        if (i < 0) {
            return Optional.empty();
        }
        return Optional.of(output.substring(i + SUMMARY_MARKER.length()).strip());
    }

    private static List<String> sentences(Prompt prompt) {
        List<String> parts = new ArrayList<>();
        if (prompt instanceof Prompt.Reddit r) {
            parts.add(r.title());
            parts.add(r.post());
        } else if (prompt instanceof Prompt.Article a) {
            parts.add(a.article());
        } else {
            // a raw TL;DR query (CarperAI, user files): its SUBREDDIT line is no fact, its TITLE:/POST: labels go
            String t = prompt.text().strip();
            t = t.endsWith("TL;DR:") ? t.substring(0, t.length() - "TL;DR:".length()) : t;
            for (String line : t.split("\\R")) {
                if (!line.startsWith("SUBREDDIT:")) {
                    parts.add(line.replaceFirst("^(TITLE|POST):\\s*", ""));
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String part : parts) {
            for (String s : SENTENCE_END.split(part.strip())) {
                String t = s.strip();
                if (t.split("\\s+").length >= 3) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    private static Set<String> contentWords(String text) {
        Set<String> out = new HashSet<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            if (!STOP.contains(m.group())) {
                out.add(m.group());
            }
        }
        return out;
    }

    private static String cut(String sentence) {
        String[] words = sentence.strip().split("\\s+");
        if (words.length <= MAX_FACT_WORDS) {
            return String.join(" ", words);
        }
        return String.join(" ", java.util.Arrays.copyOf(words, MAX_FACT_WORDS)) + "…";
    }
}
