package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.Json;
import picocli.CommandLine;

/** sft then dpo on the bundled sample, a few steps each: the SFT checkpoint is DPO's policy and reference. */
class DpoCommandTest {

    /** Runs the CLI with {@code dpo} added (the launcher registers it in {@link Rlhf4jCli}). */
    static CliSmokeTest.Run run(String... args) {
        CommandLine cl = Rlhf4jCli.commandLine();
        if (!cl.getSubcommands().containsKey("dpo")) {
            cl.addSubcommand("dpo", new DpoCommand());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CliSmokeTest.Run(code, out.toString(), err.toString());
    }

    @Test
    void dpoTrainsFromTheSftCheckpointAndResumes(@TempDir Path dir) throws Exception {
        Path sft = dir.resolve("sft");
        CliSmokeTest.Run s = run("sft", "--out", sft.toString(), "--epochs", "0.16", "--seed", "3");
        assertThat(s.code()).as(s.err()).isZero();

        Path dpo = dir.resolve("dpo");
        CliSmokeTest.Run d = run("dpo", "--model", sft.resolve("model").toString(), "--out", dpo.toString(),
                "--epochs", "0.32", "--seed", "5");
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode summary = Json.MAPPER.readTree(d.out());
        assertThat(summary.get("stage").asText()).isEqualTo("dpo");
        assertThat(summary.get("steps").asLong()).isEqualTo(2); // ⌈0.32 · 50 / 8⌉
        assertThat(summary.get("eval_pairs").asInt()).isEqualTo(50);
        // the policy starts as a copy of the reference: h = 0 for every pair
        assertThat(summary.get("eval_loss_before").asDouble()).isCloseTo(Math.log(2), within(1e-6));
        assertThat(summary.get("eval_accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(summary.get("eval_margin").asDouble()).isCloseTo(summary.get("eval_rewards_chosen").asDouble()
                - summary.get("eval_rewards_rejected").asDouble(), within(1e-9));
        assertThat(dpo.resolve("model/model.safetensors")).exists();
        assertThat(dpo.resolve("model/tokenizer.json")).exists();
        assertThat(dpo.resolve("eval.jsonl")).exists();
        assertThat(dpo.resolve("plots/loss.png")).exists();
        assertThat(dpo.resolve("plots/rewards_accuracies.png")).exists();
        assertThat(d.err()).contains("[dpo]");
        assertThat(TrainerState.read(dpo.resolve("model")).algorithm()).isEqualTo("dpo");

        // running again resumes: nothing left to do
        CliSmokeTest.Run again = run("dpo", "--model", sft.resolve("model").toString(), "--out", dpo.toString(),
                "--epochs", "0.32", "--seed", "5");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(TrainerState.read(dpo.resolve("model")).step()).isEqualTo(2);

        CliSmokeTest.Run bad = run("dpo", "--model", sft.resolve("model").toString(), "--out",
                dir.resolve("x").toString(), "--loss", "kto");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown --loss 'kto'");
        CliSmokeTest.Run badEps = run("dpo", "--model", sft.resolve("model").toString(), "--out",
                dir.resolve("y").toString(), "--loss", "ipo", "--label-smoothing", "0.1");
        assertThat(badEps.code()).isEqualTo(1);
        assertThat(badEps.err()).contains("IPO");
    }
}
