package org.rlhf4j.core.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;

/**
 * Imports the fixture GGUF files and compares with what transformers makes of the same files
 * ({@code scripts/gguf_fixture.py}): every tensor bit for bit (SHA-256 of the fp32 bytes), config fields, token ids.
 */
class GgufImporterTest {

    @TempDir Path tmp;

    static final List<String> CONFIG_KEYS = List.of("model_type", "vocab_size", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
            "rms_norm_eps", "tie_word_embeddings", "bos_token_id", "eos_token_id", "rope_theta");

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2tok-f32", "tiny-gpt2tok-f16", "tiny-gpt2tok-bf16", "tiny-gpt2tok-q8_0",
        "tiny-gpt2tok-q4_0", "tiny-gpt2tok-q4_1", "tiny-spm-f32", "tiny-qwen2-q8_0", "tiny-qwen3-q8_0"})
    void tensorsAndConfigEqualTransformersGgufLoad(String name) throws Exception {
        Path dir = TestSupport.resource("gguf-fixtures");
        JsonNode expected = Json.MAPPER.readTree(dir.resolve(name + ".expected.json").toFile());
        Path out = tmp.resolve(name);
        GgufImporter.Summary s;
        try (NDManager m = NDManager.newBaseManager()) {
            s = GgufImporter.importTo(dir.resolve(name + ".gguf"), out, m);
        }
        assertEquals(expected.get("config").get("model_type").asText(), s.architecture());
        assertTrue(s.skipped().isEmpty(), s.skipped().toString());
        JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
        for (String k : CONFIG_KEYS) {
            JsonNode want = expected.get("config").get(k);
            JsonNode got = config.get(k);
            if (want.isNull()) {
                continue; // Qwen2Config has no head_dim
            }
            if (want.isNumber()) {
                assertEquals(want.asDouble(), got.asDouble(), 0.0, k);
            } else {
                assertEquals(want.asText(), got.asText(), k);
            }
        }
        // transformers' state dict holds lm_head.weight even when tied; the file does not
        Set<String> want = new TreeSet<>();
        expected.get("tensors").fieldNames().forEachRemaining(want::add);
        if (s.tiedEmbeddings()) {
            want.remove("lm_head.weight");
        }
        try (SafeTensors st = SafeTensors.open(out.resolve("model.safetensors"))) {
            assertEquals(want, new TreeSet<>(st.entries().keySet()));
            for (String k : want) {
                JsonNode e = expected.get("tensors").get(k);
                SafeTensors.Entry entry = st.entries().get(k);
                assertEquals(e.get("shape").toString(), Json.compact(entry.shape().getShape()), k);
                ByteBuffer raw = st.map(k);
                byte[] bytes = new byte[raw.remaining()];
                raw.get(bytes);
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
                if (!sha.equals(e.get("sha256").asText())) {
                    ByteBuffer f = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                    throw new AssertionError(name + " " + k + ": bytes differ from transformers; first values "
                            + f.getFloat(0) + ", " + f.getFloat(4) + " expected " + e.get("first"));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2tok-f32", "tiny-spm-f32", "tiny-qwen2-q8_0", "tiny-qwen3-q8_0"})
    void tokenizerEncodesLikeTransformers(String name) throws Exception {
        Path dir = TestSupport.resource("gguf-fixtures");
        JsonNode expected = Json.MAPPER.readTree(dir.resolve(name + ".expected.json").toFile());
        GgufTokenizer.Files files;
        try (GgufFile f = GgufFile.open(dir.resolve(name + ".gguf"))) {
            files = GgufTokenizer.build(f);
        }
        String json = Json.compact(files.tokenizerJson());
        int bos = files.bosId();
        boolean addBos = files.tokenizerConfig().get("add_bos_token").asBoolean();
        assertTrue(addBos, "both fixtures ask for BOS");
        try (HuggingFaceTokenizer plain = tokenizer(json, false); HuggingFaceTokenizer special = tokenizer(json, true)) {
            for (JsonNode t : expected.get("texts")) {
                String text = t.get("text").asText();
                assertArrayEquals(ids(t.get("ids")), plain.encode(text).getIds(), name + ": " + text);
                // transformers' GGUF loader drops add_bos_token; llama.cpp (and this importer) prepend BOS
                long[] withBos = ids(t.get("ids_with_special"));
                long[] wantSpecial = new long[withBos.length + 1];
                wantSpecial[0] = bos;
                System.arraycopy(withBos, 0, wantSpecial, 1, withBos.length);
                assertArrayEquals(wantSpecial, special.encode(text).getIds(), name + " (special): " + text);
            }
        }
        JsonNode sp = expected.get("special_tokens");
        for (String k : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            JsonNode got = files.specialTokensMap().get(k);
            if (sp.get(k).isNull()) {
                assertEquals(null, got, k);
            } else {
                assertEquals(sp.get(k).asText(), got.asText(), k);
            }
        }
        assertEquals(expected.get("chat_template").asText(), files.tokenizerConfig().get("chat_template").asText());
    }

    private static HuggingFaceTokenizer tokenizer(String json, boolean special) throws Exception {
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                Map.of("addSpecialTokens", Boolean.toString(special), "truncation", "false", "padding", "false",
                        "modelMaxLength", "1000000000"));
    }

    private static long[] ids(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asLong();
        }
        return out;
    }

    @Test
    void byteLevelAddedTokensAndDefaultPreTokenizer() throws Exception {
        GgufFileTest.W w = new GgufFileTest.W().header(3, 0, 6);
        w.str("tokenizer.ggml.model").b.putInt(8);
        w.str("gpt2");
        w.str("tokenizer.ggml.tokens").b.putInt(9).putInt(8).putLong(6);
        for (String t : List.of("a", "b", "ab", "<|eot|>", "<think>", "\u00e9 x")) {
            w.str(t);
        }
        w.str("tokenizer.ggml.token_type").b.putInt(9).putInt(5).putLong(6);
        for (int t : new int[] {1, 1, 1, 3, 4, 4}) {
            w.b.putInt(t);
        }
        w.str("tokenizer.ggml.merges").b.putInt(9).putInt(8).putLong(1);
        w.str("a b");
        w.str("tokenizer.ggml.eos_token_id").b.putInt(4).putInt(3);
        w.str("tokenizer.ggml.add_bos_token").b.putInt(7).put((byte) 0);
        GgufTokenizer.Files files;
        try (GgufFile f = GgufFile.open(w.write(tmp.resolve("tok.gguf")))) {
            files = GgufTokenizer.build(f);
        }
        JsonNode json = files.tokenizerJson();
        // <|eot|>: control, special; <think>: user-defined, not special; "\u00e9 x" is re-spelled in the vocabulary
        // (the space is not in the byte alphabet) so it is not an added token, as in transformers
        assertEquals("[{\"id\":3,\"content\":\"<|eot|>\",\"special\":true},"
                        + "{\"id\":4,\"content\":\"<think>\",\"special\":false}]",
                Json.compact(Json.MAPPER.valueToTree(summary(json.get("added_tokens")))));
        assertEquals(5, json.get("model").get("vocab").get("\u00c3\u00a9\u0120x").asInt());
        assertEquals("ByteLevel", json.get("pre_tokenizer").get("type").asText());
        assertTrue(json.get("pre_tokenizer").get("use_regex").asBoolean());
        assertEquals(0, json.get("post_processor").get("special_tokens").size());
        assertEquals("<|eot|>", files.specialTokensMap().get("eos_token").asText());
    }

    private static List<Map<String, Object>> summary(JsonNode added) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode a : added) {
            var m = new java.util.LinkedHashMap<String, Object>();
            m.put("id", a.get("id").asInt());
            m.put("content", a.get("content").asText());
            m.put("special", a.get("special").asBoolean());
            out.add(m);
        }
        return out;
    }

    @Test
    void generateMergesMatchesTransformersOrdering() {
        // generate_merges(vocab, scores): "ab" (score -1) before "abc" splits (score -2); within "abc" by part ids
        List<String> tokens = List.of("a", "b", "c", "ab", "bc", "abc");
        float[] scores = {0, 0, 0, -1, -1, -2};
        List<String> got = new ArrayList<>();
        for (String[] m : GgufTokenizer.generateMerges(tokens, scores)) {
            got.add(m[0] + " " + m[1]);
        }
        // ties on score -1: equal lengths keep vocabulary order; "abc": ("ab","c") longer left first
        assertEquals(List.of("a b", "b c", "ab c", "a bc"), got);
    }

    @Test
    void reversePermuteUndoesLlamaCppPermutation() {
        // 1 head, head_dim 4, 1 column: llama.cpp rows [x0, x2, x1, x3] -> HF [x0, x1, x2, x3]
        var in = java.nio.FloatBuffer.wrap(new float[] {0, 2, 1, 3});
        var out = GgufImporter.reversePermute(in, 4, 1, 1);
        float[] got = new float[4];
        out.get(0, got);
        assertArrayEquals(new float[] {0, 1, 2, 3}, got);
    }

    @Test
    void nameMapping() {
        assertEquals("model.layers.12.self_attn.q_proj.bias", GgufImporter.hfName("blk.12.attn_q.bias"));
        assertEquals("model.layers.0.self_attn.k_norm.weight", GgufImporter.hfName("blk.0.attn_k_norm.weight"));
        assertEquals("model.layers.1.post_attention_layernorm.weight", GgufImporter.hfName("blk.1.ffn_norm.weight"));
        assertEquals("lm_head.weight", GgufImporter.hfName("output.weight"));
        assertEquals(null, GgufImporter.hfName("rope_freqs.weight"));
        assertFalse(Files.exists(Path.of("never")));
    }
}
