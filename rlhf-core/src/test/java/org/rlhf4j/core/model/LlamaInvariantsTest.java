package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.rlhf4j.core.model.Gpt2InvariantsTest.maxAbsDiff;
import static org.rlhf4j.core.model.Gpt2InvariantsTest.std;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.LrSchedule;
import org.rlhf4j.core.train.Updater;

/** Left padding, initialisation, scalar-head, generation and training invariants of the Llama-family model. */
class LlamaInvariantsTest {

    static NDManager manager;
    static Llama model;
    /** GQA (4 query heads, 2 KV heads), untied. */
    static final LlamaConfig CFG = LlamaConfig.of(LlamaFamily.LLAMA, 97, 64, 32, 2, 4, 2, 48, 1, 2);

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        model = Llama.random(CFG, manager, 7);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama-rope-llama3", "mistral-window", "qwen2", "qwen3"})
    void leftPaddingDoesNotChangeRealTokensLogprobs(String fixture) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.load(TestSupport.resource("llama-parity/" + fixture), m)) {
            // 9 tokens: windows of 4 (mistral) and 5 (qwen2, layer 1) bind; HF's window compares cache indices, and left
            // padding shifts queries and keys alike
            long[] plain = {12, 13, 14, 15, 16, 40, 41, 42, 43};
            int n = plain.length;
            NDArray a = lm.nextTokenLogprobs(m.create(plain, new Shape(1, n)), m.ones(new Shape(1, n)));
            for (int pad : new int[] {1, 4, 9}) {
                long[] row = new long[n + pad];
                float[] mk = new float[n + pad];
                for (int i = 0; i < n; i++) {
                    row[pad + i] = plain[i];
                    mk[pad + i] = 1;
                }
                NDArray b = lm.nextTokenLogprobs(m.create(row, new Shape(1, n + pad)),
                        m.create(mk, new Shape(1, n + pad)));
                assertThat(maxAbsDiff(a, b.get(new NDIndex(":, " + pad + ":")))).as("pad %d", pad).isLessThan(1e-5);
                assertThat(b.isNaN().any().getBoolean()).isFalse();
            }
        }
    }

    @Test
    void randomInitIsSeededAndFollowsHfStatistics() {
        try (NDManager m = manager.newSubManager();
                Llama a = Llama.random(CFG, m, 3);
                Llama b = Llama.random(CFG, m, 3);
                Llama c = Llama.random(CFG, m, 4)) {
            String emb = Llama.EMBED_TOKENS;
            assertThat(a.weights().get(emb).toFloatArray()).containsExactly(b.weights().get(emb).toFloatArray());
            assertThat(a.weights().get(emb).toFloatArray()).isNotEqualTo(c.weights().get(emb).toFloatArray());
            assertThat(a.weights().count()).isEqualTo(CFG.parameterCount());
            LlamaConfig big = new LlamaConfig(LlamaFamily.LLAMA, 1000, 64, 96, 2, 4, 2, 16, "silu", 64, 1e-6, 10000,
                    new RopeScaling.Default(), true, true, OptionalInt.empty(), false, 28, List.of(), false,
                    OptionalInt.of(1), List.of(2), OptionalInt.of(5), 0.05, Map.of());
            try (Llama g = Llama.random(big, m, 1)) {
                assertThat(std(g.weights().get(emb).toFloatArray())).isBetween(0.049, 0.051);
                assertThat(std(g.weights().get(Llama.LM_HEAD).toFloatArray())).isBetween(0.049, 0.051);
                assertThat(std(g.weights().get("model.layers.1.mlp.down_proj.weight").toFloatArray()))
                        .isBetween(0.047, 0.053);
                assertThat(g.weights().get("model.layers.0.input_layernorm.weight").toFloatArray()).containsOnly(1f);
                assertThat(g.weights().get("model.layers.0.self_attn.o_proj.bias").toFloatArray()).containsOnly(0f);
                assertThat(g.weights().get("model.layers.0.mlp.up_proj.bias").toFloatArray()).containsOnly(0f);
                // nn.Embedding(padding_idx=pad_token_id): that row starts at 0
                assertThat(g.weights().get(emb).get(5).toFloatArray()).containsOnly(0f);
                assertThat(g.weights().get(emb).get(4).abs().sum().getFloat()).isPositive();
                assertThat(g.weights().count()).isEqualTo(big.parameterCount());
            }
            LlamaConfig qwen3 = LlamaConfig.of(LlamaFamily.QWEN3, 97, 64, 32, 2, 4, 2, 48, 1, 2);
            LlamaConfig qwen2 = LlamaConfig.of(LlamaFamily.QWEN2, 97, 64, 32, 2, 4, 1, 48, 1, 2);
            try (Llama q3 = Llama.random(qwen3, m, 1);
                    Llama q2 = Llama.random(qwen2, m, 1)) {
                assertThat(q3.weights().count()).isEqualTo(qwen3.parameterCount());
                assertThat(q3.weights().get("model.layers.0.self_attn.k_norm.weight").toFloatArray())
                        .containsOnly(1f);
                assertThat(q2.weights().count()).isEqualTo(qwen2.parameterCount());
                assertThat(q2.weights().names()).contains("model.layers.1.self_attn.v_proj.bias")
                        .doesNotContain("model.layers.1.self_attn.o_proj.bias");
            }
        }
    }

    @Test
    void copyIsIndependentAndEqual() {
        try (NDManager m = manager.newSubManager();
                CausalLm copy = model.copy(m)) {
            assertThat(copy).isInstanceOf(Llama.class);
            NDArray x = m.create(new long[] {1, 2, 3}, new Shape(1, 3));
            NDArray mask = m.ones(x.getShape());
            assertThat(copy.forward(x, mask).toFloatArray()).containsExactly(model.forward(x, mask).toFloatArray());
            copy.weights().get(Llama.LM_HEAD).set(new float[97 * 32]);
            assertThat(model.weights().get(Llama.LM_HEAD).abs().sum().getFloat()).isPositive();
        }
    }

    @Test
    void scalarModelOnALlamaTrunk(@TempDir Path dir) throws Exception {
        try (NDManager m = manager.newSubManager();
                ScalarModel rm = ScalarModel.fromLm(model, m, 5)) {
            assertThat(rm.config()).isInstanceOf(LlamaConfig.class);
            assertThat(rm.weights().names()).doesNotContain(Llama.LM_HEAD)
                    .allMatch(n -> n.startsWith(Llama.PREFIX) || n.startsWith("score."));
            long[] rows = {0, 0, 5, 6, 7, 0, 0, 3, 4, 5, 6, 7, 8, 9};
            NDArray x = m.create(rows, new Shape(2, 7));
            NDArray mask = m.create(new float[] {0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}, new Shape(2, 7));
            assertThat(maxAbsDiff(rm.values(x, mask), rm.head(model.hidden(x, mask, null)))).isLessThan(1e-6);
            float[] scores = rm.score(x, mask).toFloatArray();
            NDArray v = rm.values(x, mask);
            assertThat(scores[0]).isEqualTo(v.get(0).toFloatArray()[4]);
            assertThat(scores[1]).isEqualTo(v.get(1).toFloatArray()[6]);

            rm.setBias(-0.5f);
            rm.save(dir);
            JsonNode cfg = Json.MAPPER.readTree(Files.readString(dir.resolve("config.json")));
            assertThat(cfg.get("model_type").asText()).isEqualTo("llama");
            assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("LlamaForSequenceClassification");
            assertThat(cfg.get("pad_token_id").asInt()).isEqualTo(2); // the EOS id, as for GPT-2 and GPT-NeoX
            assertThat(cfg.get("id2label").get("0").asText()).isEqualTo("LABEL_0");
            try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
                assertThat(st.entries()).containsKeys(Llama.EMBED_TOKENS, ScalarModel.HEAD_WEIGHT)
                        .doesNotContainKey(Llama.LM_HEAD);
            }
            try (ScalarModel again = ScalarModel.load(dir, m, 0)) {
                assertThat(again.config()).isEqualTo(rm.config());
                assertThat(again.bias()).isEqualTo(-0.5f);
                assertThat(again.score(x, mask).toFloatArray()).containsExactly(rm.score(x, mask).toFloatArray());
            }
        }
        // a causal-LM directory loads as a scalar model with a fresh head (lm_head dropped)
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
    void kvCacheAndRecomputationGenerateTheSameTokensThroughAWindow() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.load(TestSupport.resource("llama-parity/mistral-window"), m)) {
            List<int[]> prompts = List.of(new int[] {5, 6, 7, 8, 9}, new int[] {7, 8}, new int[] {9, 10, 11});
            GenerationConfig cfg = GenerationConfig.builder(10, lm.config().eosTokenId())
                    .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).setPadTokenId(0).build();
            Rollout cached = Generator.generate(lm, prompts, null, cfg, 5);
            Rollout full = Generator.generate(lm, prompts, null, cfg.withKvCache(false), 5);
            assertThat(cached.responseIds()).isDeepEqualTo(full.responseIds());
            for (int b = 0; b < 3; b++) {
                for (int t = 0; t < cached.responseLength(); t++) {
                    assertThat(cached.logprobs()[b][t]).isCloseTo(full.logprobs()[b][t], within(1e-4f));
                }
            }
        }
    }

    @Test
    void sequenceLimitFollowsTheRopeType() throws Exception {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.zeros(new Shape(1, 65), DataType.INT64);
            assertThatThrownBy(() -> model.forward(x, m.ones(x.getShape())))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("max_position_embeddings=64");
            // dynamic NTK runs past max_position_embeddings (its purpose)
            try (Llama dyn = Llama.random(CFG.withRopeScaling(new RopeScaling.Dynamic(2)), m, 1)) {
                assertThat(dyn.forward(x, m.ones(x.getShape())).isNaN().any().getBoolean()).isFalse();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "qwen2", "qwen3"})
    void everyParameterGetsAGradientAndOneAdamWStepLowersTheLoss(String fixture) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.load(TestSupport.resource("llama-parity/" + fixture), m)) {
            lm.weights().setRequiresGradient(true);
            AdamW opt = AdamW.of(lm.weights(), 0.0);
            Updater up = new Updater(opt, new LrSchedule.Constant(1e-3, 0), 1.0, 0);
            long[] text = {5, 17, 3, 9, 22, 3, 14, 8, 30, 1, 12, 25};
            double before;
            try (NDManager s = m.newSubManager()) {
                NDArray ids = s.create(text, new Shape(1, text.length));
                NDArray mask = s.ones(ids.getShape());
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = TensorOps.sequenceLogprobs(lm.forward(ids, mask), ids).mean().neg();
                    gc.backward(loss);
                    before = loss.getFloat();
                }
                for (String name : lm.weights().names()) {
                    assertThat(lm.weights().get(name).getGradient().abs().sum().getFloat()).as(name).isPositive();
                }
                up.step(lm.weights(), before);
            }
            double after;
            try (NDManager s = m.newSubManager()) {
                NDArray ids = s.create(text, new Shape(1, text.length));
                after = TensorOps.sequenceLogprobs(lm.forward(ids, s.ones(ids.getShape())), ids).mean().neg()
                        .getFloat();
            }
            assertThat(after).isLessThan(before - 1e-3);
            opt.close();
        }
    }
}
