package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.rlhf4j.core.model.Gpt2InvariantsTest.maxAbsDiff;
import static org.rlhf4j.core.model.Gpt2InvariantsTest.std;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;

/** Left padding, initialisation, scalar-head and generation invariants of the GPT-NeoX implementation. */
class GptNeoXInvariantsTest {

    static NDManager manager;
    static GptNeoX model;
    static final GptNeoXConfig CFG = GptNeoXConfig.of(97, 64, 32, 2, 2);

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        model = GptNeoX.random(CFG, manager, 7);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    @Test
    void leftPaddingDoesNotChangeLogits() {
        try (NDManager m = manager.newSubManager()) {
            long[] plain = {12, 13, 14, 15, 16};
            NDArray a = model.forward(m.create(plain, new Shape(1, 5)), m.ones(new Shape(1, 5)));
            for (int pad : new int[] {1, 4, 9}) {
                long[] row = new long[5 + pad];
                float[] mk = new float[5 + pad];
                for (int i = 0; i < pad; i++) {
                    row[i] = 96;
                }
                for (int i = 0; i < 5; i++) {
                    row[pad + i] = plain[i];
                    mk[pad + i] = 1;
                }
                NDArray b = model.forward(m.create(row, new Shape(1, 5 + pad)), m.create(mk, new Shape(1, 5 + pad)));
                assertThat(maxAbsDiff(a, b.get(new NDIndex(":, " + pad + ":, :")))).as("pad %d", pad).isLessThan(1e-5);
                assertThat(b.isNaN().any().getBoolean()).isFalse();
            }
        }
    }

    @Test
    void randomInitIsSeededAndFollowsHfStatistics() {
        try (NDManager m = manager.newSubManager();
                GptNeoX a = GptNeoX.random(CFG, m, 3);
                GptNeoX b = GptNeoX.random(CFG, m, 3);
                GptNeoX c = GptNeoX.random(CFG, m, 4)) {
            String emb = GptNeoX.EMBED_IN;
            assertThat(a.weights().get(emb).toFloatArray()).containsExactly(b.weights().get(emb).toFloatArray());
            assertThat(a.weights().get(emb).toFloatArray()).isNotEqualTo(c.weights().get(emb).toFloatArray());
            GptNeoXConfig big = GptNeoXConfig.of(1000, 64, 64, 2, 4);
            try (GptNeoX g = GptNeoX.random(big, m, 1)) {
                assertThat(std(g.weights().get(emb).toFloatArray())).isBetween(0.019, 0.021);
                assertThat(std(g.weights().get(GptNeoX.EMBED_OUT).toFloatArray())).isBetween(0.019, 0.021);
                assertThat(std(g.weights().get("gpt_neox.layers.1.mlp.dense_4h_to_h.weight").toFloatArray()))
                        .isBetween(0.019, 0.021);
                assertThat(g.weights().get("gpt_neox.layers.0.input_layernorm.weight").toFloatArray()).containsOnly(1f);
                assertThat(g.weights().get("gpt_neox.layers.0.attention.query_key_value.bias").toFloatArray())
                        .containsOnly(0f);
            }
            assertThat(a.weights().count()).isEqualTo(CFG.parameterCount());
            GptNeoXConfig tiedNoBias = new GptNeoXConfig(97, 64, 32, 2, 4, 48, "gelu_new", 1.0, 10000, 1e-5, false,
                    true, false, 0, 0, Map.of());
            try (GptNeoX t = GptNeoX.random(tiedNoBias, m, 1)) {
                assertThat(t.weights().count()).isEqualTo(tiedNoBias.parameterCount());
                assertThat(t.weights().contains(GptNeoX.EMBED_OUT)).isFalse();
                assertThat(t.weights().contains("gpt_neox.layers.0.attention.dense.bias")).isFalse();
            }
        }
    }

    @Test
    void copyIsIndependentAndEqual() {
        try (NDManager m = manager.newSubManager();
                CausalLm copy = model.copy(m)) {
            assertThat(copy).isInstanceOf(GptNeoX.class);
            NDArray x = m.create(new long[] {1, 2, 3}, new Shape(1, 3));
            NDArray mask = m.ones(x.getShape());
            assertThat(copy.forward(x, mask).toFloatArray()).containsExactly(model.forward(x, mask).toFloatArray());
            copy.weights().get(GptNeoX.EMBED_OUT).set(new float[97 * 32]);
            assertThat(model.weights().get(GptNeoX.EMBED_OUT).abs().sum().getFloat()).isPositive();
        }
    }

    @Test
    void scalarModelOnANeoXTrunk(@TempDir Path dir) throws Exception {
        try (NDManager m = manager.newSubManager();
                ScalarModel rm = ScalarModel.fromLm(model, m, 5)) {
            assertThat(rm.config()).isInstanceOf(GptNeoXConfig.class);
            assertThat(rm.weights().names()).doesNotContain(GptNeoX.EMBED_OUT)
                    .allMatch(n -> n.startsWith(GptNeoX.PREFIX) || n.startsWith("score."));
            long[] rows = {0, 0, 5, 6, 7, 0, 0, 3, 4, 5, 6, 7, 8, 9};
            NDArray x = m.create(rows, new Shape(2, 7));
            NDArray mask = m.create(new float[] {0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}, new Shape(2, 7));
            // the trunk is the language model's: values are the head applied to its hidden states
            assertThat(maxAbsDiff(rm.values(x, mask), rm.head(model.hidden(x, mask, null)))).isLessThan(1e-6);
            float[] scores = rm.score(x, mask).toFloatArray();
            NDArray v = rm.values(x, mask);
            assertThat(scores[0]).isEqualTo(v.get(0).toFloatArray()[4]);
            assertThat(scores[1]).isEqualTo(v.get(1).toFloatArray()[6]);

            rm.setBias(-0.5f);
            rm.save(dir);
            JsonNode cfg = Json.MAPPER.readTree(Files.readString(dir.resolve("config.json")));
            assertThat(cfg.get("model_type").asText()).isEqualTo("gpt_neox");
            assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("GPTNeoXForSequenceClassification");
            try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
                assertThat(st.entries()).containsKeys(GptNeoX.EMBED_IN, ScalarModel.HEAD_WEIGHT)
                        .doesNotContainKey(GptNeoX.EMBED_OUT);
            }
            try (ScalarModel again = ScalarModel.load(dir, m, 0)) {
                assertThat(again.config()).isEqualTo(rm.config());
                assertThat(again.bias()).isEqualTo(-0.5f);
                assertThat(again.score(x, mask).toFloatArray()).containsExactly(rm.score(x, mask).toFloatArray());
            }
        }
        // a causal-LM directory loads as a scalar model with a fresh head (embed_out dropped)
        Path lmDir = Files.createDirectories(dir.resolve("lm"));
        model.save(lmDir);
        try (NDManager m = manager.newSubManager();
                ScalarModel fresh = ScalarModel.load(lmDir, m, 42);
                ScalarModel random = ScalarModel.random(CFG, m, 1)) {
            assertThat(fresh.bias()).isZero();
            assertThat(fresh.weights().names()).containsExactlyElementsOf(random.weights().names());
            assertThat(fresh.weights().get(ScalarModel.HEAD_WEIGHT).getShape()).isEqualTo(new Shape(1, 32));
        }
    }

    @Test
    void kvCacheAndRecomputationGenerateTheSameTokens() {
        List<int[]> prompts = List.of(new int[] {1, 2, 3, 4, 5}, new int[] {7, 8}, new int[] {9, 10, 11});
        GenerationConfig cfg = GenerationConfig.builder(10, CFG.eosTokenId())
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).setPadTokenId(0).build();
        Rollout cached = Generator.generate(model, prompts, null, cfg, 5);
        Rollout full = Generator.generate(model, prompts, null, cfg.withKvCache(false), 5);
        assertThat(cached.responseIds()).isDeepEqualTo(full.responseIds());
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < cached.responseLength(); t++) {
                assertThat(cached.logprobs()[b][t]).isCloseTo(full.logprobs()[b][t], within(1e-4f));
            }
        }
    }

    @Test
    void sequencesLongerThanTheContextAreRejectedNamingTheField() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.zeros(new Shape(1, 65), ai.djl.ndarray.types.DataType.INT64);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> model.forward(x, m.ones(x.getShape())))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("max_position_embeddings=64");
        }
    }
}
