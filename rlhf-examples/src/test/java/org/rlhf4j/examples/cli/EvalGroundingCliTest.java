package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.eval.Interval;
import org.rlhf4j.algorithms.eval.Matchup;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PromptRow;

/**
 * {@code rlhf4j eval --grounding} on the bundled test prompts against a FAKE grounding judge on loopback (no real LLM
 * is reachable here): the eval table gets its {@code halluc.} column, the JSON its {@code hallucination}, a rerun
 * sends nothing.
 */
class EvalGroundingCliTest {

    @TempDir static Path dir;
    static Path rm;

    @BeforeAll
    static void models() throws Exception {
        rm = dir.resolve("rm");
        try (Tokenizer tok = Gpt2Tokenizers.bundled(); NDManager m = NDManager.newBaseManager();
                ScalarModel r = ScalarModel.random(EvalCommandTest.TINY, m, 2)) {
            Checkpoint.save(rm, r::save, tok, null, null, null);
        }
    }

    /**
     * The fake judge's rule: a claim (a clause of the summary) is supported when the post has at least half of its
     * words of four letters or more.
     */
    static boolean supported(String post, String claim) {
        Set<String> inPost = words(post);
        Set<String> words = words(claim);
        long found = words.stream().filter(inPost::contains).count();
        return found >= 0.5 * words.size();
    }

    static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z]+")) {
            if (w.length() >= 4) { // content-ish words only
                out.add(w);
            }
        }
        return out;
    }

    static List<String> claims(String summary) {
        List<String> out = new ArrayList<>();
        for (String c : summary.split("[.,;!?]")) {
            if (!words(c).isEmpty()) {
                out.add(c.strip());
            }
        }
        return out;
    }

    static String between(String s, String start, String end) {
        int i = s.indexOf(start) + start.length();
        return s.substring(i, s.indexOf(end, i));
    }

    @Test
    void theEvalTableShowsTheHallucinationRateOfTheFakeJudge() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            try (ex) {
                String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                String prompt = Json.MAPPER.readTree(body).at("/messages/0/content").asText();
                int n = requests.incrementAndGet();
                String post = between(prompt, "Post:\n", "\n\nSummary:\n");
                String summary = between(prompt, "Summary:\n", "\n\nSTEP 1");
                String reply;
                if (n == 3) {
                    reply = "Verdict: supported"; // the third question gets a malformed (non-JSON) reply
                } else {
                    List<Map<String, Object>> cs = new ArrayList<>();
                    boolean all = true;
                    for (String c : claims(summary)) {
                        boolean ok = supported(post, c);
                        all &= ok;
                        cs.add(Map.of("claim", c, "supported", ok, "evidence", ok ? "(in the post)" : ""));
                    }
                    reply = Json.compact(Map.of("facts", List.of(post.substring(0, Math.min(60, post.length()))),
                            "claims", cs, "verdict", all ? "supported" : "unsupported"));
                }
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
            List<PromptRow> rows = BundledTldr.prompts("test").subList(0, 8);
            Path refs = dir.resolve("references.jsonl");
            List<String> lines = new ArrayList<>();
            int expectedUnsupported = 0;
            for (int i = 0; i < rows.size(); i++) {
                PromptRow p = rows.get(i);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", p.id());
                row.put("summary", p.reference());
                lines.add(Json.compact(row));
                String post = Matchup.postText(p.prompt());
                if (i != 2 && claims(p.reference().strip()).stream().anyMatch(c -> !supported(post, c))) {
                    expectedUnsupported++;
                }
            }
            Files.write(refs, lines);
            Path cache = dir.resolve("grounding-cache.jsonl");
            String[] args = {"--summaries", refs.toString(), "--reward-model", rm.toString(), "--grounding",
                "--base-url", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "--judge-model",
                "fake-grounding", "--api-key", "sk-grounding-secret", "--cache", cache.toString(), "--limit", "8",
                "--device", "cpu"};
            CliSmokeTest.Run r = EvalCommandTest.eval(args);
            assertThat(r.code()).as(r.err()).isZero();
            System.out.println("eval --grounding, FAKE judge, bundled test[0:8] references:\n" + r.err());
            JsonNode j = Json.MAPPER.readTree(r.out());
            assertThat(j.get("judge").asText()).isEqualTo("rm");
            assertThat(j.get("grounding_judge").asText()).startsWith("llm:fake-grounding/factual at http://127.0.0.1:");
            JsonNode h = j.get("evaluation").get("hallucination");
            assertThat(h.get("summaries").asInt()).isEqualTo(8);
            assertThat(h.get("malformed").asInt()).isEqualTo(1);
            assertThat(h.get("unsupported").asInt()).isEqualTo(expectedUnsupported);
            assertThat(h.get("supported").asInt()).isEqualTo(7 - expectedUnsupported);
            assertThat(h.get("rate").asDouble()).isCloseTo(expectedUnsupported / 7.0, within(1e-12));
            Interval ci = Interval.wilson95(expectedUnsupported, 7);
            assertThat(h.get("ci95").get(0).asDouble()).isCloseTo(ci.lo(), within(1e-12));
            assertThat(h.get("ci95").get(1).asDouble()).isCloseTo(ci.hi(), within(1e-12));
            assertThat(j.get("evaluation").get("groundings")).hasSize(3);
            assertThat(j.get("evaluation").get("groundings").get(2).get("status").asText()).isEqualTo("malformed");
            assertThat(j.get("grounding_stats").get("malformed").asInt()).isEqualTo(1);
            assertThat(j.get("grounding_stats").get("client").get("httpRequests").asInt()).isEqualTo(8);
            // the table: the halluc. column with the rate and its interval, and the malformed count
            String header = r.err().lines().filter(l -> l.startsWith("policy")).findFirst().orElseThrow();
            assertThat(header).contains("win rate", "halluc.", "malformed");
            String row = r.err().lines().filter(l -> l.startsWith("references.jsonl")).findFirst().orElseThrow();
            assertThat(row).contains(String.format(Locale.ROOT, "%.1f%% [%.1f, %.1f]", 100.0 * expectedUnsupported / 7,
                    100 * ci.lo(), 100 * ci.hi()));
            assertThat(r.out() + r.err() + Files.readString(cache)).doesNotContain("sk-grounding-secret");

            // a rerun is answered from the cache: nothing is sent
            CliSmokeTest.Run again = EvalCommandTest.eval(args);
            assertThat(again.code()).as(again.err()).isZero();
            JsonNode s = Json.MAPPER.readTree(again.out()).get("grounding_stats").get("client");
            assertThat(s.get("httpRequests").asInt()).isZero();
            assertThat(s.get("cacheHits").asInt()).isEqualTo(8);
            assertThat(requests.get()).isEqualTo(8);
            assertThat(Json.MAPPER.readTree(again.out()).get("evaluation").get("hallucination")).isEqualTo(h);

            // extractive "lead" summaries (the post's first sentence): every claim is in the post
            Path lead = dir.resolve("lead.jsonl");
            List<String> leadLines = new ArrayList<>();
            for (PromptRow p : rows) {
                String post = Matchup.postText(p.prompt());
                String body = post.substring(post.indexOf("POST: ") + 6);
                String first = body.split("(?<=[.!?])\\s+")[0];
                leadLines.add(Json.compact(Map.of("id", p.id(), "summary", first)));
            }
            Files.write(lead, leadLines);
            String[] leadArgs = args.clone();
            leadArgs[1] = lead.toString();
            CliSmokeTest.Run l = EvalCommandTest.eval(leadArgs);
            assertThat(l.code()).as(l.err()).isZero();
            System.out.println("eval --grounding, FAKE judge, bundled test[0:8] lead sentences:\n" + l.err());
            JsonNode lh = Json.MAPPER.readTree(l.out()).get("evaluation").get("hallucination");
            assertThat(lh.get("unsupported").asInt()).isZero();
            assertThat(lh.get("malformed").asInt()).isZero();
            assertThat(lh.get("rate").asDouble()).isZero();

            // without --grounding: no column, no field
            CliSmokeTest.Run plain = EvalCommandTest.eval("--summaries", refs.toString(), "--reward-model",
                    rm.toString(), "--limit", "8", "--device", "cpu");
            assertThat(plain.code()).as(plain.err()).isZero();
            assertThat(plain.err()).contains("win rate").doesNotContain("halluc.");
            assertThat(Json.MAPPER.readTree(plain.out()).get("evaluation").has("hallucination")).isFalse();
        } finally {
            server.stop(0);
        }
    }
}
