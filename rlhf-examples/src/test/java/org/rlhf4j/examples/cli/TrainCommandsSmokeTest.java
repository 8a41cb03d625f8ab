package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.Json;

/** sft then reward on the bundled sample, a few steps each: the SFT checkpoint is the reward model's --model. */
class TrainCommandsSmokeTest {

    @Test
    void sftHandsItsCheckpointToReward(@TempDir Path dir) throws Exception {
        Path sft = dir.resolve("sft");
        CliSmokeTest.Run s = CliSmokeTest.run("sft", "--out", sft.toString(), "--epochs", "0.32", "--seed", "3");
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode summary = Json.MAPPER.readTree(s.out());
        assertThat(summary.get("steps").asLong()).isEqualTo(2);
        assertThat(summary.get("eval_loss").asDouble()).isLessThan(summary.get("eval_loss_before").asDouble());
        assertThat(sft.resolve("model/config.json")).exists();
        assertThat(sft.resolve("metrics.jsonl")).exists();
        assertThat(sft.resolve("plots/train_loss.png")).exists();
        assertThat(s.err()).contains("[sft]").contains("ETA");

        // running again resumes: nothing left to do, same step count
        CliSmokeTest.Run again = CliSmokeTest.run("sft", "--out", sft.toString(), "--epochs", "0.32", "--seed", "3");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(TrainerState.read(sft.resolve("model")).step()).isEqualTo(2);

        Path rm = dir.resolve("reward");
        CliSmokeTest.Run r = CliSmokeTest.run("reward", "--model", sft.resolve("model").toString(), "--out", rm.toString(),
                "--epochs", "0.32");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rs = Json.MAPPER.readTree(r.out());
        assertThat(rs.get("eval").has("valid1")).isTrue();
        assertThat(rs.get("eval").has("valid2")).isTrue();
        assertThat(Math.abs(rs.get("reference_mean_after").asDouble())).isLessThan(1e-4);
        assertThat(rm.resolve("model/model.safetensors")).exists();
        assertThat(Json.MAPPER.readTree(rm.resolve("model/config.json").toFile()).get("architectures").get(0).asText())
                .isEqualTo("GPT2ForSequenceClassification");

        CliSmokeTest.Run bad = CliSmokeTest.run("sft", "--out", dir.resolve("x").toString(), "--preset", "huge");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown preset 'huge'");
    }
}
