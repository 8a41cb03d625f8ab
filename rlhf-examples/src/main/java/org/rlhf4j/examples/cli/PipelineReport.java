package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.algorithms.eval.HallucinationRate;
import org.rlhf4j.algorithms.eval.Interval;
import org.rlhf4j.algorithms.eval.PolicyFlag;
import org.rlhf4j.core.checkpoint.Provenance;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.examples.Plots;

/** The pipeline's Markdown report (caveats, warnings, table with intervals and flags, plots) and console table. */
final class PipelineReport {

    private PipelineReport() {}

    /**
     * Writes {@code report.md} and copies every stage's plots under {@code plots/<stage>/}. The report opens with
     * what the run can and cannot show, then the warnings, then the table (win rates with their 95 % intervals,
     * flags), the ranking, the policy comparison plot, model and data sizes, the stages and their plots.
     *
     * @param report the report directory
     * @param stagesRoot where the stages ran
     * @param stages stage names in order
     * @param summaries stage results
     * @param seconds wall-clock seconds per stage (0 when skipped as finished)
     * @param evaluation the evaluation
     * @param data train/eval sizes per stage ({@link PipelineCommand#dataSizes})
     * @param caveats from {@link #caveats}
     * @param assessment flags, warnings, ranking
     * @throws IOException on failure
     */
    static void write(Path report, Path stagesRoot, List<String> stages, Map<String, StageResult> summaries,
            Map<String, Double> seconds, PipelineEvaluation.Result evaluation, Map<String, Object> data,
            List<String> caveats, EvaluationChecks.Assessment assessment) throws IOException {
        List<PipelineEvaluation.Row> table = evaluation.rows();
        EvaluationChecks.JudgeAccuracy judge = assessment.judge();
        boolean judgeUninformative = judge == null || !judge.informative();
        StringBuilder md = new StringBuilder();
        md.append("# rlhf4j pipeline report\n\n");
        md.append("## What this run can and cannot show\n\n");
        for (String c : caveats) {
            md.append("- ").append(c).append('\n');
        }
        md.append("\n## Warnings\n\n");
        if (assessment.warnings().isEmpty()) {
            md.append("None: the reward model is better than chance on held-out comparisons and no policy is flagged.\n");
        }
        for (String w : assessment.warnings()) {
            md.append("- **").append(w).append("**\n");
        }
        md.append("\nCreated ").append(Instant.now()).append(" by rlhf4j ").append(Provenance.libraryVersion())
                .append("; stages in `").append(stagesRoot).append("`.\n\n");
        md.append("## Evaluation\n\n");
        md.append("Greedy summaries of held-out prompts (the valid split of the preset's data). RM score: the "
                + "pipeline's reward model, a summary without EOS scores −1 (as in PPO); win rate: against the human "
                + "reference by the reward-model judge, a tie (equal scores) counting ½, with its 95 % Wilson score "
                + "interval over the valid judgements; KL: Σ_t log π − log π_SFT over summaries sampled at τ = 0.7; "
                + "lengths in tokens, EOS counted. Flags (docs/eval.md): `degenerate` — half or more of the "
                + "responses are empty or one token repeated (≥ 90 % of their tokens); `length_collapse` — mean "
                + "length below 25 % of the references'; `no_eos` — more than half of the responses end without "
                + "EOS.\n\n");
        md.append("```\n").append(table(table, summaries)).append("\n```\n\n");
        String mark = judgeUninformative ? " ¹" : "";
        boolean grounding = table.stream().anyMatch(r -> r.hallucination() != null);
        md.append("| policy | RM score | RM score (raw) | reference RM score | KL to SFT | win rate vs reference [95% CI]"
                + (grounding ? " | hallucination rate [95% CI] (malformed)" : "")
                + " | flags | mean length (references) | ends with EOS | ROUGE-1 | sample |\n"
                + "|---|---|---|---|---|---|" + (grounding ? "---|" : "") + "---|---|---|---|---|\n");
        for (PipelineEvaluation.Row r : table) {
            String flags = r.flags().isEmpty() ? "–"
                    : r.flags().stream().map(f -> "**" + f.key() + "**").collect(Collectors.joining(", "));
            HallucinationRate.Result h = r.hallucination();
            String halluc = !grounding ? "" : h == null ? " –  |" : String.format(Locale.ROOT, " %.1f%% [%.1f%%, %.1f%%] "
                    + "(%d) |", 100 * h.rate(), 100 * h.ci95().lo(), 100 * h.ci95().hi(), h.malformed());
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.3f | %.1f%% [%.1f%%, %.1f%%]%s |%s %s "
                    + "| %.1f (%.1f) | %.0f%% | %.3f | %s |%n", r.policy() + (r.flags().isEmpty() ? "" : " ⚑"),
                    r.rmScore(), r.rmScoreRaw(), r.referenceRmScore(), r.klToSft(), 100 * r.winRate(),
                    100 * r.winRateCi95().lo(), 100 * r.winRateCi95().hi(), mark, halluc, flags, r.meanLength(),
                    r.referenceMeanLength(), 100 * r.eosFraction(), r.rouge1(),
                    r.sample().replace("|", "\\|").replace("\n", " ")));
        }
        if (grounding) {
            md.append("\nHallucination rate: share of a policy's summaries with at least one claim the post does not "
                    + "support, by the LLM grounding judge (docs/grounding.md); malformed replies are left out and "
                    + "counted.\n");
        }
        if (judgeUninformative) {
            md.append("\n¹ Judged by a reward model that is not better than chance on held-out comparisons (see the "
                    + "warnings): not a result.\n");
        }
        if (table.stream().anyMatch(r -> !r.flags().isEmpty())) {
            md.append("\n⚑ Flagged: its summaries are broken, whatever its scores say.\n");
        }
        EvaluationChecks.Ranking ranking = assessment.ranking();
        md.append("\n**Ranking by win rate**: ").append(ranking.order().isEmpty() ? "none"
                : String.join(" > ", ranking.order().stream().map(n -> flaggedName(n, assessment)).toList()))
                .append(". ").append(ranking.note()).append("\n");
        if (!table.isEmpty()) {
            Path plot = report.resolve("plots").resolve("policies.png");
            Plots.comparePolicies(plot, table.stream().map(r -> new Plots.PolicyPoint(r.policy(), !r.flags().isEmpty(),
                    r.rmScore(), r.klToSft(), r.meanLength(), r.winRate(), r.winRateCi95())).toList(),
                    table.get(0).referenceRmScore(), table.get(0).referenceMeanLength(),
                    judge == null ? "judge accuracy unknown" : judge.atChance() ? "judge at chance"
                            : judge.informative() ? null : "judge below chance");
            md.append("\n![policies](plots/policies.png)\n");
        }
        md.append("\n## Model and data\n\n");
        md.append(String.format(Locale.ROOT, "Policies: %s, %d layers, width %d, %,d parameters; reward model: %,d "
                + "parameters.", evaluation.modelType(), evaluation.layers(), evaluation.hiddenSize(),
                evaluation.policyParameters(), evaluation.rewardModelParameters()));
        if (judge != null) {
            md.append(String.format(Locale.ROOT, " Reward model held-out accuracy: %.3f, 95%% CI [%.3f, %.3f] (%d of %d "
                    + "pairs).", judge.accuracy(), judge.ci95().lo(), judge.ci95().hi(), judge.correct(), judge.pairs()));
        }
        md.append("\n\n| stage | unit | train | eval |\n|---|---|---|---|\n");
        for (Map.Entry<String, Object> e : data.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> d = (Map<String, Object>) e.getValue();
            md.append("| ").append(e.getKey()).append(" | ").append(d.get("unit")).append(" | ")
                    .append(e.getKey().equals("evaluation") ? "–" : String.valueOf(d.get("train"))).append(" | ")
                    .append(e.getKey().equals("evaluation") ? d.get("evaluated") + " of " + d.get("asked")
                            : String.valueOf(d.get("eval"))).append(" |\n");
        }
        md.append("\n## Stages\n\n| stage | seconds | summary |\n|---|---|---|\n");
        for (String s : stages) {
            md.append("| ").append(s).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f", seconds.getOrDefault(s, 0.0))).append(" | ")
                    .append(flat(summaries.containsKey(s) ? Json.MAPPER.valueToTree(summaries.get(s).toMap()) : null))
                    .append(" |\n");
        }
        md.append("\n(A stage that was already finished is reused and shows its time of this run, near 0.)\n");
        for (String s : stages) {
            Path plots = stagesRoot.resolve(s).resolve("plots");
            if (!Files.isDirectory(plots)) {
                continue;
            }
            Path target = Files.createDirectories(report.resolve("plots").resolve(s));
            md.append("\n## ").append(s).append("\n\n");
            try (Stream<Path> files = Files.list(plots)) {
                for (Path png : files.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                    Files.copy(png, target.resolve(png.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    md.append("![").append(s).append(' ').append(png.getFileName()).append("](plots/").append(s)
                            .append('/').append(png.getFileName()).append(")\n");
                }
            }
        }
        Files.writeString(report.resolve("report.md"), md.toString(), StandardCharsets.UTF_8);
    }

    /**
     * Writes the opening section: what the preset is (the tiny preset is a smoke test, not a reproduction), what
     * the reward-model judge can show given its held-out accuracy, how wide a win-rate interval is at this number of
     * prompts, and which policies are flagged.
     *
     * @param preset the preset's name
     * @param e the evaluation
     * @param data train/eval sizes per stage
     * @param a the assessment
     * @return one sentence or two per caveat
     */
    static List<String> caveats(String preset, PipelineEvaluation.Result e, Map<String, Object> data,
            EvaluationChecks.Assessment a) {
        List<String> out = new ArrayList<>();
        String model = String.format(Locale.ROOT, "a %s with %s parameters (%d layers, width %d)", e.modelType(),
                humanCount(e.policyParameters()), e.layers(), e.hiddenSize());
        String sizes = String.format(Locale.ROOT, "SFT on %s rows, the reward model on %s comparison pairs with %s held "
                + "out", size(data, "sft", "train"), size(data, "reward", "train"), size(data, "reward", "eval"));
        if (preset.equals("tiny")) {
            out.add("Preset `tiny`: " + model + " trained from scratch on the bundled sample: " + sizes + ". This run "
                    + "is a smoke test that every stage runs and hands its checkpoint to the next, not a reproduction "
                    + "of the papers' results (docs/reproduce.md).");
        } else {
            out.add("Preset `" + preset + "`: " + model + "; " + sizes + ". Compare with the papers' numbers "
                    + "(docs/reproduce.md) only at their model sizes and data, and with an LLM or human judge.");
        }
        EvaluationChecks.JudgeAccuracy j = a.judge();
        if (j == null || j.pairs() == 0) {
            out.add("The reward model's held-out accuracy is unknown, so the win rates it judges cannot be told apart "
                    + "from chance.");
        } else if (j.atChance()) {
            out.add(String.format(Locale.ROOT, "The reward model is at chance on held-out comparisons (accuracy %.3f, "
                    + "95%% CI [%.3f, %.3f], %d pairs), so the win rates it judges, and its scores, carry no "
                    + "information about summary quality: they show only that the evaluation runs.", j.accuracy(),
                    j.ci95().lo(), j.ci95().hi(), j.pairs()));
        } else if (!j.informative()) {
            out.add(String.format(Locale.ROOT, "The reward model is below chance on held-out comparisons (accuracy "
                    + "%.3f, 95%% CI [%.3f, %.3f], %d pairs): it prefers the rejected summaries, so the win rates it "
                    + "judges are not evidence of quality.", j.accuracy(), j.ci95().lo(), j.ci95().hi(), j.pairs()));
        } else {
            out.add(String.format(Locale.ROOT, "The reward model is better than chance on held-out comparisons "
                    + "(accuracy %.3f, 95%% CI [%.3f, %.3f], %d pairs), but it is the function PPO and DR-PO "
                    + "optimise, so its win rates flatter them (reward over-optimisation); claims about quality need "
                    + "an LLM or human judge (`rlhf4j eval --judge llm`, docs/eval.md).", j.accuracy(), j.ci95().lo(),
                    j.ci95().hi(), j.pairs()));
        }
        if (!e.rows().isEmpty()) {
            int n = e.rows().get(0).full().prompts();
            Interval half = Interval.wilson95(n / 2.0, n);
            out.add(String.format(Locale.ROOT, "Each policy is judged on %d held-out prompts: at this size the 95%% "
                    + "interval of a win rate near 50%% spans %.0f%% to %.0f%%, so smaller differences between "
                    + "policies are not established.", n, 100 * half.lo(), 100 * half.hi()));
        }
        List<String> flagged = a.policies().stream().filter(EvaluationChecks.PolicyCheck::flagged)
                .map(c -> c.name() + " (" + c.flags().stream().map(PolicyFlag::key).collect(Collectors.joining(", "))
                        + ")")
                .toList();
        if (!flagged.isEmpty()) {
            out.add("Flagged policies write broken summaries, so their scores and win rates are not results: "
                    + String.join(", ", flagged) + ".");
        }
        return out;
    }

    private static String size(Map<String, Object> data, String stage, String key) {
        Object d = data.get(stage);
        Object v = d instanceof Map<?, ?> m ? m.get(key) : null;
        return v == null ? "?" : String.valueOf(v);
    }

    /**
     * Formats a count with an SI suffix: 1234 → {@code 1.2 K}, 124439808 → {@code 124.4 M}.
     *
     * @param n the count
     * @return the text
     */
    static String humanCount(long n) {
        if (n < 1_000) {
            return Long.toString(n);
        }
        if (n < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f K", n / 1e3);
        }
        if (n < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.1f M", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f B", n / 1e9);
    }

    private static String flaggedName(String name, EvaluationChecks.Assessment a) {
        return a.policies().stream().filter(c -> c.name().equals(name) && c.flagged()).findFirst()
                .map(c -> name + " ⚑").orElse(name);
    }

    /**
     * The console table: one row per policy (win rate with its 95 % interval in percent, flags), plus DPO's
     * held-out implicit-reward accuracy.
     *
     * @param table evaluation rows
     * @param summaries stage results
     * @return the table text
     */
    static String table(List<PipelineEvaluation.Row> table, Map<String, StageResult> summaries) {
        boolean grounding = table.stream().anyMatch(r -> r.hallucination() != null);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-7s %9s %9s %8s %-13s ", "policy", "RM score",
                "KL(SFT)", "win rate", "95% CI"));
        if (grounding) {
            sb.append(String.format(Locale.ROOT, "%7s %-13s ", "halluc.", "95% CI"));
        }
        sb.append(String.format(Locale.ROOT, "%8s %7s %5s  %-26s %s%n", "length", "EOS", "R-1", "flags", "sample"));
        for (PipelineEvaluation.Row r : table) {
            String sample = r.sample().replace('\n', ' ');
            String flags = r.flags().isEmpty() ? "-" : r.flags().stream().map(PolicyFlag::key).collect(Collectors.joining(","));
            sb.append(String.format(Locale.ROOT, "%-7s %9.3f %9.3f %7.1f%% %-13s ", r.policy(), r.rmScore(), r.klToSft(),
                    100 * r.winRate(), String.format(Locale.ROOT, "[%.1f, %.1f]", 100 * r.winRateCi95().lo(),
                            100 * r.winRateCi95().hi())));
            if (grounding) {
                HallucinationRate.Result h = r.hallucination();
                sb.append(h == null ? String.format(Locale.ROOT, "%7s %-13s ", "-", "-")
                        : String.format(Locale.ROOT, "%6.1f%% %-13s ", 100 * h.rate(), String.format(Locale.ROOT,
                                "[%.1f, %.1f]", 100 * h.ci95().lo(), 100 * h.ci95().hi())));
            }
            sb.append(String.format(Locale.ROOT, "%8.1f %6.0f%% %5.3f  %-26s %s%n", r.meanLength(),
                    100 * r.eosFraction(), r.rouge1(), flags,
                    sample.length() > 40 ? sample.substring(0, 37) + "..." : sample));
        }
        if (!table.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "reference RM score %.3f, mean length %.1f%n",
                    table.get(0).referenceRmScore(), table.get(0).referenceMeanLength()));
        }
        if (summaries.get("dpo") instanceof StageResult.Dpo dpo && dpo.evalAccuracy() != null) {
            sb.append(String.format(Locale.ROOT, "dpo held-out implicit-reward accuracy %.3f (margin %.4f, %d pairs)%n",
                    dpo.evalAccuracy(), dpo.evalMargin() == null ? 0.0 : dpo.evalMargin(),
                    dpo.evalPairs() == null ? 0 : dpo.evalPairs()));
        }
        return sb.toString().stripTrailing();
    }

    private static String flat(JsonNode n) {
        if (n == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("stage") || f.getKey().equals("model")) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            JsonNode v = f.getValue();
            sb.append(f.getKey()).append('=').append(v.isFloatingPointNumber()
                    ? String.format(Locale.ROOT, "%.4g", v.asDouble()) : v.toString());
        }
        return sb.toString();
    }
}
