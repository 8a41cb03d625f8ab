package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What an evaluation can and cannot show: whether the judge is better than chance, which policies' summaries are
 * broken ({@link PolicyFlag}), the warnings a report must print, and a ranking that never presents a flagged policy
 * or a chance-level judge as a result.
 *
 * <p>The rules (constants below):
 * <ul>
 *   <li><b>judge at chance</b>: the 95 % Wilson interval of the judge's held-out accuracy (pairs where the
 *       preferred summary scored strictly higher; ties count as wrong) contains {@value #CHANCE}; <b>below
 *       chance</b>: its upper bound is under {@value #CHANCE}; only a lower bound above {@value #CHANCE} makes the
 *       judge informative.</li>
 *   <li><b>degenerate response</b>: its most frequent token makes up at least {@value #DEGENERATE_TOKEN_SHARE} of
 *       its tokens (EOS excluded; tokens compared by their text without surrounding whitespace, so {@code "I"} and
 *       {@code " I"} are one). This covers an empty response (share 1 by convention), a one-token response and
 *       {@code "I I I … I."}; {@link #dominantTokenShare} computes the share.</li>
 *   <li>{@link PolicyFlag#DEGENERATE}: degenerate responses ≥ {@value #DEGENERATE_RESPONSE_SHARE} of all
 *       ("half or more").</li>
 *   <li>{@link PolicyFlag#LENGTH_COLLAPSE}: mean response length &lt; {@value #LENGTH_COLLAPSE_RATIO} × the
 *       references' mean length, both in tokens with the EOS counted (a reference is encoded as
 *       {@code " " + text + EOS}); not checked when the reference length is unknown.</li>
 *   <li>{@link PolicyFlag#NO_EOS}: responses without EOS within the token budget &gt;
 *       {@value #NO_EOS_SHARE} of all ("most": exactly half is not flagged).</li>
 *   <li>{@link PolicyFlag#NO_SUMMARY_MARKER}: outputs of a scaffolded policy without the {@code Summary:} marker &gt;
 *       {@value #NO_SUMMARY_MARKER_SHARE} of all (it did not learn its protocol).</li>
 * </ul>
 */
public final class EvaluationChecks {

    /** Accuracy of a pairwise judge at random; also the win rate of a policy as good as its opponent. */
    public static final double CHANCE = 0.5;
    /** Share of its tokens the most frequent token needs for a response to be degenerate. */
    public static final double DEGENERATE_TOKEN_SHARE = 0.9;
    /** Share of degenerate responses at or above which a policy is flagged {@link PolicyFlag#DEGENERATE}. */
    public static final double DEGENERATE_RESPONSE_SHARE = 0.5;
    /** Ratio of mean lengths (policy / references) below which a policy is flagged {@link PolicyFlag#LENGTH_COLLAPSE}. */
    public static final double LENGTH_COLLAPSE_RATIO = 0.25;
    /** Share of responses without EOS above which a policy is flagged {@link PolicyFlag#NO_EOS}. */
    public static final double NO_EOS_SHARE = 0.5;
    /** Share of scaffolded outputs without "Summary:" above which a policy is flagged {@link PolicyFlag#NO_SUMMARY_MARKER}. */
    public static final double NO_SUMMARY_MARKER_SHARE = 0.5;

    private EvaluationChecks() {}

    /**
     * A judge's accuracy on held-out preference pairs.
     *
     * @param judge the judge's name in sentences, e.g. {@code reward model}
     * @param correct pairs where it preferred the labellers' choice
     * @param pairs pairs judged
     */
    public record JudgeAccuracy(String judge, int correct, int pairs) {

        /**
         * Checks the counts.
         *
         * @param judge name
         * @param correct correct pairs, 0 ≤ correct ≤ pairs
         * @param pairs pairs, ≥ 0
         */
        public JudgeAccuracy {
            Objects.requireNonNull(judge, "judge");
            if (pairs < 0 || correct < 0 || correct > pairs) {
                throw new IllegalArgumentException("need 0 <= correct <= pairs, got correct=" + correct + ", pairs=" + pairs);
            }
        }

        /**
         * Returns correct / pairs (NaN without pairs).
         *
         * @return the accuracy
         */
        @JsonProperty("accuracy")
        public double accuracy() {
            return pairs == 0 ? Double.NaN : (double) correct / pairs;
        }

        /**
         * Returns the 95 % Wilson score interval of the accuracy.
         *
         * @return the interval
         */
        @JsonProperty("ci95")
        public Interval ci95() {
            return Interval.wilson95(correct, pairs);
        }

        /**
         * Returns whether the judge is informative: the interval lies entirely above chance.
         *
         * @return true when the interval's lower bound exceeds 0.5
         */
        public boolean informative() {
            return ci95().lo() > CHANCE;
        }

        /**
         * Returns whether the judge is at chance: its interval contains 0.5 (or it has no pairs).
         *
         * @return true at chance
         */
        @JsonProperty("at_chance")
        public boolean atChance() {
            Interval ci = ci95();
            return !ci.defined() || ci.contains(CHANCE);
        }
    }

    /**
     * The counts behind a policy's flags.
     *
     * @param responses responses evaluated
     * @param degenerate degenerate responses
     * @param withoutEos responses without EOS within the token budget
     * @param meanLength mean response length in tokens (EOS counted when present)
     * @param referenceMeanLength mean length of the references in tokens (EOS counted), NaN when unknown
     * @param withoutSummaryMarker outputs of a scaffolded policy without the {@code Summary:} marker (0 otherwise)
     */
    public record Stats(int responses, int degenerate, int withoutEos, double meanLength, double referenceMeanLength,
            int withoutSummaryMarker) {

        /**
         * Counts of a policy that is not scaffolded.
         *
         * @param responses responses
         * @param degenerate degenerate responses
         * @param withoutEos responses without EOS
         * @param meanLength mean length
         * @param referenceMeanLength reference mean length
         */
        public Stats(int responses, int degenerate, int withoutEos, double meanLength, double referenceMeanLength) {
            this(responses, degenerate, withoutEos, meanLength, referenceMeanLength, 0);
        }

        /**
         * Checks the counts.
         *
         * @param responses responses, ≥ 1
         * @param degenerate in [0, responses]
         * @param withoutEos in [0, responses]
         * @param meanLength ≥ 0
         * @param referenceMeanLength ≥ 0 or NaN
         * @param withoutSummaryMarker in [0, responses]
         */
        public Stats {
            if (withoutSummaryMarker < 0 || withoutSummaryMarker > responses) {
                throw new IllegalArgumentException("need 0 <= withoutSummaryMarker <= responses, got "
                        + withoutSummaryMarker + " of " + responses);
            }
            if (responses < 1 || degenerate < 0 || degenerate > responses || withoutEos < 0 || withoutEos > responses) {
                throw new IllegalArgumentException("need responses >= 1 and 0 <= degenerate, withoutEos <= responses, got "
                        + responses + ", " + degenerate + ", " + withoutEos);
            }
            if (!(meanLength >= 0) || referenceMeanLength < 0) {
                throw new IllegalArgumentException("lengths must be >= 0, got meanLength=" + meanLength
                        + ", referenceMeanLength=" + referenceMeanLength);
            }
        }
    }

    /**
     * One policy's checks.
     *
     * @param name the policy
     * @param stats the counts
     * @param flags the flags raised, in {@link PolicyFlag} order
     * @param winRate its win rate, or null without a judge
     */
    public record PolicyCheck(String name, Stats stats, List<PolicyFlag> flags, WinRate.Result winRate) {

        /**
         * Copies the flags.
         *
         * @param name name
         * @param stats counts
         * @param flags flags
         * @param winRate win rate, may be null
         */
        public PolicyCheck {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(stats, "stats");
            flags = List.copyOf(flags);
        }

        /**
         * Returns whether any flag was raised.
         *
         * @return true when flagged
         */
        public boolean flagged() {
            return !flags.isEmpty();
        }
    }

    /**
     * The policies by win rate, and which one (if any) may be called best.
     *
     * @param order policies with a win rate, highest first (ties in input order)
     * @param best the highest-ranked unflagged policy when the judge is informative, else null
     * @param note one sentence saying why {@code best} is what it is
     */
    public record Ranking(List<String> order, String best, String note) {}

    /**
     * Everything a report needs.
     *
     * @param judge the judge's held-out accuracy, or null when unknown
     * @param policies each policy's checks, in input order
     * @param warnings one sentence per problem (empty when there is none)
     * @param ranking the ranking
     */
    public record Assessment(JudgeAccuracy judge, List<PolicyCheck> policies, List<String> warnings, Ranking ranking) {}

    /**
     * Returns the share of a response's tokens taken by its most frequent token; tokens are compared by their text
     * with surrounding whitespace removed. An empty response gives 1 (it has no second token).
     *
     * @param tokens the decoded tokens of the response, EOS excluded
     * @return the share in (0, 1]
     */
    public static double dominantTokenShare(List<String> tokens) {
        if (tokens.isEmpty()) {
            return 1.0;
        }
        Map<String, Integer> counts = new HashMap<>();
        int max = 0;
        for (String t : tokens) {
            max = Math.max(max, counts.merge(t.strip(), 1, Integer::sum));
        }
        return (double) max / tokens.size();
    }

    /**
     * Returns whether a response is degenerate: its dominant token share is at least {@value #DEGENERATE_TOKEN_SHARE}.
     *
     * @param dominantTokenShare from {@link #dominantTokenShare}
     * @return true when degenerate
     */
    public static boolean degenerate(double dominantTokenShare) {
        return dominantTokenShare >= DEGENERATE_TOKEN_SHARE;
    }

    /**
     * Counts what the flags need from an evaluation.
     *
     * @param e the evaluation
     * @return the counts
     */
    public static Stats stats(PolicyEvaluation e) {
        int degenerate = 0;
        int withoutEos = 0;
        for (PolicyEvaluation.Summary s : e.summaries()) {
            degenerate += degenerate(s.dominantTokenShare()) ? 1 : 0;
            withoutEos += s.eos() ? 0 : 1;
        }
        return new Stats(e.summaries().size(), degenerate, withoutEos, e.meanLength(),
                e.referenceMeanLength() == null ? Double.NaN : e.referenceMeanLength(),
                e.withoutSummaryMarker() == null ? 0 : e.withoutSummaryMarker());
    }

    /**
     * Applies the flag rules (see the class comment).
     *
     * @param s the counts
     * @return the flags raised, in {@link PolicyFlag} order
     */
    public static List<PolicyFlag> flags(Stats s) {
        List<PolicyFlag> out = new ArrayList<>();
        if (s.degenerate() >= DEGENERATE_RESPONSE_SHARE * s.responses()) {
            out.add(PolicyFlag.DEGENERATE);
        }
        if (s.referenceMeanLength() > 0 && s.meanLength() < LENGTH_COLLAPSE_RATIO * s.referenceMeanLength()) {
            out.add(PolicyFlag.LENGTH_COLLAPSE);
        }
        if (s.withoutEos() > NO_EOS_SHARE * s.responses()) {
            out.add(PolicyFlag.NO_EOS);
        }
        if (s.withoutSummaryMarker() > NO_SUMMARY_MARKER_SHARE * s.responses()) {
            out.add(PolicyFlag.NO_SUMMARY_MARKER);
        }
        return out;
    }

    /**
     * Checks one evaluation.
     *
     * @param e the evaluation
     * @return its checks
     */
    public static PolicyCheck check(PolicyEvaluation e) {
        Stats s = stats(e);
        return new PolicyCheck(e.name(), s, flags(s), e.winRate());
    }

    /**
     * Checks every evaluation, then writes the warnings and the ranking.
     *
     * @param judge the judge's held-out accuracy, or null when unknown
     * @param evaluations the evaluations
     * @return the assessment
     */
    public static Assessment assess(JudgeAccuracy judge, List<PolicyEvaluation> evaluations) {
        List<PolicyCheck> checks = evaluations.stream().map(EvaluationChecks::check).toList();
        return new Assessment(judge, checks, warnings(judge, checks), rank(judge, checks));
    }

    /**
     * Writes one sentence per problem: the judge at or below chance (or of unknown accuracy when some policy has a
     * win rate), then each raised flag of each policy with its numbers and threshold.
     *
     * @param judge the judge's held-out accuracy, or null when unknown
     * @param checks the policies' checks
     * @return the warnings, empty when there is nothing to warn about
     */
    public static List<String> warnings(JudgeAccuracy judge, List<PolicyCheck> checks) {
        List<String> out = new ArrayList<>();
        boolean judged = checks.stream().anyMatch(c -> c.winRate() != null);
        if (judge == null) {
            if (judged) {
                out.add("The judge's held-out accuracy is unknown, so its win rates cannot be told apart from chance.");
            }
        } else if (judge.pairs() == 0) {
            out.add("The " + judge.judge() + " was not evaluated on any held-out pair, so its win rates cannot be "
                    + "told apart from chance.");
        } else if (judge.atChance()) {
            out.add(String.format(Locale.ROOT, "The %s's held-out accuracy is %.3f (95%% CI %s, %d of %d pairs): the "
                    + "interval includes 0.5, so it is at chance and the scores and win rates it gives carry no "
                    + "information about summary quality.", judge.judge(), judge.accuracy(), fmt(judge.ci95()),
                    judge.correct(), judge.pairs()));
        } else if (!judge.informative()) {
            out.add(String.format(Locale.ROOT, "The %s's held-out accuracy is %.3f (95%% CI %s, %d of %d pairs), "
                    + "below chance: it prefers the rejected summaries, so the win rates it gives are not evidence of "
                    + "quality.", judge.judge(), judge.accuracy(), fmt(judge.ci95()), judge.correct(), judge.pairs()));
        }
        for (PolicyCheck c : checks) {
            Stats s = c.stats();
            for (PolicyFlag f : c.flags()) {
                out.add(switch (f) {
                    case DEGENERATE -> String.format(Locale.ROOT, "%s is flagged degenerate: %d of %d responses (%.0f%%) "
                            + "are empty or one repeated token (flagged at %.0f%% or more).", c.name(), s.degenerate(),
                            s.responses(), 100.0 * s.degenerate() / s.responses(), 100 * DEGENERATE_RESPONSE_SHARE);
                    case LENGTH_COLLAPSE -> String.format(Locale.ROOT, "%s is flagged length_collapse: its mean "
                            + "response length, %.1f tokens, is %.0f%% of the references' %.1f (flagged below %.0f%%).",
                            c.name(), s.meanLength(), 100 * s.meanLength() / s.referenceMeanLength(),
                            s.referenceMeanLength(), 100 * LENGTH_COLLAPSE_RATIO);
                    case NO_EOS -> String.format(Locale.ROOT, "%s is flagged no_eos: %d of %d responses (%.0f%%) end "
                            + "without EOS within the token budget (flagged above %.0f%%).", c.name(), s.withoutEos(),
                            s.responses(), 100.0 * s.withoutEos() / s.responses(), 100 * NO_EOS_SHARE);
                    case NO_SUMMARY_MARKER -> String.format(Locale.ROOT, "%s is flagged no_summary_marker: %d of %d "
                            + "scaffolded outputs (%.0f%%) have no \"Summary:\" marker and were evaluated as written "
                            + "(flagged above %.0f%%).", c.name(), s.withoutSummaryMarker(), s.responses(),
                            100.0 * s.withoutSummaryMarker() / s.responses(), 100 * NO_SUMMARY_MARKER_SHARE);
                });
            }
        }
        return out;
    }

    /**
     * Ranks the policies by win rate and names the best one only when that is a result: the judge is informative
     * (its accuracy interval lies above 0.5) and the policy is not flagged.
     *
     * @param judge the judge's held-out accuracy, or null when unknown
     * @param checks the policies' checks
     * @return the ranking
     */
    public static Ranking rank(JudgeAccuracy judge, List<PolicyCheck> checks) {
        List<PolicyCheck> ranked = checks.stream()
                .filter(c -> c.winRate() != null && !Double.isNaN(c.winRate().winRate()))
                .sorted(Comparator.comparingDouble((PolicyCheck c) -> c.winRate().winRate()).reversed())
                .toList();
        List<String> order = ranked.stream().map(PolicyCheck::name).toList();
        if (ranked.isEmpty()) {
            return new Ranking(order, null, "No policy is ranked: none has a win rate.");
        }
        if (judge == null || !judge.informative()) {
            String why = judge == null || judge.pairs() == 0 ? "the judge's held-out accuracy is unknown"
                    : String.format(Locale.ROOT, "the %s judging the win rates is %s (held-out accuracy %.3f, 95%% CI "
                            + "%s)", judge.judge(), judge.atChance() ? "at chance" : "below chance", judge.accuracy(),
                            fmt(judge.ci95()));
            return new Ranking(order, null, "No policy is ranked best: " + why + ".");
        }
        List<PolicyCheck> above = new ArrayList<>();
        PolicyCheck best = null;
        PolicyCheck runnerUp = null;
        for (PolicyCheck c : ranked) {
            if (c.flagged()) {
                if (best == null) {
                    above.add(c);
                }
            } else if (best == null) {
                best = c;
            } else if (runnerUp == null) {
                runnerUp = c;
            }
        }
        if (best == null) {
            return new Ranking(order, null, "No policy is ranked best: every policy with a win rate is flagged.");
        }
        StringBuilder note = new StringBuilder(String.format(Locale.ROOT, "%s ranks best by win rate: %.1f%% (95%% CI "
                + "%s).", best.name(), 100 * best.winRate().winRate(), fmtPercent(best.winRate().ci95())));
        if (!above.isEmpty()) {
            note.append(" Ranked above it but flagged: ").append(above.stream()
                    .map(c -> c.name() + " (" + c.flags().stream().map(PolicyFlag::key).collect(Collectors.joining(", "))
                            + ")")
                    .collect(Collectors.joining(", "))).append('.');
        }
        if (runnerUp != null && runnerUp.winRate().ci95().hi() >= best.winRate().ci95().lo()) {
            note.append(String.format(Locale.ROOT, " Its interval overlaps %s's (%.1f%%, 95%% CI %s), so their order is "
                    + "not established.", runnerUp.name(), 100 * runnerUp.winRate().winRate(),
                    fmtPercent(runnerUp.winRate().ci95())));
        }
        return new Ranking(order, best.name(), note.toString());
    }

    private static String fmt(Interval ci) {
        return String.format(Locale.ROOT, "[%.3f, %.3f]", ci.lo(), ci.hi());
    }

    private static String fmtPercent(Interval ci) {
        return String.format(Locale.ROOT, "[%.1f%%, %.1f%%]", 100 * ci.lo(), 100 * ci.hi());
    }
}
