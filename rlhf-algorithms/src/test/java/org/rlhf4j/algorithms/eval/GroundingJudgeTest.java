package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

/** The factual grounding template, its strict parser, the grounding judge over a loopback server, the rate. */
class GroundingJudgeTest {

    static final String GOOD = "{\"facts\": [\"The poster is 25.\", \"Her boyfriend forgot her birthday.\"],"
            + " \"claims\": [{\"claim\": \"Boyfriend forgot her birthday\", \"supported\": true, \"evidence\":"
            + " \"Her boyfriend forgot her birthday.\"}], \"verdict\": \"supported\"}";

    static String reply(boolean... supported) {
        List<Map<String, Object>> claims = new ArrayList<>();
        boolean all = true;
        for (int i = 0; i < supported.length; i++) {
            claims.add(Map.of("claim", "claim " + i, "supported", supported[i], "evidence", supported[i] ? "fact" : ""));
            all &= supported[i];
        }
        return Json.compact(Map.of("facts", List.of("fact"), "claims", claims, "verdict",
                all ? "supported" : "unsupported"));
    }

    @Test
    void theTemplateAsksForFactsThenClaimsThenAVerdictAndFillsInOnePass() {
        String p = GroundingTemplate.FACTUAL.render("POST: my cat {summary} ran away", "  the cat {post} left \n");
        assertThat(p).contains("Post:\nPOST: my cat {summary} ran away\n\nSummary:\nthe cat {post} left\n\n");
        assertThat(p.indexOf("STEP 1 (facts)")).isLessThan(p.indexOf("STEP 2 (claims)"));
        assertThat(p.indexOf("STEP 2 (claims)")).isLessThan(p.indexOf("STEP 3 (verdict)"));
        assertThat(p).endsWith("{\"facts\": [\"<fact>\", ...], \"claims\": [{\"claim\": \"<claim>\", \"supported\": true,"
                + " \"evidence\": \"<fact>\"}, ...], \"verdict\": \"supported\"}");
        assertThat(GroundingTemplate.named("factual")).isSameAs(GroundingTemplate.FACTUAL);
    }

    @Test
    void aWellFormedReplyIsParsedPlainOrFenced() {
        Grounding g = GroundingTemplate.parse("p1", GOOD);
        assertThat(g.status()).isEqualTo(Grounding.Status.SUPPORTED);
        assertThat(g.facts()).containsExactly("The poster is 25.", "Her boyfriend forgot her birthday.");
        assertThat(g.claims()).containsExactly(new Grounding.Claim("Boyfriend forgot her birthday", true,
                "Her boyfriend forgot her birthday."));
        assertThat(GroundingTemplate.parse("p1", "```json\n" + GOOD + "\n```")).isEqualTo(g);
        Grounding u = GroundingTemplate.parse("p2", reply(true, false, false));
        assertThat(u.status()).isEqualTo(Grounding.Status.UNSUPPORTED);
        assertThat(u.unsupportedClaims()).isEqualTo(2);
        // no claims at all: nothing unsupported
        assertThat(GroundingTemplate.parse("p3", "{\"facts\":[],\"claims\":[],\"verdict\":\"supported\"}").status())
                .isEqualTo(Grounding.Status.SUPPORTED);
    }

    @Test
    void malformedRepliesNameTheFieldAndAreNeverSupported() {
        Map<String, String> cases = Map.ofEntries(
                Map.entry("Verdict: supported", "reply is not one JSON object"),
                Map.entry(GOOD + " Hope this helps!", "reply is not one JSON object"),
                Map.entry("[1, 2]", "reply is not a JSON object"),
                Map.entry("{\"claims\": [], \"verdict\": \"supported\"}", "facts: missing"),
                Map.entry("{\"facts\": \"x\", \"claims\": [], \"verdict\": \"supported\"}", "facts: expected an array"),
                Map.entry("{\"facts\": [1], \"claims\": [], \"verdict\": \"supported\"}", "facts[0]: expected a string"),
                Map.entry("{\"facts\": [], \"verdict\": \"supported\"}", "claims: missing"),
                Map.entry("{\"facts\": [], \"claims\": [{\"supported\": true, \"evidence\": \"\"}], \"verdict\":"
                        + " \"supported\"}", "claims[0].claim: expected a non-blank string, got nothing (missing)"),
                Map.entry("{\"facts\": [], \"claims\": [{\"claim\": \"c\", \"supported\": \"yes\", \"evidence\": \"\"}],"
                        + " \"verdict\": \"supported\"}", "claims[0].supported: expected true or false, got \"yes\""),
                Map.entry("{\"facts\": [], \"claims\": [{\"claim\": \"c\", \"supported\": true}], \"verdict\":"
                        + " \"supported\"}", "claims[0].evidence: expected a string"),
                Map.entry("{\"facts\": [], \"claims\": []}", "verdict: missing"),
                Map.entry("{\"facts\": [], \"claims\": [], \"verdict\": \"mostly\"}",
                        "verdict: expected \"supported\" or \"unsupported\", got \"mostly\""),
                Map.entry(reply(true, false).replace("\"unsupported\"", "\"supported\""),
                        "verdict: \"supported\" contradicts claims[1].supported = false"),
                Map.entry("{\"facts\": [], \"claims\": [{\"claim\": \"c\", \"supported\": true, \"evidence\": \"f\"}],"
                        + " \"verdict\": \"unsupported\"}",
                        "verdict: \"unsupported\" but every claim is supported"));
        cases.forEach((text, problem) -> {
            Grounding g = GroundingTemplate.parse("id", text);
            assertThat(g.status()).as(text).isEqualTo(Grounding.Status.MALFORMED);
            assertThat(g.problem()).as(text).startsWith(problem);
        });
        assertThat(GroundingTemplate.parse("id", null).problem()).isEqualTo("no reply");
    }

    @Test
    void theHallucinationRateCountsSummariesWithAnUnsupportedClaimAndLeavesMalformedOnesOut() {
        List<Grounding> gs = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            gs.add(GroundingTemplate.parse("u" + i, reply(true, false)));
        }
        for (int i = 0; i < 3; i++) {
            gs.add(GroundingTemplate.parse("s" + i, reply(true, true, true)));
        }
        gs.add(Grounding.malformed("m", "verdict: missing"));
        HallucinationRate.Result r = HallucinationRate.of(gs);
        assertThat(r.summaries()).isEqualTo(11);
        assertThat(r.unsupported()).isEqualTo(7);
        assertThat(r.supported()).isEqualTo(3);
        assertThat(r.malformed()).isEqualTo(1);
        assertThat(r.claims()).isEqualTo(7 * 2 + 3 * 3);
        assertThat(r.unsupportedClaims()).isEqualTo(7);
        assertThat(r.rate()).isEqualTo(0.7);
        // Wilson 95 % of 7 of 10 (Interval's documented example)
        assertThat(r.ci95().lo()).isCloseTo(0.3968, within(1e-4));
        assertThat(r.ci95().hi()).isCloseTo(0.8922, within(1e-4));
        HallucinationRate.Result none = HallucinationRate.of(List.of(Grounding.malformed("m", "no reply")));
        assertThat(none.rate()).isNaN();
        assertThat(none.ci95().defined()).isFalse();
        // 0 of 4: [0, 0.4899]
        HallucinationRate.Result clean = HallucinationRate.of(List.of(GroundingTemplate.parse("a", GOOD),
                GroundingTemplate.parse("b", GOOD), GroundingTemplate.parse("c", GOOD), GroundingTemplate.parse("d", GOOD)));
        assertThat(clean.rate()).isZero();
        assertThat(clean.ci95().lo()).isZero();
        assertThat(clean.ci95().hi()).isCloseTo(0.4899, within(1e-4));
    }

    @Test
    void theJudgeAsksOnceASummaryCountsMalformedRepliesAndARerunSendsNothing(@TempDir Path dir) throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> {
            String summary = r.prompt().substring(r.prompt().indexOf("Summary:\n") + 9, r.prompt().indexOf("\n\nSTEP 1"));
            if (summary.contains("garbled")) {
                return FakeChatServer.Response.reply("The summary looks fine to me.");
            }
            return FakeChatServer.Response.reply(summary.contains("invented") ? reply(true, false) : reply(true));
        })) {
            List<GroundingJudge.Item> items = List.of(new GroundingJudge.Item("1", "post one", "a true summary"),
                    new GroundingJudge.Item("2", "post two", "an invented summary"),
                    new GroundingJudge.Item("3", "post three", "a garbled summary"));
            Path cache = dir.resolve("cache.jsonl");
            for (int run = 0; run < 2; run++) {
                try (LlmJudge client = LlmJudgeTest.judge(s).optCacheFile(cache)
                        .optMaxTokens(GroundingJudge.DEFAULT_MAX_TOKENS).build()) {
                    GroundingJudge g = GroundingJudge.builder().setClient(client).build();
                    List<Grounding> out = g.judgeAll(items);
                    assertThat(out).extracting(Grounding::status).containsExactly(Grounding.Status.SUPPORTED,
                            Grounding.Status.UNSUPPORTED, Grounding.Status.MALFORMED);
                    assertThat(out.get(2).problem()).startsWith("reply is not one JSON object");
                    assertThat(g.stats()).isEqualTo(new GroundingJudge.Stats(3, 1));
                    assertThat(g.describe()).isEqualTo("llm:judge-model/factual at " + s.baseUrl());
                    assertThat(client.stats().httpRequests()).isEqualTo(run == 0 ? 3 : 0);
                    assertThat(client.stats().cacheHits()).isEqualTo(run == 0 ? 0 : 3);
                }
            }
            assertThat(s.requestCount()).isEqualTo(3);
            assertThat(s.requests().get(0).body()).contains("\"max_tokens\":1024").doesNotContain(LlmJudgeTest.KEY);
            assertThat(s.requests().get(1).prompt()).contains("Post:\npost two\n\nSummary:\nan invented summary");
        }
    }

    @Test
    void aReplyWithoutABodyIsMalformed() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.raw(200, "{\"choices\": []}"));
                LlmJudge client = LlmJudgeTest.judge(s).build()) {
            Grounding g = GroundingJudge.builder().setClient(client).build()
                    .judge(new GroundingJudge.Item("1", "p", "s"));
            assertThat(g.status()).isEqualTo(Grounding.Status.MALFORMED);
            assertThat(g.problem()).isEqualTo("response has no choices");
        }
    }
}
