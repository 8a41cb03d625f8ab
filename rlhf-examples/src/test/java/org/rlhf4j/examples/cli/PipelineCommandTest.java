package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

/** The whole tiny pipeline on the bundled sample: every stage, the table, the report; a re-run skips the stages. */
class PipelineCommandTest {

    @Test
    void runsEveryStageThenSkipsThemOnARerun(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("stages");
        Path report = dir.resolve("report");
        CliSmokeTest.Run r = CliSmokeTest.run("pipeline", "--out", out.toString(), "--report-dir", report.toString(),
                "--eval-prompts", "8");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("policy").contains("sft").contains("ppo").contains("dpo").contains("drpo")
                .contains("dpo held-out implicit-reward accuracy");
        for (String stage : new String[] {"sft", "reward", "ppo", "dpo", "drpo"}) {
            assertThat(out.resolve(stage).resolve("summary.json")).exists();
            assertThat(out.resolve(stage).resolve("model").resolve("config.json")).exists();
        }
        JsonNode result = Json.MAPPER.readTree(Files.readString(report.resolve("pipeline.json")));
        assertThat(result.get("evaluation")).hasSize(4);
        for (JsonNode row : result.get("evaluation")) {
            assertThat(row.get("rmScore").isNumber()).isTrue();
            assertThat(row.get("winRate").asDouble()).isBetween(0.0, 1.0);
        }
        String md = Files.readString(report.resolve("report.md"));
        assertThat(md).contains("| policy | RM score").contains("plots/ppo/objective_scores.png");
        assertThat(report.resolve("plots/sft/train_loss.png")).exists();

        CliSmokeTest.Run again = CliSmokeTest.run("pipeline", "--out", out.toString(), "--report-dir",
                dir.resolve("report2").toString(), "--eval-prompts", "8");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.err()).contains("sft already finished").contains("drpo already finished");
    }
}
