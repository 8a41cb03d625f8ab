package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
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
}
