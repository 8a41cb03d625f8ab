package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PromptRow;
import picocli.CommandLine;

/** {@code rlhf4j eval} on the bundled sample with tiny from-scratch models. */
class EvalCommandTest {

    static final Gpt2Config TINY = new Gpt2Config(Gpt2Config.GPT2_VOCAB, 192, 16, 1, 2, 64, 1e-5, "gelu_new",
            Gpt2Config.GPT2_EOS, Gpt2Config.GPT2_EOS, Map.of());

    @TempDir static Path dir;
    static Path policy;
    static Path rm;

    @BeforeAll
    static void models() throws Exception {
        policy = dir.resolve("policy");
        rm = dir.resolve("rm");
        try (Tokenizer tok = Gpt2Tokenizers.bundled(); NDManager m = NDManager.newBaseManager();
                Gpt2 p = Gpt2.random(TINY, m, 1); ScalarModel r = ScalarModel.random(TINY, m, 2)) {
            Checkpoint.save(policy, p, tok, null, null, null);
            Checkpoint.save(rm, r::save, tok, null, null, null);
        }
    }

    static CliSmokeTest.Run eval(String... args) {
        CommandLine cl = new CommandLine(new EvalCommand());
        cl.setExecutionExceptionHandler(Rlhf4jCli.commandLine().getExecutionExceptionHandler());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CliSmokeTest.Run(code, out.toString(), err.toString());
    }

    @Test
    void aPolicyIsEvaluatedWithTheRewardModelJudge() throws Exception {
        Path saved = dir.resolve("out/summaries.jsonl");
        CliSmokeTest.Run r = eval("--policy", policy.toString(), "--reward-model", rm.toString(), "--reference-policy",
                policy.toString(), "--limit", "8", "--max-new-tokens", "8", "--save-summaries", saved.toString(),
                "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip().lines()).hasSize(1);
        JsonNode j = Json.MAPPER.readTree(r.out());
        assertThat(j.get("judge").asText()).isEqualTo("rm");
        JsonNode e = j.get("evaluation");
        assertThat(e.get("name").asText()).isEqualTo("policy");
        assertThat(e.get("prompts").asInt()).isEqualTo(8);
        assertThat(e.get("kl").asDouble()).isCloseTo(0.0, within(1e-5));
        assertThat(e.get("mean_length").asDouble()).isBetween(1.0, 8.0);
        assertThat(e.get("rm_score").isNumber()).isTrue();
        assertThat(e.get("rouge").get("rouge1").isNumber()).isTrue();
        assertThat(e.get("win_rate").get("comparisons").asInt()).isEqualTo(8);
        assertThat(e.get("samples")).hasSize(3);
        assertThat(Files.readAllLines(saved)).hasSize(8);

        // the saved summaries evaluate to the same win rate without the policy
        CliSmokeTest.Run again = eval("--summaries", saved.toString(), "--reward-model", rm.toString(), "--limit", "8",
                "--device", "cpu");
        assertThat(again.code()).as(again.err()).isZero();
        JsonNode a = Json.MAPPER.readTree(again.out()).get("evaluation");
        assertThat(a.get("prompts").asInt()).isEqualTo(8);
        assertThat(a.get("kl").isNull()).isTrue();
        assertThat(a.get("rouge")).isEqualTo(e.get("rouge"));
    }

    @Test
    void referencesAgainstThemselvesTieAndHumanAgreementIsReported() throws Exception {
        Path refs = dir.resolve("refs.jsonl");
        List<String> lines = new ArrayList<>();
        for (PromptRow p : BundledTldr.prompts("test").subList(0, 8)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", p.id());
            row.put("summary", p.reference());
            lines.add(Json.compact(row));
        }
        Files.write(refs, lines);
        CliSmokeTest.Run r = eval("--summaries", refs.toString(), "--reward-model", rm.toString(), "--human-agreement",
                "--limit", "8", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(r.out());
        JsonNode e = j.get("evaluation");
        assertThat(e.get("rouge").get("rougeL").asDouble()).isEqualTo(1.0);
        assertThat(e.get("win_rate").get("ties").asInt()).isEqualTo(8);
        assertThat(e.get("win_rate").get("winRate").asDouble()).isEqualTo(0.5);
        JsonNode h = j.get("human_agreement").get("overall");
        assertThat(h.get("comparisons").asInt()).isEqualTo(8);
        assertThat(h.get("agree").asInt() + h.get("disagree").asInt() + h.get("ties").asInt()).isEqualTo(8);
        assertThat(j.get("human_agreement").get("byConfidence").size()).isPositive();
    }

    @Test
    void theLlmJudgeRunsAgainstALocalServerAndAResumedRunIsFree() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            try (ex) {
                String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                String prompt = Json.MAPPER.readTree(body).at("/messages/0/content").asText();
                requests.incrementAndGet();
                // prefers the longer summary, whichever position it is in
                String a = between(prompt, "Summary A:\n", "\n\n");
                String b = between(prompt, "Summary B:\n", "\n\n");
                String reply = "Comparison: one is longer.\nPreferred: " + (a.length() >= b.length() ? "A" : "B");
                byte[] out = Json.compact(Map.of("choices", List.of(Map.of("message", Map.of("content", reply)))))
                        .getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, out.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        });
        server.start();
        try {
            Path shortOnes = dir.resolve("short.jsonl");
            List<String> lines = new ArrayList<>();
            for (PromptRow p : BundledTldr.prompts("test").subList(0, 3)) {
                lines.add(Json.compact(Map.of("id", p.id(), "summary", "x")));
            }
            Files.write(shortOnes, lines);
            Path cache = dir.resolve("llm/cache.jsonl");
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
            String[] args = {"--summaries", shortOnes.toString(), "--judge", "llm", "--base-url", url, "--judge-model",
                "fake", "--api-key", "sk-cli-secret", "--cache", cache.toString(), "--limit", "3"};
            CliSmokeTest.Run r = eval(args);
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).doesNotContain("sk-cli-secret");
            JsonNode j = Json.MAPPER.readTree(r.out());
            assertThat(j.get("judge").asText()).startsWith("llm:fake/dpo-concise");
            JsonNode w = j.get("evaluation").get("win_rate");
            assertThat(w.get("losses").asInt()).isEqualTo(3); // "x" loses to every reference
            assertThat(w.get("position").get("consistency").asDouble()).isEqualTo(1.0);
            assertThat(j.get("judge_stats").get("httpRequests").asInt()).isEqualTo(6);
            for (int rerun = 0; rerun < 2; rerun++) { // runs 2 and 3, each with a fresh judge: nothing is sent
                CliSmokeTest.Run again = eval(args);
                assertThat(again.code()).as(again.err()).isZero();
                JsonNode stats = Json.MAPPER.readTree(again.out()).get("judge_stats");
                assertThat(stats.get("httpRequests").asInt()).isZero();
                assertThat(stats.get("cacheHits").asInt()).isEqualTo(6);
            }
            assertThat(requests.get()).isEqualTo(6);
            assertThat(Files.readString(cache)).doesNotContain("sk-cli-secret");
        } finally {
            server.stop(0);
        }
    }

    private static String between(String s, String start, String end) {
        int i = s.indexOf(start) + start.length();
        return s.substring(i, s.indexOf(end, i));
    }

    @Test
    void usageErrorsAreOneLine() {
        CliSmokeTest.Run r = eval("--policy", policy.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: ").contains("--reward-model");
        assertThat(eval("--judge", "gpt", "--human-agreement").err()).contains("'gpt'");
        assertThat(eval().err()).contains("nothing to evaluate");
        assertThat(eval("--human-agreement", "--judge", "llm", "--timeout", "0").err())
                .startsWith("error: --timeout must be a positive number of seconds, got 0.0");
        CliSmokeTest.Run bad = eval("--summaries", dir.resolve("missing.jsonl").toString(), "--reward-model", rm.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("missing.jsonl");
    }
}
