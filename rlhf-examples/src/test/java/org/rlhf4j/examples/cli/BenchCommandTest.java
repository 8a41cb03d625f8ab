package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import picocli.CommandLine;

/** {@code rlhf4j bench} at tiny shapes: the JSON keys the peer script mirrors, the breakdown and the RSS run. */
class BenchCommandTest {

    @TempDir
    Path dir;

    static CliSmokeTest.Run bench(String... args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setExecutionExceptionHandler(Rlhf4jCli.commandLine().getExecutionExceptionHandler());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CliSmokeTest.Run(code, out.toString(), err.toString());
    }

    static final String[] TINY = {"--n-embd", "32", "--n-layer", "1", "--n-head", "4", "--vocab", "64"};

    static String[] args(String[] shape, String... more) {
        List<String> all = new ArrayList<>(List.of(shape));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void aLlamaShapeWritesTrainGenerationBandwidthAndRoofline() throws Exception {
        Path json = dir.resolve("b.json");
        CliSmokeTest.Run r = bench(args(TINY, "--arch", "llama", "--n-kv-head", "2", "--batch", "2", "--seq", "8",
                "--steps", "1", "--matmul-size", "64", "--gen-batch", "2", "--prompt-len", "4", "--new-tokens", "3",
                "--reps", "1", "--bandwidth-mb", "4", "--json", json.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(json.toFile());
        assertThat(j.path("arch").asText()).isEqualTo("llama");
        assertThat(j.path("bandwidth_gbps").asDouble()).isPositive();
        assertThat(j.path("model").path("n_kv_head").asInt()).isEqualTo(2);
        assertThat(j.path("model").path("ffn").asInt()).isEqualTo(128); // ⌈(8/3)·32 / 64⌉·64 = ⌈1.33⌉·64
        JsonNode t = j.path("train");
        assertThat(t.path("flops_per_token").asDouble()).isPositive();
        assertThat(t.path("mfu_vs_matmul").asDouble()).isPositive();
        JsonNode g = j.path("generation");
        for (String k : List.of("kv_cache_seconds", "recompute_seconds", "prefill_seconds", "decode_tokens_per_second",
                "roofline_tokens_per_second", "roofline_ratio")) {
            assertThat(g.has(k)).as(k).isTrue();
        }
        assertThat(g.path("roofline_ratio").asDouble()).isCloseTo(
                g.path("decode_tokens_per_second").asDouble() / g.path("roofline_tokens_per_second").asDouble(),
                within(1e-9));
        assertThat(r.out()).contains("roofline");
    }

    @Test
    void theBreakdownReportsEachPhaseOfPpoAndGrpo() throws Exception {
        Path json = dir.resolve("b.json");
        CliSmokeTest.Run r = bench(args(TINY, "--breakdown", "ppo,grpo", "--breakdown-batch", "4",
                "--breakdown-prompt-len", "4", "--breakdown-response-len", "4", "--breakdown-generations", "2",
                "--breakdown-updates", "1", "--json", json.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode b = Json.MAPPER.readTree(json.toFile()).path("breakdown");
        assertThat(b).hasSize(2);
        assertThat(b.get(0).path("algorithm").asText()).isEqualTo("ppo");
        assertThat(b.get(1).path("algorithm").asText()).isEqualTo("grpo");
        for (JsonNode a : b) {
            JsonNode med = a.path("medianSeconds");
            assertThat(med.path("time/update").asDouble()).isPositive();
            double sum = 0;
            for (String k : List.of("time/generate", "time/score", "time/forward", "time/train")) {
                assertThat(med.path(k).asDouble()).as(k).isGreaterThanOrEqualTo(0);
                sum += a.path("shareOfUpdate").path(k).asDouble();
            }
            assertThat(sum).isLessThanOrEqualTo(1.0 + 1e-3);
            assertThat(sum + a.path("shareOfUpdate").path("other").asDouble()).isCloseTo(1.0, within(1e-9));
        }
        assertThat(r.out()).contains("| time/generate |", "| other |");
    }

    @Test
    void rssUpdatesReadsVmRssAtUpdateTenAndTheEnd() throws Exception {
        Path json = dir.resolve("r.json");
        CliSmokeTest.Run r = bench(args(TINY, "--rss-updates", "12", "--breakdown-batch", "2",
                "--breakdown-prompt-len", "4", "--breakdown-response-len", "4", "--json", json.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(json.toFile()).path("rss");
        assertThat(j.path("updates").asInt()).isEqualTo(12);
        long at10 = j.path("rssAt10Bytes").asLong();
        long end = j.path("rssAtEndBytes").asLong();
        assertThat(at10).isPositive();
        assertThat(j.path("growth").asDouble()).isCloseTo((double) (end - at10) / at10, within(1e-12));
        assertThat(j.path("samples").has("10")).isTrue();
        assertThat(j.path("samples").path("12").path("rssBytes").asLong()).isEqualTo(end);
        assertThat(j.path("samples").path("12").path("heapCommittedBytes").asLong())
                .isGreaterThanOrEqualTo(j.path("samples").path("12").path("heapUsedBytes").asLong()).isPositive();
        assertThat(r.out()).contains("VmRSS at update 10");
    }

    @Test
    void badShapesAndTrainersAreNamed() {
        CliSmokeTest.Run r = bench(args(TINY, "--n-kv-head", "2", "--skip", "train,gen", "--matmul-size", "8",
                "--bandwidth-mb", "1"));
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--n-kv-head is for --arch llama");
        r = bench(args(TINY, "--breakdown", "dpo"));
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--breakdown: unknown trainer 'dpo'");
    }
}
