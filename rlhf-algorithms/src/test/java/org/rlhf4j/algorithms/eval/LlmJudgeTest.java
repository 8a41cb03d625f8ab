package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

/** The LLM judge against a scripted Chat Completions server on loopback. */
class LlmJudgeTest {

    static final String KEY = "sk-test-SECRET-0123456789";
    static final String POST = "SUBREDDIT: r/test\n\nTITLE: t\n\nPOST: my cat ate my homework";

    static List<Matchup> matchups() {
        return List.of(
                new Matchup("1", POST, null, "GOOD cat ate homework", "something else entirely"),
                new Matchup("2", POST, null, "a weak summary", "GOOD summary of the cat"),
                new Matchup("3", POST, null, "GOOD first", "plain second"));
    }

    static LlmJudge.Builder judge(FakeChatServer s) {
        return LlmJudge.builder().optBaseUrl(s.baseUrl()).optModel("judge-model").optApiKey(KEY)
                .optEnvironment(Map.of()).optRequestTimeout(Duration.ofSeconds(5))
                .optBackoff(Duration.ofMillis(5), Duration.ofMillis(40)).optSeed(7);
    }

    @Test
    void aJudgeThatAlwaysPicksTheFirstPositionIsNeverConsistent() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply(
                        "Comparison: the first one is better.\nPreferred: A"));
                LlmJudge j = judge(s).build()) {
            List<Judgement> js = j.judgeAll(matchups());
            assertThat(js).extracting(Judgement::verdict).containsOnly(Verdict.TIE);
            WinRate.Result w = WinRate.of(js);
            assertThat(w.position().consistency()).isEqualTo(0.0);
            assertThat(w.position().firstPositionRate()).isEqualTo(1.0);
            assertThat(w.winRate()).isEqualTo(0.5);
            assertThat(s.requestCount()).isEqualTo(6); // both orders of 3 matchups
            assertThat(j.stats().questions()).isEqualTo(6);
        }
    }

    @Test
    void aJudgeThatReadsTheTextsIsConsistentAndPicksTheMarkedSummary() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> {
                    boolean aGood = FakeChatServer.shown(r.prompt(), "A").contains("GOOD");
                    return FakeChatServer.Response.reply("Comparison: one mentions GOOD.\n**Preferred:** " + (aGood ? "A" : "B"));
                });
                LlmJudge j = judge(s).build()) {
            List<Judgement> js = j.judgeAll(matchups());
            assertThat(js).extracting(Judgement::verdict).containsExactly(Verdict.A, Verdict.B, Verdict.A);
            WinRate.Result w = WinRate.of(js);
            assertThat(w.position().consistency()).isEqualTo(1.0);
            assertThat(w.position().firstPositionRate()).isEqualTo(0.5);
            assertThat(w.winRate()).isEqualTo(2.0 / 3);
            // the request is what the API expects, the key in the header
            JsonNode body = Json.MAPPER.readTree(s.requests().get(0).body());
            assertThat(body.get("model").asText()).isEqualTo("judge-model");
            assertThat(body.get("temperature").asDouble()).isEqualTo(0.0);
            assertThat(body.get("max_tokens").asInt()).isEqualTo(256);
            assertThat(body.get("messages").get(0).get("role").asText()).isEqualTo("user");
            assertThat(s.requests().get(0).prompt()).startsWith("Which of the following summaries")
                    .contains("Post:\n" + POST).contains("Summary A:\nGOOD cat ate homework")
                    .contains("Summary B:\nsomething else entirely");
            assertThat(s.requests().get(1).prompt()).contains("Summary A:\nsomething else entirely");
            assertThat(s.requests()).extracting(FakeChatServer.Request::authorization).containsOnly("Bearer " + KEY);
            assertThat(j.describe()).doesNotContain(KEY).contains("judge-model").contains("dpo-concise");
        }
    }

    @Test
    void malformedRepliesAreInvalidNeverAChoice() throws Exception {
        List<String> bodies = List.of(
                FakeChatServer.chatBody("Comparison: both are fine, I cannot decide."),
                "this is not json {",
                "{\"choices\": []}",
                FakeChatServer.chatBody("Preferred: A or B"),
                "{\"choices\": [{\"message\": {\"content\": null}}]}",
                FakeChatServer.chatBody("Preferred: A"));
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.raw(200,
                        bodies.get((r.number() - 1) % bodies.size())));
                LlmJudge j = judge(s).build()) {
            List<Judgement> js = j.judgeAll(matchups());
            assertThat(js).extracting(Judgement::verdict).containsOnly(Verdict.INVALID);
            assertThat(js.get(0).orderAB()).isEqualTo(Verdict.INVALID);
            assertThat(js.get(2).orderBA()).isEqualTo(Verdict.B); // "Preferred: A" with B shown first
            WinRate.Result w = WinRate.of(js);
            assertThat(w.invalid()).isEqualTo(3);
            assertThat(w.winRate()).isNaN();
            assertThat(j.stats().invalidAnswers()).isEqualTo(5);
            assertThat(j.stats().retries()).isZero(); // a 200 with a bad body is an answer, not an outage
            assertThat(js.get(0).detail()).contains("cannot decide").contains("response body is not JSON");
        }
    }

    @Test
    void timeoutsAndServerErrorsAreRetriedWithTheCountObservable() throws Exception {
        List<String> warnings = new CopyOnWriteArrayList<>();
        try (FakeChatServer s = new FakeChatServer(r -> switch (r.number()) {
                    case 1 -> new FakeChatServer.Response(200, FakeChatServer.chatBody("Preferred: A"), 1500, Map.of());
                    case 2 -> FakeChatServer.Response.raw(500, "{\"error\": \"overloaded\"}");
                    case 3 -> new FakeChatServer.Response(429, "{\"error\": \"rate limit for key " + KEY + "\"}", 0,
                            Map.of("Retry-After", "0"));
                    default -> FakeChatServer.Response.reply("Preferred: A");
                });
                LlmJudge j = judge(s).optRequestTimeout(Duration.ofMillis(300)).optMaxRetries(3)
                        .optWarnings(warnings::add).build()) {
            Judgement got = j.judge(matchups().get(0));
            assertThat(got.orderAB()).isEqualTo(Verdict.A);
            assertThat(j.stats().retries()).isEqualTo(3);
            assertThat(j.stats().httpRequests()).isEqualTo(5); // 4 for the first order, 1 for the second
            assertThat(warnings).hasSize(3);
            assertThat(warnings.get(0)).contains("timeout");
            assertThat(warnings.get(1)).contains("HTTP 500");
            assertThat(warnings.get(2)).contains("HTTP 429").doesNotContain(KEY);
        }
    }

    @Test
    void exhaustedRetriesFailClearlyWithoutTheKey() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.raw(503, "down for key " + KEY));
                LlmJudge j = judge(s).optMaxRetries(2).build()) {
            assertThatThrownBy(() -> j.judge(matchups().get(0)))
                    .isInstanceOf(JudgeException.class)
                    .hasMessageContaining("failed after 3 attempts")
                    .hasMessageContaining("HTTP 503")
                    .hasMessageNotContaining(KEY);
            assertThat(s.requestCount()).isEqualTo(3);
        }
    }

    @Test
    void clientErrorsAreNotRetried() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.raw(401, "bad key " + KEY));
                LlmJudge j = judge(s).build()) {
            assertThatThrownBy(() -> j.judge(matchups().get(0)))
                    .isInstanceOf(JudgeException.class)
                    .hasMessageContaining("HTTP 401")
                    .hasMessageNotContaining(KEY);
            assertThat(s.requestCount()).isEqualTo(1);
        }
    }

    @Test
    void backoffGrowsExponentiallyWithSeededJitter() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply("A"))) {
            LlmJudge.Builder b = LlmJudge.builder().optBaseUrl(s.baseUrl()).optModel("m").optEnvironment(Map.of())
                    .optBackoff(Duration.ofMillis(100), Duration.ofMillis(1000)).optSeed(3);
            try (LlmJudge j1 = b.build(); LlmJudge j2 = b.build()) {
                long[] d = new long[6];
                for (int k = 0; k < 6; k++) {
                    d[k] = j1.backoffMillis(k);
                    assertThat(j2.backoffMillis(k)).isEqualTo(d[k]); // same seed, same jitter
                    long cap = Math.min(1000, 100L << k);
                    assertThat(d[k]).isBetween(cap / 2, cap);
                }
            }
        }
    }

    @Test
    void theCacheMakesARerunFreeAndSurvivesATruncatedLastLine(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("sub/judge-cache.jsonl");
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply(
                "Preferred: " + (FakeChatServer.shown(r.prompt(), "A").contains("GOOD") ? "A" : "B")))) {
            List<Judgement> first;
            try (LlmJudge j = judge(s).optCacheFile(cache).build()) {
                first = j.judgeAll(matchups());
            }
            assertThat(s.requestCount()).isEqualTo(6);
            assertThat(Files.readAllLines(cache)).hasSize(6);
            try (LlmJudge j = judge(s).optCacheFile(cache).build()) {
                assertThat(j.judgeAll(matchups())).isEqualTo(first);
                assertThat(j.stats().cacheHits()).isEqualTo(6);
                assertThat(j.stats().httpRequests()).isZero();
            }
            assertThat(s.requestCount()).isEqualTo(6);

            // a crash in the middle of a write leaves half a line
            Files.writeString(cache, "{\"key\":\"abc\",\"cont", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            List<String> warnings = new ArrayList<>();
            List<Matchup> more = new ArrayList<>(matchups());
            more.add(new Matchup("4", POST, null, "new GOOD one", "new plain one"));
            try (LlmJudge j = judge(s).optCacheFile(cache).optWarnings(warnings::add).build()) {
                assertThat(j.judgeAll(more)).extracting(Judgement::verdict)
                        .containsExactly(Verdict.A, Verdict.B, Verdict.A, Verdict.A);
                assertThat(j.stats().cacheHits()).isEqualTo(6);
            }
            assertThat(warnings).hasSize(1);
            assertThat(warnings.get(0)).contains("incomplete last line 7");
            assertThat(Files.readAllLines(cache)).hasSize(8).allSatisfy(l -> assertThat(l).startsWith("{\"key\":\"").endsWith("}"));
            assertThat(s.requestCount()).isEqualTo(8);
            // the next append started on a fresh line: the file reads cleanly, with nothing asked again
            List<String> again = new ArrayList<>();
            try (LlmJudge j = judge(s).optCacheFile(cache).optWarnings(again::add).build()) {
                j.judgeAll(more);
                assertThat(j.stats().httpRequests()).isZero();
            }
            assertThat(again).isEmpty();
            // a damaged line in the middle is an error naming the line
            List<String> lines = new ArrayList<>(Files.readAllLines(cache));
            lines.set(1, "garbage");
            Files.write(cache, lines);
            assertThatThrownBy(() -> judge(s).optCacheFile(cache).build())
                    .hasMessageContaining("judge-cache.jsonl:2");
        }
    }

    @Test
    void threeRerunsSharingACacheFileSendNothingAfterTheFirst(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("judge-cache.jsonl");
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply(
                "Preferred: " + (FakeChatServer.shown(r.prompt(), "A").contains("GOOD") ? "A" : "B")))) {
            List<List<Judgement>> runs = new ArrayList<>();
            List<Integer> sent = new ArrayList<>();
            for (int run = 0; run < 3; run++) {
                int before = s.requestCount();
                try (LlmJudge j = judge(s).optCacheFile(cache).build()) { // a fresh judge, as in a new JVM
                    runs.add(j.judgeAll(matchups()));
                }
                sent.add(s.requestCount() - before);
            }
            assertThat(sent).containsExactly(6, 0, 0);
            assertThat(runs.get(1)).isEqualTo(runs.get(0));
            assertThat(runs.get(2)).isEqualTo(runs.get(0));
            assertThat(Files.readAllLines(cache)).hasSize(6);
        }
    }

    @Test
    void theRequestBodyIsCanonicalJsonWhateverTheMapOrder() throws Exception {
        Map<String, Object> message1 = new LinkedHashMap<>();
        message1.put("role", "user");
        message1.put("content", "p");
        Map<String, Object> message2 = new LinkedHashMap<>();
        message2.put("content", "p");
        message2.put("role", "user");
        Map<String, Object> body1 = new LinkedHashMap<>();
        body1.put("model", "m");
        body1.put("messages", List.of(message1));
        body1.put("temperature", 0);
        body1.put("max_tokens", 256);
        Map<String, Object> body2 = new LinkedHashMap<>();
        body2.put("max_tokens", 256);
        body2.put("temperature", 0);
        body2.put("messages", List.of(message2));
        body2.put("model", "m");
        String c1 = JudgeCache.canonicalJson(body1);
        assertThat(JudgeCache.canonicalJson(body2)).isEqualTo(c1);
        assertThat(JudgeCache.canonicalJson(Json.MAPPER.readTree(Json.compact(body2)))).isEqualTo(c1);
        // fixed bytes, hence a fixed key, in every JVM (Map.of's order changes from one run to the next)
        String expected = "{\"max_tokens\":256,\"messages\":[{\"content\":\"p\",\"role\":\"user\"}],\"model\":\"m\","
                + "\"temperature\":0}";
        assertThat(c1).isEqualTo(expected);
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply("A"));
                LlmJudge j = LlmJudge.builder().optBaseUrl(s.baseUrl()).optModel("m").optEnvironment(Map.of()).build()) {
            assertThat(j.requestBody("p")).isEqualTo(expected);
        }
    }

    @Test
    void entriesOfTheOldKeyOrderAreStillHitAndMigrated(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("old.jsonl");
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply("Preferred: B"))) {
            Matchup m = matchups().get(0);
            String p1 = JudgeTemplate.DPO_CONCISE.render(m.post(), m.a(), m.b());
            String p2 = JudgeTemplate.DPO_CONCISE.render(m.post(), m.b(), m.a());
            // what earlier versions wrote: insertion order, the message's fields in either order
            List<String> lines = new ArrayList<>();
            String[][] orders = {{"role", "content"}, {"content", "role"}};
            String[] prompts = {p1, p2};
            for (int i = 0; i < 2; i++) {
                Map<String, Object> message = new LinkedHashMap<>();
                for (String f : orders[i]) {
                    message.put(f, f.equals("role") ? "user" : prompts[i]);
                }
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("model", "judge-model");
                body.put("messages", List.of(message));
                body.put("temperature", 0);
                body.put("max_tokens", 256);
                lines.add(Json.compact(Map.of("key", JudgeCache.key(Json.compact(body)), "content", "Preferred: A")));
            }
            Files.write(cache, lines);
            try (LlmJudge j = judge(s).optCacheFile(cache).build()) {
                assertThat(j.judge(m).orderAB()).isEqualTo(Verdict.A);
                assertThat(j.stats().cacheHits()).isEqualTo(2);
            }
            assertThat(s.requestCount()).isZero();
            assertThat(Files.readAllLines(cache)).hasSize(4); // copied under the canonical keys
        }
    }

    @Test
    void aServerThatSendsHeadersThenStallsFailsAtTheDeadline() throws Exception {
        List<String> warnings = new CopyOnWriteArrayList<>();
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.stalled("Preferred: A"));
                LlmJudge j = judge(s).optRequestTimeout(Duration.ofSeconds(1)).optMaxRetries(1)
                        .optWarnings(warnings::add).build()) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> j.judge(matchups().get(0)))
                    .isInstanceOf(JudgeException.class)
                    .hasMessageContaining("failed after 2 attempts")
                    .hasMessageContaining("no complete answer within the request timeout of 1000 ms");
            // generous: without the deadline this waits for the stalled body for ten minutes
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
            assertThat(s.requestCount()).isEqualTo(2);
            assertThat(warnings).hasSize(1).allSatisfy(w -> assertThat(w).contains("timeout"));
        }
    }

    @Test
    void aKeyEchoedInAnAnswerIsNeverShownThrownLoggedOrCached(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache.jsonl");
        List<String> warnings = new CopyOnWriteArrayList<>();
        try (FakeChatServer s = new FakeChatServer(r -> r.number() <= 2
                        ? FakeChatServer.Response.reply("Debug: auth was Bearer " + KEY + "\nPreferred: A")
                        : FakeChatServer.Response.raw(400, "{\"error\": \"bad request from " + KEY + "\"}"))) {
            try (LlmJudge j = judge(s).optCacheFile(cache).optWarnings(warnings::add).build()) {
                Judgement got = j.judge(matchups().get(0));
                assertThat(got.orderAB()).isEqualTo(Verdict.A); // the verdict still parses
                assertThat(got.detail()).doesNotContain(KEY).contains("Bearer ***");
                Throwable e = org.junit.jupiter.api.Assertions.assertThrows(JudgeException.class,
                        () -> j.judge(matchups().get(1)));
                for (Throwable t = e; t != null; t = t.getCause()) {
                    assertThat(String.valueOf(t.getMessage())).doesNotContain(KEY);
                    assertThat(t.toString()).doesNotContain(KEY);
                }
                assertThat(e.getMessage()).contains("HTTP 400").contains("***");
            }
            assertThat(Files.readString(cache)).doesNotContain(KEY).contains("Bearer ***");
            assertThat(warnings).isNotEmpty().noneMatch(w -> w.contains(KEY))
                    .anyMatch(w -> w.contains("contained the API key"));
            // a rerun answers from the cache, still without the key
            try (LlmJudge j = judge(s).optCacheFile(cache).build()) {
                assertThat(j.judge(matchups().get(0)).detail()).doesNotContain(KEY);
                assertThat(j.stats().httpRequests()).isZero();
            }
        }
    }

    @Test
    void aBaseUrlWithAQueryStringKeepsItAfterThePath() throws Exception {
        assertThat(LlmJudge.endpoint("https://h/openai/deployments/x?api-version=2024-02-01").toString())
                .isEqualTo("https://h/openai/deployments/x/chat/completions?api-version=2024-02-01");
        assertThat(LlmJudge.endpoint("https://h/openai/deployments/x/?api-version=2024-02-01").toString())
                .isEqualTo("https://h/openai/deployments/x/chat/completions?api-version=2024-02-01");
        assertThat(LlmJudge.endpoint("http://localhost:8000/v1/").toString())
                .isEqualTo("http://localhost:8000/v1/chat/completions");
        assertThat(LlmJudge.endpoint("http://localhost:8000/v1#frag").toString())
                .isEqualTo("http://localhost:8000/v1/chat/completions");
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply("Preferred: A"));
                LlmJudge j = judge(s).optBaseUrl(s.baseUrl() + "?api-version=2024-02-01").build()) {
            j.judge(matchups().get(0));
            assertThat(s.requests()).extracting(FakeChatServer.Request::uri)
                    .containsOnly("/v1/chat/completions?api-version=2024-02-01");
            assertThat(j.describe()).endsWith(" at " + s.baseUrl()); // the query is not shown
        }
    }

    @Test
    void settingsDefaultFromTheEnvironment() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply("Preferred: B"))) {
            Map<String, String> env = Map.of(LlmJudge.ENV_BASE_URL, s.baseUrl(), LlmJudge.ENV_MODEL, "env-model",
                    LlmJudge.ENV_OPENAI_API_KEY, "sk-openai-fallback");
            try (LlmJudge j = LlmJudge.builder().optEnvironment(env).optTemplate(JudgeTemplate.LETTER_ONLY).build()) {
                assertThat(j.judge(matchups().get(0)).verdict()).isEqualTo(Verdict.TIE);
            }
            assertThat(s.requests().get(0).model()).isEqualTo("env-model");
            assertThat(s.requests().get(0).authorization()).isEqualTo("Bearer sk-openai-fallback");
            assertThat(s.requests().get(0).prompt()).endsWith("Answer with a single letter, \"A\" or \"B\", and nothing else.");
            Map<String, String> both = Map.of(LlmJudge.ENV_BASE_URL, s.baseUrl(), LlmJudge.ENV_MODEL, "m",
                    LlmJudge.ENV_API_KEY, "sk-rlhf4j", LlmJudge.ENV_OPENAI_API_KEY, "sk-openai");
            try (LlmJudge j = LlmJudge.builder().optEnvironment(both).build()) {
                j.judge(matchups().get(0));
            }
            assertThat(s.requests().get(2).authorization()).isEqualTo("Bearer sk-rlhf4j");
            // a local server without a key sends no Authorization header
            try (LlmJudge j = LlmJudge.builder().optEnvironment(Map.of()).optBaseUrl(s.baseUrl()).optModel("m").build()) {
                j.judge(matchups().get(0));
            }
            assertThat(s.requests().get(4).authorization()).isNull();
        }
        assertThatThrownBy(() -> LlmJudge.builder().optEnvironment(Map.of()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(LlmJudge.ENV_MODEL);
        assertThatThrownBy(() -> LlmJudge.builder().optEnvironment(Map.of()).optModel("gpt-4o").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no API key");
        assertThatThrownBy(() -> LlmJudge.builder().optEnvironment(Map.of()).optModel("m").optBaseUrl("ftp://x")
                .build()).hasMessageContaining("http");
    }
}
