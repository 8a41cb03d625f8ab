package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * Both tokenizer kinds through DJL's native tokenizers give transformers' ids exactly
 * ({@code tokenizer-fixtures/tokenization.json}, written by {@code scripts/tokenizer_fixture.py}): byte-level BPE in the
 * Llama 3 layout (BOS from the post-processor) and the Qwen2.5 layout (no BOS, a pad token), and SentencePiece-style
 * BPE in the Llama 2 layout (Prepend/Replace normalizer, byte fallback, {@code <s>}); with and without special tokens;
 * special tokens written inside the text; decoding with and without skipping special tokens; and the special-token
 * ids transformers reports.
 */
class HfTokenizerSpecialTokensTest {

    private static final Path FIXTURES = TestSupport.resource("tokenizer-fixtures");

    @TestFactory
    Stream<DynamicTest> idsAndDecodingMatchTransformers() throws Exception {
        JsonNode root = Json.MAPPER.readTree(Files.readString(FIXTURES.resolve("tokenization.json")));
        List<DynamicTest> tests = new ArrayList<>();
        root.get("tokenizers").fields().forEachRemaining(e -> tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
            JsonNode want = e.getValue();
            try (HfTokenizer tok = HfTokenizer.load(FIXTURES.resolve(e.getKey()).resolve("tokenizer.json"))) {
                assertThat(tok.eosTokenId()).isEqualTo(want.get("eos_token_id").asInt());
                assertThat(tok.bosTokenId()).isEqualTo(optional(want.get("bos_token_id")));
                assertThat(tok.padTokenId()).isEqualTo(optional(want.get("pad_token_id")));
                assertThat(tok.unkTokenId()).isEqualTo(optional(want.get("unk_token_id")));
                assertThat(tok.vocabSize()).isEqualTo(want.get("vocab_size").asInt());
                assertThat((JsonNode) Json.MAPPER.valueToTree(tok.config().specialTokens()))
                        .isEqualTo(want.get("special_tokens_map"));
                for (JsonNode c : want.get("cases")) {
                    String text = c.get("text").asText();
                    assertThat(tok.encode(text)).as("%s ids of %s", e.getKey(), text).isEqualTo(ints(c.get("ids")));
                    int[] special = ints(c.get("ids_with_special_tokens"));
                    assertThat(tok.encodeWithSpecialTokens(text)).as("%s special ids of %s", e.getKey(), text)
                            .isEqualTo(special);
                    assertThat(tok.decode(special)).isEqualTo(c.get("decoded").asText());
                    assertThat(tok.decode(special, true)).isEqualTo(c.get("decoded_skip_special").asText());
                }
                List<String> texts = new ArrayList<>();
                want.get("cases").forEach(c -> texts.add(c.get("text").asText()));
                List<int[]> batch = tok.encodeAll(texts);
                for (int i = 0; i < texts.size(); i++) {
                    assertThat(batch.get(i)).isEqualTo(ints(want.get("cases").get(i).get("ids")));
                }
            }
        })));
        assertThat(tests).hasSize(3);
        return tests.stream();
    }

    @Test
    void padFallsBackToEosAsTrlDoes() throws Exception {
        try (HfTokenizer llama = HfTokenizer.load(FIXTURES.resolve("llama3-bpe/tokenizer.json"));
                HfTokenizer qwen = HfTokenizer.load(FIXTURES.resolve("qwen-bpe/tokenizer.json"));
                HfTokenizer gpt2 = Gpt2Tokenizers.bundled()) {
            assertThat(llama.padTokenId()).isEmpty();
            assertThat(llama.padOrEosTokenId()).isEqualTo(4); // <|eot_id|>
            assertThat(qwen.padOrEosTokenId()).isEqualTo(0); // <|endoftext|>, its own pad token
            assertThat(gpt2.padOrEosTokenId()).isEqualTo(50256);
            assertThat(gpt2.bosTokenId()).isEmpty();
            assertThat(gpt2.encodeWithSpecialTokens("Hello world")).containsExactly(15496, 995);
        }
    }

    @Test
    void addedTokenObjectsAndTemplateListsAreRead() throws Exception {
        TokenizerConfig cfg = TokenizerConfig.read(FIXTURES.resolve("llama2-sp"));
        assertThat(cfg.token("bos_token")).hasValue("<s>");
        assertThat(cfg.token("pad_token")).isEmpty();
        assertThat(cfg.addBosToken()).hasValue(true);
        assertThat(cfg.chatTemplates().keySet()).containsExactlyInAnyOrder("default", "mistral");
        assertThat(cfg.chatTemplate()).hasValueSatisfying(t -> assertThat(t).contains("<|user|>"));
    }

    @Test
    void badSpecialTokenNamesTheFileAndField(@TempDir Path dir) throws Exception {
        Files.copy(FIXTURES.resolve("llama3-bpe/tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": 5}");
        assertThatThrownBy(() -> HfTokenizer.load(dir.resolve("tokenizer.json")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer_config.json")
                .hasMessageContaining("'eos_token'");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"pad_token\": \"<nope>\"}");
        assertThatThrownBy(() -> HfTokenizer.load(dir.resolve("tokenizer.json")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("'pad_token' is '<nope>'");
    }

    @Test
    void specialTokensMapOverridesOnlyConfigsWithoutAddedTokensDecoder(@TempDir Path dir) throws Exception {
        // transformers 5 tokenization_utils_base._from_pretrained reads special_tokens_map.json in its legacy branch
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"eos_token\": {\"content\": \"</s>\"}, \"pad_token\": \"<pad>\"}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<eos>\", \"bos_token\": \"<s>\"}");
        assertThat(TokenizerConfig.read(dir).specialTokens())
                .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("bos_token", "<s>", "eos_token", "</s>",
                        "pad_token", "<pad>"));
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"<eos>\", \"added_tokens_decoder\": {}}");
        assertThat(TokenizerConfig.read(dir).specialTokens())
                .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("eos_token", "<eos>"));
    }

    @Test
    void savingKeepsTheChatTemplateFile(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src");
        Files.createDirectories(src);
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(FIXTURES.resolve("qwen-bpe").resolve(f), src.resolve(f));
        }
        Files.writeString(src.resolve("chat_template.jinja"), "{{ eos_token }}");
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        try (HfTokenizer tok = HfTokenizer.load(src.resolve("tokenizer.json"))) {
            tok.save(out);
        }
        assertThat(out.resolve("chat_template.jinja")).hasContent("{{ eos_token }}");
        assertThat(ChatTemplate.load(out).render(List.of(), false)).isEqualTo("<|im_end|>");
    }

    private static OptionalInt optional(JsonNode n) {
        return n == null || n.isNull() ? OptionalInt.empty() : OptionalInt.of(n.asInt());
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
