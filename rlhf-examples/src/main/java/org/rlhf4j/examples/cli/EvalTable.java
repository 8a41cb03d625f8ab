package org.rlhf4j.examples.cli;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.algorithms.eval.HallucinationRate;
import org.rlhf4j.algorithms.eval.Interval;
import org.rlhf4j.algorithms.eval.PolicyEvaluation;
import org.rlhf4j.algorithms.eval.PolicyFlag;

/**
 * The console table of {@code rlhf4j eval}: one row per evaluated policy (win rate and its 95 % interval, length, EOS,
 * ROUGE-1, flags), with the hallucination-rate columns ({@code halluc.} and its 95 % interval) only when a grounding
 * judge ran.
 */
final class EvalTable {

    private EvalTable() {}

    /**
     * Formats the table.
     *
     * @param evaluations the evaluations
     * @return the table text, without a trailing newline
     */
    static String format(List<PolicyEvaluation> evaluations) {
        boolean grounding = evaluations.stream().anyMatch(e -> e.hallucination() != null);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-20s %7s %8s %-13s", "policy", "prompts",
                "win rate", "95% CI"));
        if (grounding) {
            sb.append(String.format(Locale.ROOT, " %7s %-13s %9s", "halluc.", "95% CI", "malformed"));
        }
        sb.append(String.format(Locale.ROOT, " %7s %5s %5s  %s%n", "length", "EOS", "R-1", "flags"));
        for (PolicyEvaluation e : evaluations) {
            String name = e.name().length() > 20 ? e.name().substring(0, 17) + "..." : e.name();
            double win = e.winRate() == null ? Double.NaN : e.winRate().winRate();
            Interval winCi = e.winRate() == null ? new Interval(Double.NaN, Double.NaN) : e.winRate().ci95();
            sb.append(String.format(Locale.ROOT, "%-20s %7d %8s %-13s", name, e.prompts(), percent(win), ci(winCi)));
            if (grounding) {
                HallucinationRate.Result h = e.hallucination();
                sb.append(h == null ? String.format(Locale.ROOT, " %7s %-13s %9s", "-", "-", "-")
                        : String.format(Locale.ROOT, " %7s %-13s %9d", percent(h.rate()), ci(h.ci95()), h.malformed()));
            }
            List<PolicyFlag> flags = EvaluationChecks.check(e).flags();
            sb.append(String.format(Locale.ROOT, " %7.1f %4.0f%% %5.3f  %s%n", e.meanLength(), 100 * e.eosFraction(),
                    e.rouge() == null ? Double.NaN : e.rouge().rouge1(),
                    flags.isEmpty() ? "-" : flags.stream().map(PolicyFlag::key).collect(Collectors.joining(","))));
        }
        return sb.toString().stripTrailing();
    }

    private static String percent(double p) {
        return Double.isNaN(p) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * p);
    }

    private static String ci(Interval ci) {
        return ci.defined() ? String.format(Locale.ROOT, "[%.1f, %.1f]", 100 * ci.lo(), 100 * ci.hi()) : "-";
    }
}
