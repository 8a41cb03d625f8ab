package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LLM-extracted facts: prompt, strict parsing, caching through the judge client. */
class FactExtractorTest {

    @Test
    void repliesAreParsedStrictlyAndCut() {
        assertThat(FactExtractor.parse("{\"facts\": [\"a\", \" b \", \"c\"]}", 2).facts()).containsExactly("a", "b");
        assertThat(FactExtractor.parse("```json\n{\"facts\": []}\n```", 3)).isEqualTo(
                new FactExtractor.Result(java.util.List.of(), null));
        assertThat(FactExtractor.parse("Facts: a, b", 3).problem()).startsWith("reply is not one JSON object");
        assertThat(FactExtractor.parse("{\"fact\": []}", 3).problem()).isEqualTo("facts: missing");
        assertThat(FactExtractor.parse("{\"facts\": \"a\"}", 3).problem()).isEqualTo("facts: expected an array of strings");
        assertThat(FactExtractor.parse("{\"facts\": [\"a\", \" \"]}", 3).problem())
                .isEqualTo("facts[1]: expected a non-blank string, got \" \"");
    }

    @Test
    void theExtractorAsksOncePerPostAndARerunSendsNothing(@TempDir Path dir) throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply("{\"facts\": [\"He is 25.\"]}"))) {
            for (int run = 0; run < 2; run++) {
                try (LlmJudge client = LlmJudgeTest.judge(s).optCacheFile(dir.resolve("c.jsonl")).build()) {
                    FactExtractor x = new FactExtractor(client, 3);
                    assertThat(x.facts("POST: I am 25.").facts()).containsExactly("He is 25.");
                }
            }
            assertThat(s.requestCount()).isEqualTo(1);
            assertThat(s.requests().get(0).prompt()).contains("Post:\nPOST: I am 25.\n\n").contains("at most 3.")
                    .endsWith("{\"facts\": [\"<fact>\", ...]}");
        }
        assertThatThrownBy(() -> new FactExtractor(null, 0)).isInstanceOf(NullPointerException.class);
    }
}
