package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

/** sft → reward → ppo and drpo on the bundled sample, a couple of steps each. */
class PpoCommandTest {

    @Test
    void ppoRunsFromTheSftAndRewardCheckpoints(@TempDir Path dir) throws Exception {
        Path sft = dir.resolve("sft");
        Path rm = dir.resolve("reward");
        assertThat(CliSmokeTest.run("sft", "--out", sft.toString(), "--epochs", "0.16").code()).isZero();
        assertThat(CliSmokeTest.run("reward", "--model", sft.resolve("model").toString(), "--out", rm.toString(),
                "--epochs", "0.16").code()).isZero();
        Path ppo = dir.resolve("ppo");
        CliSmokeTest.Run r = CliSmokeTest.run("ppo", "--model", sft.resolve("model").toString(), "--reward-model",
                rm.resolve("model").toString(), "--out", ppo.toString(), "--batch-size", "4", "--episodes", "8",
                "--eval-data", "nonexistent.jsonl");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("nonexistent.jsonl");
        r = CliSmokeTest.run("ppo", "--model", sft.resolve("model").toString(), "--reward-model",
                rm.resolve("model").toString(), "--out", ppo.toString(), "--batch-size", "4", "--episodes", "8");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode s = Json.MAPPER.readTree(r.out());
        assertThat(s.get("updates").asLong()).isEqualTo(2);
        assertThat(s.get("eval_after").get("episodes").asInt()).isGreaterThan(40);
        assertThat(ppo.resolve("model/critic/model.safetensors")).exists();
        JsonNode first = Json.MAPPER.readTree(Files.readAllLines(ppo.resolve("metrics.jsonl")).get(0));
        for (String k : new String[] {"objective/kl", "objective/entropy", "objective/non_score_reward",
                "objective/rlhf_reward", "objective/scores", "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg",
                "loss/value_avg", "val/clipfrac_avg", "val/ratio", "val/num_eos_tokens", "lr", "episode"}) {
            assertThat(first.has(k)).as(k).isTrue();
        }
        assertThat(ppo.resolve("plots/objective_scores.png")).exists();

        // DR-PO from the same checkpoints, through the library entry point: the result is the printed summary
        Path drpo = dir.resolve("drpo");
        Map<?, ?> d = (Map<?, ?>) Rlhf4jCli.runExample("drpo", "--model", sft.resolve("model").toString(),
                "--reward-model", rm.resolve("model").toString(), "--out", drpo.toString(), "--batch-size", "4",
                "--episodes", "8", "--beta-mix", "0.5");
        assertThat(d.get("stage")).isEqualTo("drpo");
        assertThat(d.get("updates")).isEqualTo(2L);
        assertThat(d.get("beta_mix")).isEqualTo(0.5);
        assertThat(d.get("reset_source")).isEqualTo("REFERENCE_SUMMARY");
        JsonNode row = Json.MAPPER.readTree(Files.readAllLines(drpo.resolve("metrics.jsonl")).get(0));
        assertThat(row.get("reset/fraction").asDouble()).isBetween(0.0, 1.0);
        assertThat(drpo.resolve("model/model.safetensors")).exists();
    }
}
