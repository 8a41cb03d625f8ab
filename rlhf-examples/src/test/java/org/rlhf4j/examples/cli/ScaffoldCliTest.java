package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;

/** {@code sft --scaffold} and {@code dpo --scaffold} on 8 bundled rows, one step each. */
class ScaffoldCliTest {

    static Path firstRows(Path dir, String resource, int n) throws Exception {
        try (InputStream in = ScaffoldCliTest.class.getResourceAsStream("/org/rlhf4j/datasets/tldr/" + resource)) {
            List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().limit(n).toList();
            return Files.write(dir.resolve(resource), lines);
        }
    }

    @Test
    void sftAndDpoTrainOnFactsThenSummaryTargets(@TempDir Path dir) throws Exception {
        Path rows = firstRows(dir, "carper-sft-train.jsonl", 8);
        Path pairs = firstRows(dir, "carper-comparisons-train.jsonl", 8);
        // a tiny random GPT-2 over the bundled tokenizer, 512 positions: 128 query + 256 response tokens fit
        Path base = dir.resolve("base");
        try (Tokenizer tok = Gpt2Tokenizers.bundled(); NDManager m = NDManager.newBaseManager();
                Gpt2 g = Gpt2.random(new Gpt2Config(Gpt2Config.GPT2_VOCAB, 512, 16, 1, 2, 64, 1e-5, "gelu_new",
                        Gpt2Config.GPT2_EOS, Gpt2Config.GPT2_EOS, Map.of()), m, 1)) {
            Checkpoint.save(base, g, tok, null, null, null);
        }
        Path sft = dir.resolve("sft");
        CliSmokeTest.Run s = DpoCommandTest.run("sft", "--scaffold", "--model", base.toString(), "--data",
                rows.toString(), "--eval-data",
                rows.toString(), "--out", sft.toString(), "--epochs", "1", "--seed", "3", "--device", "cpu");
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode summary = Json.MAPPER.readTree(s.out());
        // every row fits the scaffold's 256-token response limit (the default 53 would skip them)
        assertThat(summary.get("train_samples").asInt()).isEqualTo(8);
        assertThat(summary.get("steps").asInt()).isEqualTo(1);
        String config = Files.readString(sft.resolve("run_config.json"));
        assertThat(config).containsPattern("\"scaffold\"\\s*:\\s*true").containsPattern("\"max-response-tokens\"\\s*:\\s*256");

        Path dpo = dir.resolve("dpo");
        CliSmokeTest.Run d = DpoCommandTest.run("dpo", "--scaffold", "--model", sft.resolve("model").toString(),
                "--data", pairs.toString(), "--eval-data", pairs.toString(), "--out", dpo.toString(), "--epochs", "1",
                "--seed", "5", "--device", "cpu");
        assertThat(d.code()).as(d.err()).isZero();
        assertThat(Json.MAPPER.readTree(d.out()).get("train_pairs").asInt()).isEqualTo(8);
    }

    @Test
    void dataScaffoldWritesProtocolTargetsThatReadBackAsSftRows(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("scaffold.jsonl");
        CliSmokeTest.Run r = CliSmokeTest.run("data", "scaffold", "--split", "train", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(r.out());
        assertThat(j.get("rows").asInt()).isEqualTo(50);
        assertThat(j.get("facts").asInt()).isEqualTo(144); // as FactScaffoldTest measures on the bundled split
        assertThat(j.get("rows_without_facts").asInt()).isEqualTo(1);
        List<org.rlhf4j.datasets.SftExample> back = org.rlhf4j.datasets.source.DataSource.parse(out.toString())
                .sftRows("train");
        List<org.rlhf4j.datasets.SftExample> bundled = org.rlhf4j.datasets.BundledTldr.sft("train");
        assertThat(back).hasSize(50);
        for (int i = 0; i < 50; i++) {
            assertThat(back.get(i).prompt()).isEqualTo(bundled.get(i).prompt());
            assertThat(back.get(i).completion()).isEqualTo(
                    org.rlhf4j.datasets.task.FactScaffold.scaffold(bundled.get(i), 3).completion());
        }
        assertThat(CliSmokeTest.run("data", "scaffold", "--max-facts", "0", "--out", out.toString()).err())
                .contains("--max-facts must be >= 1, got 0");
    }

    @Test
    void dataScaffoldTakesFactsFromAnLlmAndCountsMalformedReplies(@TempDir Path dir) throws Exception {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                // a FAKE fact extractor: the second post gets a malformed reply
                String reply = n.incrementAndGet() == 2 ? "no JSON here" : "{\"facts\": [\"fact one\", \"fact two\"]}";
                byte[] out = Json.compact(Map.of("choices", List.of(Map.of("message", Map.of("content", reply)))))
                        .getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, out.length);
                ex.getResponseBody().write(out);
            }
        });
        server.start();
        try {
            Path rows = firstRows(dir, "carper-sft-train.jsonl", 3);
            Path out = dir.resolve("llm.jsonl");
            CliSmokeTest.Run r = CliSmokeTest.run("data", "scaffold", "--data", rows.toString(), "--facts", "llm",
                    "--base-url", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "--judge-model", "fake",
                    "--cache", dir.resolve("facts-cache.jsonl").toString(), "--out", out.toString());
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode j = Json.MAPPER.readTree(r.out());
            assertThat(j.get("rows").asInt()).isEqualTo(3);
            assertThat(j.get("llm_malformed").asInt()).isEqualTo(1);
            assertThat(r.err()).contains("malformed LLM reply (reply is not one JSON object");
            List<org.rlhf4j.datasets.SftExample> back = org.rlhf4j.datasets.source.DataSource.parse(out.toString())
                    .sftRows("x");
            assertThat(back.get(0).completion()).startsWith(" Facts:\n- fact one\n- fact two\nSummary: ");
            assertThat(back.get(1).completion()).doesNotContain("fact one"); // extractive facts for the malformed one
            assertThat(back.get(2).completion()).startsWith(" Facts:\n- fact one\n- fact two\nSummary: ");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void generateScaffoldWarnsWhenTheMarkerIsMissing(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base");
        try (Tokenizer tok = Gpt2Tokenizers.bundled(); NDManager m = NDManager.newBaseManager();
                Gpt2 g = Gpt2.random(new Gpt2Config(Gpt2Config.GPT2_VOCAB, 64, 16, 1, 2, 64, 1e-5, "gelu_new",
                        Gpt2Config.GPT2_EOS, Gpt2Config.GPT2_EOS, Map.of()), m, 1)) {
            Checkpoint.save(base, g, tok, null, null, null);
        }
        CliSmokeTest.Run r = CliSmokeTest.run("generate", "--model", base.toString(), "--prompt", "Hello",
                "--max-new-tokens", "3", "--temperature", "0", "--scaffold");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("sample 1 has no \"Summary:\" marker; printed whole");
        assertThat(r.out()).doesNotStartWith("Hello"); // only the sample, not the prompt
    }
}
