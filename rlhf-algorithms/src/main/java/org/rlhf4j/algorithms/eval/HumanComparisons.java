package org.rlhf4j.algorithms.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.task.EncodedQuery;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Human comparisons to check a judge against: one {@link Matchup} per OpenAI comparison row (summary A = the row's
 * first summary), with the labellers' choices and confidences, and the rows left out by reason. {@link #agreement}
 * judges them and compares the verdicts with the labels ({@link WinRate#humanAgreement}).
 *
 * @param matchups the matchups, in the order of the rows
 * @param choices the labeller's choice per matchup (0 = summary A)
 * @param confidences the labeller's confidence (1–9) per matchup, null entries where the row has none
 * @param skipped rows left out, by reason: {@code cnndm} (not a TL;DR row), {@code query_too_long} (over the task's
 *     query limit) and {@code too_long_for_the_model} (query and the longer summary exceed the models' positions)
 */
public record HumanComparisons(List<Matchup> matchups, List<Integer> choices, List<Integer> confidences,
        Map<String, Integer> skipped) {

    /**
     * Checks and copies the parts.
     *
     * @param matchups matchups
     * @param choices choices
     * @param confidences confidences
     * @param skipped skips by reason
     */
    public HumanComparisons {
        matchups = List.copyOf(matchups);
        choices = List.copyOf(choices);
        confidences = Collections.unmodifiableList(new ArrayList<>(confidences));
        skipped = Collections.unmodifiableMap(new TreeMap<>(skipped));
        if (choices.size() != matchups.size() || confidences.size() != matchups.size()) {
            throw new IllegalArgumentException("need one choice and one confidence per matchup: " + matchups.size()
                    + " matchups, " + choices.size() + " choices, " + confidences.size() + " confidences");
        }
    }

    /**
     * Builds the matchups of the TL;DR rows that fit, in order, until {@code limit} of them are built.
     *
     * @param comparisons the rows (e.g. {@link org.rlhf4j.datasets.BundledTldr#comparisons()})
     * @param task query format and limit; its tokenizer counts the summaries' tokens (EOS included)
     * @param maxPositions the smallest maximum sequence length of the models that will judge (query + summary)
     * @param limit the most matchups to build ({@link Integer#MAX_VALUE} for all)
     * @return the comparisons
     * @throws IllegalArgumentException when {@code maxPositions} or {@code limit} is below 1, or no row fits (the
     *     message has the skips by reason)
     */
    public static HumanComparisons of(List<Comparison> comparisons, TldrTask task, int maxPositions, int limit) {
        Objects.requireNonNull(comparisons, "comparisons");
        Objects.requireNonNull(task, "task");
        if (maxPositions < 1) {
            throw new IllegalArgumentException("maxPositions must be >= 1, got " + maxPositions);
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
        List<Matchup> ms = new ArrayList<>();
        List<Integer> choices = new ArrayList<>();
        List<Integer> confidences = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        for (Comparison c : comparisons) {
            if (ms.size() >= limit) {
                break;
            }
            if (c.kind() != Comparison.Kind.TLDR) {
                skipped.merge("cnndm", 1, Integer::sum);
                continue;
            }
            EncodedQuery q;
            try {
                q = task.encodeQuery(c.prompt());
            } catch (TaskLimitException e) {
                skipped.merge("query_too_long", 1, Integer::sum);
                continue;
            }
            String a = c.summaries().get(0).text();
            String b = c.summaries().get(1).text();
            int longest = Math.max(tokens(task, a), tokens(task, b));
            if (q.length() + longest > maxPositions) {
                skipped.merge("too_long_for_the_model", 1, Integer::sum);
                continue;
            }
            ms.add(new Matchup(c.id(), Matchup.postText(c.prompt()), q.ids(), a, b));
            choices.add(c.choice());
            confidences.add(c.confidence());
        }
        if (ms.isEmpty()) {
            throw new IllegalArgumentException("none of the " + comparisons.size() + " comparisons fits; skipped by "
                    + "reason: " + skipped);
        }
        return new HumanComparisons(ms, choices, confidences, skipped);
    }

    /**
     * Judges every matchup and measures agreement with the labellers, overall and per confidence.
     *
     * @param judge the judge
     * @return the agreement
     */
    public WinRate.HumanAgreement agreement(Judge judge) {
        List<Judgement> js = judge.judgeAll(matchups);
        return WinRate.humanAgreement(js, choices.stream().mapToInt(Integer::intValue).toArray(),
                confidences.toArray(new Integer[0]));
    }

    /** Tokens of a summary as the judge scores it: a leading space, the stripped text, then EOS. */
    private static int tokens(TldrTask task, String summary) {
        return task.tokenizer().encode(" " + summary.strip()).length + 1;
    }
}
