package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.rlhf4j.core.checkpoint.Provenance;

/** The pipeline's Markdown report and console table. */
final class PipelineReport {

    private PipelineReport() {}

    /**
     * Writes {@code report.md} and copies every stage's plots under {@code plots/<stage>/}.
     *
     * @param report the report directory
     * @param stagesRoot where the stages ran
     * @param stages stage names in order
     * @param summaries stage summaries
     * @param seconds wall-clock seconds per stage (0 when skipped as finished)
     * @throws IOException on failure
     */
    static void write(Path report, Path stagesRoot, List<String> stages, Map<String, JsonNode> summaries,
            Map<String, Double> seconds, List<PipelineEvaluation.Row> table) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# rlhf4j pipeline report\n\n");
        md.append("Created ").append(Instant.now()).append(" by rlhf4j ").append(Provenance.libraryVersion())
                .append("; stages in `").append(stagesRoot).append("`.\n\n");
        md.append("## Evaluation\n\n");
        md.append("Greedy summaries of held-out prompts (bundled valid split). RM score: the pipeline's reward model, a "
                + "summary without EOS scores −1 (as in PPO); win rate: against the human reference by the reward-model "
                + "judge (ties ½); KL: Σ_t log π − log π_SFT over summaries sampled at τ = 0.7.\n\n");
        md.append("```\n").append(table(table, summaries)).append("\n```\n\n");
        md.append("| policy | RM score | RM score (raw) | reference RM score | KL to SFT | win rate vs reference | mean length"
                + " | ends with EOS | ROUGE-1 | sample |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (PipelineEvaluation.Row r : table) {
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.3f | %.1f%% | %.1f | %.0f%% | %.3f | %s |%n",
                    r.policy(), r.rmScore(), r.rmScoreRaw(), r.referenceRmScore(), r.klToSft(), 100 * r.winRate(),
                    r.meanLength(), 100 * r.eosFraction(), r.rouge1(), r.sample().replace("|", "\\|").replace("\n", " ")));
        }
        md.append("\n## Stages\n\n| stage | seconds | summary |\n|---|---|---|\n");
        for (String s : stages) {
            md.append("| ").append(s).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f", seconds.getOrDefault(s, 0.0))).append(" | ")
                    .append(flat(summaries.get(s))).append(" |\n");
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
     * The console table: one row per policy, plus DPO's held-out implicit-reward accuracy.
     *
     * @param table evaluation rows
     * @param summaries stage summaries
     * @return the table text
     */
    static String table(List<PipelineEvaluation.Row> table, Map<String, JsonNode> summaries) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-7s %9s %9s %8s %8s %7s %5s  %s%n",
                "policy", "RM score", "KL(SFT)", "win rate", "length", "EOS", "R-1", "sample"));
        for (PipelineEvaluation.Row r : table) {
            String sample = r.sample().replace('\n', ' ');
            sb.append(String.format(Locale.ROOT, "%-7s %9.3f %9.3f %7.1f%% %8.1f %6.0f%% %5.3f  %s%n", r.policy(),
                    r.rmScore(), r.klToSft(), 100 * r.winRate(), r.meanLength(), 100 * r.eosFraction(), r.rouge1(),
                    sample.length() > 60 ? sample.substring(0, 57) + "..." : sample));
        }
        if (!table.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "reference RM score %.3f%n", table.get(0).referenceRmScore()));
        }
        JsonNode dpo = summaries.get("dpo");
        if (dpo != null && dpo.has("eval_accuracy")) {
            sb.append(String.format(Locale.ROOT, "dpo held-out implicit-reward accuracy %.3f (margin %.4f, %d pairs)%n",
                    dpo.get("eval_accuracy").asDouble(), dpo.path("eval_margin").asDouble(), dpo.path("eval_pairs").asInt()));
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
