package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.rewards.RewardInput;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.examples.demo.VerifiableRewardDemo;
import picocli.CommandLine;

/** {@code demo reset-exploration} with a tiny budget: one JSON object on stdout and the learning-curve PNG. */
class DemoCommandTest {

    @Test
    void resetExplorationPrintsOneJsonObjectAndWritesThePlot(@TempDir Path dir) throws Exception {
        CommandLine cl = new CommandLine(new DemoCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        Path runDir = dir.resolve("demo");
        int code = cl.execute("reset-exploration", "--updates", "3", "--batch", "16", "--eval-every", "1", "--out",
                runDir.toString());
        assertThat(code).as(err.toString()).isZero();
        String text = out.toString().trim();
        assertThat(text.lines().count()).isEqualTo(1);
        JsonNode json = Json.MAPPER.readTree(text);
        assertThat(json.fieldNames()).toIterable().containsExactly("ppo", "drpo", "settings");
        for (String algo : new String[] {"ppo", "drpo"}) {
            JsonNode a = json.get(algo);
            assertThat(a.get("success").asDouble()).isBetween(0.0, 1.0);
            assertThat(a.get("sampled_success").asDouble()).isBetween(0.0, 1.0);
            // before training + after each of the 3 updates
            assertThat(a.get("curve")).hasSize(4);
            assertThat(a.get("curve").get(3).get(0).asDouble()).isEqualTo(48.0);
        }
        assertThat(json.get("ppo").get("reset_fraction").asDouble()).isZero();
        // DR-PO resets about half the samples with the demo's β_mix
        assertThat(json.get("drpo").get("reset_fraction").asDouble()).isBetween(0.2, 0.8);
        assertThat(json.get("drpo").get("mean_prefix_length").asDouble()).isBetween(1.0, 6.0);
        JsonNode s = json.get("settings");
        assertThat(s.get("episodes").asLong()).isEqualTo(48);
        assertThat(s.get("beta_mix").asDouble()).isEqualTo(json.get("drpo").get("reset_fraction").asDouble(),
                org.assertj.core.api.Assertions.within(0.3));
        Path png = runDir.resolve("learning-curves.png");
        assertThat(png).exists();
        byte[] head = Files.readAllBytes(png);
        assertThat(head.length).isGreaterThan(1000);
        assertThat(new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    @Test
    void aBadOptionIsAUsageError() {
        CommandLine cl = new CommandLine(new DemoCommand());
        cl.setOut(new PrintWriter(new StringWriter()));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("reset-exploration", "--updates", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("--updates");
    }

    @Test
    void verifiableRewardPrintsOneJsonObjectAndWritesThePlot(@TempDir Path dir) throws Exception {
        CommandLine cl = new CommandLine(new DemoCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        Path runDir = dir.resolve("vr");
        int code = cl.execute("verifiable-reward", "--updates", "3", "--train-prompts", "32", "--eval-prompts", "16",
                "--prompts-per-step", "4", "--generations", "4", "--out", runDir.toString());
        assertThat(code).as(err.toString()).isZero();
        String text = out.toString().trim();
        assertThat(text.lines().count()).isEqualTo(1);
        JsonNode json = Json.MAPPER.readTree(text);
        assertThat(json.fieldNames()).toIterable().containsExactly("grpo", "rloo", "settings", "plot");
        for (String a : new String[] {"grpo", "rloo"}) {
            JsonNode g = json.get(a);
            assertThat(g.fieldNames()).toIterable().containsExactly("before", "after", "updates", "seconds");
            assertThat(g.get("before").asDouble()).isBetween(0.0, 1.0);
            assertThat(g.get("after").asDouble()).isBetween(0.0, 1.0);
            assertThat(g.get("updates").asLong()).isEqualTo(3);
        }
        assertThat(json.get("settings").get("reward").asText()).isEqualTo("exact_answer(answer)");
        assertThat(json.get("settings").get("held_out_prompts").asInt()).isEqualTo(16);
        Path png = runDir.resolve("verifiable_reward.png");
        assertThat(json.get("plot").asText()).isEqualTo(png.toString());
        byte[] head = Files.readAllBytes(png);
        assertThat(new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    /**
     * The default demo (about 55–70 s on 2 cores): GRPO and RLOO learn the max-token task from the exact-answer reward
     * alone. A heavy check, run with {@code -Drlhf4j.heavy=true}: the algorithms' behaviour is tested in
     * {@code GrpoTrainerTest} / {@code RlooTrainerTest}, the command's wiring in
     * {@link #verifiableRewardPrintsOneJsonObjectAndWritesThePlot}; this one checks the demo's defaults end to end.
     */
    @Test
    @EnabledIfSystemProperty(named = "rlhf4j.heavy", matches = "true")
    void verifiableRewardLearnsOnHeldOutPrompts(@TempDir Path dir) throws Exception {
        VerifiableRewardDemo.Result r = VerifiableRewardDemo.runExample(new String[] {"--out", dir.toString()});
        for (VerifiableRewardDemo.Algorithm a : VerifiableRewardDemo.Algorithm.values()) {
            VerifiableRewardDemo.AlgorithmResult g = r.results().get(a);
            System.out.printf("demo verifiable-reward %s (held-out greedy exact answer): %.3f -> %.3f in %.1f s%n", a,
                    g.before(), g.after(), g.seconds());
            assertThat(g.before()).as(a.name()).isLessThan(0.2);
            assertThat(g.after()).as(a.name()).isGreaterThanOrEqualTo(0.8);
        }
    }

    @Test
    void theAnswerIsTheRowFieldThatExactAnswerChecks() {
        VerifiableRewardDemo.Options o = new VerifiableRewardDemo.Options();
        new CommandLine(o).parseArgs("--train-prompts", "8", "--eval-prompts", "4");
        VerifiableRewardDemo.Setup s = VerifiableRewardDemo.setup(o);
        assertThat(s.train()).hasSize(8);
        assertThat(s.heldOut()).hasSize(4);
        java.util.Set<String> train = new java.util.HashSet<>();
        s.train().forEach(p -> train.add(p.query().text()));
        s.heldOut().forEach(p -> assertThat(train).doesNotContain(p.query().text()));
        Encoded.PromptOnly p = s.heldOut().get(0);
        int max = java.util.Arrays.stream(p.query().ids()).max().orElseThrow();
        assertThat(VerifiableRewardDemo.Setup.fields(p)).containsEntry("answer", String.valueOf(max));
        java.util.List<RewardInput> in = RewardInput.batch(s.tokenizer(), java.util.List.of(p.query().ids(),
                p.query().ids(), p.query().ids()), java.util.List.of(new int[] {max, 7}, new int[] {max, 0, 7},
                new int[] {(max + 1) % 7, 7}), java.util.List.of(VerifiableRewardDemo.Setup.fields(p),
                VerifiableRewardDemo.Setup.fields(p), VerifiableRewardDemo.Setup.fields(p)));
        assertThat(s.reward().score(in).total()).containsExactly(1.0, 0.0, 0.0);
    }
}
