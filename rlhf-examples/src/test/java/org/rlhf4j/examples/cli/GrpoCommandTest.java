package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

/** sft → grpo with two weighted reward functions, and rloo, on the bundled prompts, two updates each. */
class GrpoCommandTest {

    @Test
    void grpoRunsFromAnSftCheckpointWithWeightedRewardFunctions(@TempDir Path dir) throws Exception {
        Path sft = dir.resolve("sft");
        assertThat(CliSmokeTest.run("sft", "--out", sft.toString(), "--epochs", "0.16").code()).isZero();
        Path grpo = dir.resolve("grpo");
        CliSmokeTest.Run r = CliSmokeTest.run("grpo", "--model", sft.resolve("model").toString(), "--out",
                grpo.toString(), "--epochs", "0.08", "--batch-size", "2", "--num-generations", "2",
                "--reward-fn", "length=1,ends_with_eos=0.5", "--max-completion-length", "12", "--eval-data", "bundled");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode s = Json.MAPPER.readTree(r.out());
        assertThat(s.get("updates").asLong()).isEqualTo(2);
        assertThat(s.get("eval_prompts").asInt()).isGreaterThan(40);
        assertThat(s.get("reward_fn").asText()).isEqualTo("length=1,ends_with_eos=0.5");
        assertThat(s.get("eval_reward").isNumber()).isTrue();
        JsonNode first = Json.MAPPER.readTree(Files.readAllLines(grpo.resolve("metrics.jsonl")).get(0));
        for (String k : new String[] {"reward", "reward_std", "rewards/length/mean", "rewards/ends_with_eos/mean",
                "frac_reward_zero_std", "completions/mean_length", "loss", "grad_norm", "learning_rate"}) {
            assertThat(first.has(k)).as(k).isTrue();
        }
        // the combined reward is the weighted sum of the two functions' means
        assertThat(first.get("reward").asDouble()).isCloseTo(first.get("rewards/length/mean").asDouble()
                + 0.5 * first.get("rewards/ends_with_eos/mean").asDouble(), org.assertj.core.api.Assertions.within(1e-9));
        assertThat(grpo.resolve("model/model.safetensors")).exists();
        assertThat(grpo.resolve("run_config.json")).exists();
        CliSmokeTest.Run bad = CliSmokeTest.run("grpo", "--model", sft.resolve("model").toString(), "--out",
                dir.resolve("g2").toString(), "--reward-fn", "lenght");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("lenght").contains("length");

        // RLOO from the same checkpoint: k = 2, β = 0.05 (a frozen reference is loaded), KL in the reward
        Path rloo = dir.resolve("rloo");
        CliSmokeTest.Run rr = CliSmokeTest.run("rloo", "--model", sft.resolve("model").toString(), "--out",
                rloo.toString(), "--epochs", "0.08", "--batch-size", "2", "--num-generations", "2",
                "--reward-fn", "length", "--max-completion-length", "12", "--beta", "0.05");
        assertThat(rr.code()).as(rr.err()).isZero();
        JsonNode rs = Json.MAPPER.readTree(rr.out());
        assertThat(rs.get("stage").asText()).isEqualTo("rloo");
        assertThat(rs.get("updates").asLong()).isEqualTo(2);
        JsonNode rfirst = Json.MAPPER.readTree(Files.readAllLines(rloo.resolve("metrics.jsonl")).get(0));
        for (String k : new String[] {"reward", "rewards/length/mean", "kl", "loss", "grad_norm"}) {
            assertThat(rfirst.has(k)).as(k).isTrue();
        }
        assertThat(rloo.resolve("model/model.safetensors")).exists();
    }
}
