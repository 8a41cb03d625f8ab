package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;

class CompactVocabularyTest {

    private static final List<String> TEXTS = List.of("Hello world", " the cat sat on the mat.",
            "SUBREDDIT: r/relationships\n\nTITLE: My boyfriend (25M) forgot my birthday!!\n\nTL;DR:",
            " I'm unbelievably frustrated — naïve café<|endoftext|>");

    @Test
    void seenTokensKeepGpt2TokenizationInBaseIdOrder() {
        try (HfTokenizer gpt2 = Gpt2Tokenizers.bundled();
                HfTokenizer t = CompactVocabulary.fromTexts(Gpt2Tokenizers.bundled(), List.of("Hello world"))) {
            // seen: 995 ( world), 15496 (Hello), 50256 (EOS) -> 0, 1, 2; then what spells them and the 256 bytes
            assertThat(t.encode("Hello world")).containsExactly(1, 0);
            assertThat(t.eosTokenId()).isEqualTo(2);
            assertThat(t.eosToken()).isEqualTo("<|endoftext|>");
            assertThat(t.encode("<|endoftext|>")).containsExactly(2);
            assertThat(t.vocabSize()).isGreaterThan(256 + 3).isLessThan(300);
            assertThat(gpt2.encode("Hello world")).containsExactly(15496, 995);
        }
    }

    @Test
    void inDomainTextTokenizesExactlyAsGpt2Renumbered() {
        try (HfTokenizer gpt2 = Gpt2Tokenizers.bundled();
                HfTokenizer t = CompactVocabulary.fromTexts(Gpt2Tokenizers.bundled(), TEXTS)) {
            Map<Integer, Integer> toCompact = new HashMap<>();
            List<Integer> seen = new ArrayList<>(new java.util.TreeSet<>(
                    TEXTS.stream().flatMap(s -> java.util.Arrays.stream(gpt2.encode(s)).boxed()).toList()));
            for (int i = 0; i < seen.size(); i++) {
                toCompact.put(seen.get(i), i);
            }
            for (String text : TEXTS) {
                int[] expected = java.util.Arrays.stream(gpt2.encode(text)).map(toCompact::get).toArray();
                assertThat(t.encode(text)).as(text).containsExactly(expected);
                assertThat(t.decode(t.encode(text))).isEqualTo(text);
            }
        }
    }

    @Test
    void unseenTextIsSpelledWithShorterTokensAndRoundTrips() {
        try (HfTokenizer t = CompactVocabulary.fromTexts(Gpt2Tokenizers.bundled(), TEXTS)) {
            for (String text : List.of(" zebra", "Quantum chromodynamics!", "日本語 🙂 \u0000\t\r\n", "ŁÓDŹ")) {
                int[] ids = t.encode(text);
                assertThat(ids).as(text).isNotEmpty();
                assertThat(java.util.Arrays.stream(ids).boxed().toList()).allMatch(id -> id >= 0 && id < t.vocabSize());
                assertThat(t.decode(ids)).isEqualTo(text);
            }
        }
    }

    @Test
    void savesATokenizerJsonThatLoadsBackWithTransformersSettings(@TempDir Path dir) throws Exception {
        int[] ids;
        try (HfTokenizer t = CompactVocabulary.fromTexts(Gpt2Tokenizers.bundled(), TEXTS)) {
            ids = t.encode(TEXTS.get(2));
            t.save(dir);
            JsonNode json = Json.MAPPER.readTree(dir.resolve("tokenizer.json").toFile());
            assertThat(json.path("model").path("vocab").size()).isEqualTo(t.vocabSize());
            assertThat(json.path("added_tokens").get(0).path("id").asInt()).isEqualTo(t.eosTokenId());
            JsonNode config = Json.MAPPER.readTree(dir.resolve(HfTokenizer.CONFIG_FILE).toFile());
            assertThat(config.path("tokenizer_class").asText()).isEqualTo("PreTrainedTokenizerFast");
            assertThat(config.path("eos_token").asText()).isEqualTo("<|endoftext|>");
            assertThat(config.path("added_tokens_decoder").path(String.valueOf(t.eosTokenId())).path("content")
                    .asText()).isEqualTo("<|endoftext|>");
            assertThat(dir.resolve(HfTokenizer.SPECIAL_TOKENS_FILE)).exists();
        }
        assertThat(dir.resolve(CompactVocabTokenizer.FILE)).doesNotExist();
        try (Tokenizer back = Checkpoint.tokenizerFor(dir)) {
            assertThat(back).isInstanceOf(HfTokenizer.class);
            assertThat(back.encode(TEXTS.get(2))).containsExactly(ids);
        }
    }

    @Test
    void keepsTheSidecarsOfALoadedDirectory(@TempDir Path dir) throws Exception {
        try (HfTokenizer gpt2 = Gpt2Tokenizers.bundled()) {
            gpt2.save(dir);
        }
        Files.writeString(dir.resolve(HfTokenizer.CONFIG_FILE), "{\"tokenizer_class\":\"GPT2Tokenizer\"}");
        Path out = Files.createDirectories(dir.resolve("out"));
        try (Tokenizer t = Checkpoint.tokenizerFor(dir)) {
            t.save(out);
        }
        assertThat(out.resolve(HfTokenizer.CONFIG_FILE)).hasContent("{\"tokenizer_class\":\"GPT2Tokenizer\"}");
    }

    @Test
    void rejectsNonBpeBases() {
        String wordLevel = "{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":null}";
        assertThatThrownBy(() -> CompactVocabulary.tokenizerJson(wordLevel, new int[] {0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("WordLevel");
        assertThatThrownBy(() -> CompactVocabulary.tokenizerJson(Gpt2Tokenizers.bundledJson(), new int[] {50257}))
                .hasMessageContaining("50257");
    }
}
