package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.core.io.Json;

/**
 * The whole tiny pipeline on the bundled sample: every stage, the table, the report with its caveats, intervals, flags
 * and warnings; a re-run skips the stages. Nothing here depends on what the tiny models learn (the flag and warning
 * rules are unit-tested in rlhf-algorithms' EvaluationChecksTest).
 */
class PipelineCommandTest {

    @Test
    void readsTheRewardModelsHeldOutAccuracyFromItsSummary() throws Exception {
        JsonNode current = Json.MAPPER.readTree("{\"eval\":{\"valid1\":{\"accuracy\":0.5,\"pairs\":50}},"
                + "\"heldout\":{\"sets\":[\"valid1\",\"valid2\"],\"correct\":50,\"pairs\":97}}");
        assertThat(heldoutAccuracy(current)).isEqualTo(new EvaluationChecks.JudgeAccuracy("reward model", 50, 97));
        // a summary written before "heldout" existed: valid1 27/50 + valid2 23/47 pooled; confidence sets left out
        JsonNode older = Json.MAPPER.readTree("{\"eval\":{\"valid1\":{\"accuracy\":0.54,\"pairs\":50},"
                + "\"valid2\":{\"accuracy\":0.48936170212765956,\"pairs\":47},"
                + "\"confidence1\":{\"accuracy\":0.375,\"pairs\":24}}}");
        assertThat(heldoutAccuracy(older)).isEqualTo(new EvaluationChecks.JudgeAccuracy("reward model", 50, 97));
        assertThat(StageResult.read("reward", older).evalRows()).isEqualTo(97);
        assertThat(heldoutAccuracy(Json.MAPPER.readTree("{\"eval\":{}}"))).isNull();
        assertThat(StageResult.read("reward", Json.MAPPER.readTree("{\"eval\":{}}")).evalRows()).isNull();
    }

    private static EvaluationChecks.JudgeAccuracy heldoutAccuracy(JsonNode summary) throws Exception {
        return ((StageResult.Reward) StageResult.read("reward", summary)).heldoutAccuracy();
    }

    @Test
    void runsEveryStageThenSkipsThemOnARerun(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("stages");
        Path report = dir.resolve("report");
        CliSmokeTest.Run r = CliSmokeTest.run("pipeline", "--out", out.toString(), "--report-dir", report.toString(),
                "--eval-prompts", "8");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("policy").contains("sft").contains("ppo").contains("dpo").contains("drpo")
                .contains("grpo").contains("rloo").contains("dpo held-out implicit-reward accuracy");
        for (String stage : new String[] {"sft", "reward", "ppo", "dpo", "drpo", "grpo", "rloo"}) {
            assertThat(out.resolve(stage).resolve("summary.json")).exists();
            assertThat(out.resolve(stage).resolve("model").resolve("config.json")).exists();
        }
        JsonNode result = Json.MAPPER.readTree(Files.readString(report.resolve("pipeline.json")));
        assertThat(result.get("evaluation")).hasSize(6);
        List<String> warnings = new ArrayList<>();
        result.get("warnings").forEach(w -> warnings.add(w.asText()));
        for (JsonNode row : result.get("evaluation")) {
            assertThat(row.get("rmScore").isNumber()).isTrue();
            double winRate = row.get("winRate").asDouble();
            assertThat(winRate).isBetween(0.0, 1.0);
            JsonNode ci = row.get("win_rate_ci95");
            assertThat(ci.isArray()).isTrue();
            assertThat(ci).hasSize(2);
            assertThat(ci.get(0).asDouble()).isLessThanOrEqualTo(winRate);
            assertThat(ci.get(1).asDouble()).isGreaterThanOrEqualTo(winRate);
            assertThat(row.get("flags").isArray()).isTrue();
            for (JsonNode flag : row.get("flags")) {
                assertThat(flag.asText()).isIn("degenerate", "length_collapse", "no_eos");
                // every flag has its warning sentence
                assertThat(warnings).anyMatch(w -> w.startsWith(row.get("policy").asText() + " is flagged " + flag.asText()));
            }
        }
        // sizes, the reward model's held-out accuracy with its Wilson interval, warnings, ranking
        assertThat(result.at("/model/parameters").asLong()).isPositive();
        assertThat(result.at("/model/reward_model_parameters").asLong()).isPositive();
        for (String stage : new String[] {"sft", "reward", "ppo", "dpo", "drpo", "grpo", "rloo"}) {
            assertThat(result.at("/data/" + stage + "/train").asInt()).as(stage).isPositive();
            assertThat(result.at("/data/" + stage + "/eval").asInt()).as(stage).isPositive();
        }
        assertThat(result.at("/data/evaluation/evaluated").asInt()).isBetween(1, 8);
        JsonNode rm = result.get("reward_model");
        double acc = rm.get("heldout_accuracy").asDouble();
        assertThat(acc).isBetween(0.0, 1.0);
        assertThat(rm.get("heldout_accuracy_ci95")).hasSize(2);
        assertThat(rm.get("heldout_accuracy_ci95").get(0).asDouble()).isLessThanOrEqualTo(acc);
        assertThat(rm.get("heldout_accuracy_ci95").get(1).asDouble()).isGreaterThanOrEqualTo(acc);
        assertThat(rm.get("heldout_pairs").asInt()).isPositive();
        assertThat(result.get("warnings").isArray()).isTrue();
        if (rm.get("at_chance").asBoolean()) {
            assertThat(warnings).anyMatch(w -> w.startsWith("The reward model's held-out accuracy"));
            assertThat(result.at("/ranking/best").isNull()).isTrue();
        }
        assertThat(result.at("/ranking/order")).hasSize(6);
        assertThat(result.at("/stages/grpo/reward_fn").asText()).isEqualTo("reward_model");
        assertThat(result.get("caveats")).isNotEmpty();
        String md = Files.readString(report.resolve("report.md"));
        assertThat(md).startsWith("# rlhf4j pipeline report\n\n## What this run can and cannot show\n\n- Preset `tiny`");
        assertThat(md.indexOf("## Warnings")).isPositive().isLessThan(md.indexOf("## Evaluation"));
        assertThat(md).contains("smoke test").contains("| policy | RM score").contains("[95% CI]")
                .contains("**Ranking by win rate**").contains("plots/policies.png").contains("## Model and data")
                .contains("plots/ppo/objective_scores.png");
        assertThat(report.resolve("plots/policies.png")).exists();
        assertThat(report.resolve("plots/sft/train_loss.png")).exists();
        assertThat(report.resolve("plots/reward/eval_valid1_accuracy.png")).exists();

        CliSmokeTest.Run again = CliSmokeTest.run("pipeline", "--out", out.toString(), "--report-dir",
                dir.resolve("report2").toString(), "--eval-prompts", "8");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.err()).contains("sft already finished").contains("drpo already finished")
                .contains("grpo already finished").contains("rloo already finished");
        // --algorithms picks the stages; an unknown one is named
        CliSmokeTest.Run bad = CliSmokeTest.run("pipeline", "--out", out.toString(), "--algorithms", "ppo,grpoo");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("grpoo").contains("grpo");
    }
}
