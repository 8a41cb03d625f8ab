package org.rlhf4j.core.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.io.SaveDtype;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoX;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.model.Llama;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tensor.TensorOps;

/** LoRA over a frozen shared base: initialisation, scaling, targets, files, merging, sharing and gradients. */
class LoraModelTest {

    private static final long[][] IDS = {{1, 5, 9, 3, 7}, {0, 0, 7, 2, 11}};
    private static final long[][] MASK = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}};

    static CausalLm gpt2(NDManager m) {
        return Gpt2.random(Gpt2Config.of(97, 32, 32, 2, 4), m, 3);
    }

    static CausalLm neox(NDManager m) {
        return GptNeoX.random(GptNeoXConfig.of(97, 32, 32, 2, 2), m, 3);
    }

    static CausalLm llama(NDManager m) {
        return Llama.random(LlamaConfig.of(LlamaFamily.QWEN2, 97, 32, 32, 2, 4, 2, 48, 1, 2), m, 3);
    }

    private static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    private static NDArray logits(CausalLm lm, NDManager s) {
        return lm.forward(s.create(IDS), s.create(MASK));
    }

    /** Sets every B to N(0, 0.1²) so the adapter changes the model. */
    static void randomizeB(LoraModel lm, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Map.Entry<String, NDArray> e : lm.weights().asMap().entrySet()) {
            if (e.getKey().endsWith(LoraAdapter.B_SUFFIX)) {
                NDArray r = Weights.normal(e.getValue().getManager(), e.getValue().getShape(), 0.1, rng);
                e.getValue().set(r.toFloatArray());
                r.close();
            }
        }
    }

    @Test
    void freshAdapterIsKaimingUniformAZeroBAndLeavesTheLogitsUnchanged() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = llama(m);
                LoraModel lm = LoraModel.create(base, new LoraConfig(4, 8, 0, List.of(LoraConfig.ALL_LINEAR), false),
                        7, false);
                NDManager s = m.newSubManager()) {
            // 7 linears per block, 2 blocks; only A/B, in forward order
            assertThat(lm.adaptedModules()).hasSize(14).startsWith("model.layers.0.self_attn.q_proj",
                    "model.layers.0.self_attn.k_proj").endsWith("model.layers.1.mlp.down_proj");
            assertThat(lm.weights().names()).hasSize(28).startsWith("model.layers.0.self_attn.q_proj.lora_A.weight",
                    "model.layers.0.self_attn.q_proj.lora_B.weight");
            NDArray a = lm.weights().get("model.layers.0.mlp.down_proj.lora_A.weight");
            assertThat(a.getShape()).isEqualTo(new Shape(4, 48));
            double bound = 1 / Math.sqrt(48);
            float[] v = a.toFloatArray();
            double sumSq = 0;
            for (float x : v) {
                assertThat(Math.abs(x)).isLessThanOrEqualTo((float) bound);
                sumSq += x * x;
            }
            // U(-b, b) has variance b²/3: 192 samples, loose bound
            assertThat(sumSq / v.length).isCloseTo(bound * bound / 3, org.assertj.core.data.Offset.offset(
                    bound * bound / 3 * 0.3));
            assertThat(lm.weights().get("model.layers.0.mlp.down_proj.lora_B.weight").getShape())
                    .isEqualTo(new Shape(32, 4));
            assertThat(lm.weights().get("model.layers.0.mlp.down_proj.lora_B.weight").abs().max().getFloat())
                    .isZero();
            assertThat(maxAbsDiff(logits(lm, s), logits(base, s))).isZero();
            // same seed, same adapter; another seed, another A
            try (LoraModel same = LoraModel.create(base, lm.loraConfig(), 7, false);
                    LoraModel other = LoraModel.create(base, lm.loraConfig(), 8, false)) {
                assertThat(maxAbsDiff(same.weights().get(a.getName()), a)).isZero();
                assertThat(maxAbsDiff(other.weights().get(a.getName()), a)).isPositive();
            }
        }
    }

    @Test
    void defaultTargetsFollowPeftPerArchitecture() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm g = gpt2(m); CausalLm n = neox(m); CausalLm l = llama(m);
                LoraModel lg = LoraModel.create(g, LoraConfig.of(2, 4), 1, false);
                LoraModel ln = LoraModel.create(n, LoraConfig.of(2, 4), 1, false);
                LoraModel ll = LoraModel.create(l, LoraConfig.of(2, 4), 1, false)) {
            assertThat(lg.adaptedModules()).containsExactly("transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn");
            // Conv1D c_attn: in = 32, out = 96
            assertThat(lg.weights().get("transformer.h.0.attn.c_attn.lora_A.weight").getShape())
                    .isEqualTo(new Shape(2, 32));
            assertThat(lg.weights().get("transformer.h.0.attn.c_attn.lora_B.weight").getShape())
                    .isEqualTo(new Shape(96, 2));
            assertThat(ln.adaptedModules()).containsExactly("gpt_neox.layers.0.attention.query_key_value",
                    "gpt_neox.layers.1.attention.query_key_value");
            assertThat(ll.adaptedModules()).containsExactly("model.layers.0.self_attn.q_proj",
                    "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj",
                    "model.layers.1.self_attn.v_proj");
            // v_proj with 2 KV heads of 8: out = 16
            assertThat(ll.weights().get("model.layers.0.self_attn.v_proj.lora_B.weight").getShape())
                    .isEqualTo(new Shape(16, 2));
            // a full path matches exactly that module; the output projection is never a candidate
            try (LoraModel one = LoraModel.create(l, LoraConfig.of(2, 4).withTargetModules(
                    List.of("model.layers.1.mlp.up_proj")), 1, false)) {
                assertThat(one.adaptedModules()).containsExactly("model.layers.1.mlp.up_proj");
            }
            assertThatThrownBy(() -> LoraModel.create(l, LoraConfig.of(2, 4).withTargetModules(List.of("lm_head")),
                    1, false)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("[lm_head]").hasMessageContaining("model.layers.0.self_attn.q_proj");
            assertThatThrownBy(() -> LoraModel.create(g, LoraConfig.of(2, 4).withTargetModules(List.of("q_proj")),
                    1, false)).hasMessageContaining("match no linear layer").hasMessageContaining("c_attn");
        }
    }

    @Test
    void scalingIsAlphaOverROrAlphaOverSqrtRWithRslora() {
        try (NDManager m = NDManager.newBaseManager()) {
            List<LoraAdapter.Module> mods = List.of(new LoraAdapter.Module("m", 2, 2, false));
            NDArray x = m.create(new float[] {1, 2}, new Shape(1, 2));
            NDArray y = m.create(new float[] {10, 20}, new Shape(1, 2));
            for (boolean rs : new boolean[] {false, true}) {
                Weights w = new Weights(m);
                // A x = [1, 2, 3, 0]; B (A x) = [1, 3]
                w.put("m.lora_A.weight", m.create(new float[] {1, 0, 0, 1, 1, 1, 0, 0}, new Shape(4, 2)));
                w.put("m.lora_B.weight", m.create(new float[] {1, 0, 0, 0, 0, 0, 1, 0}, new Shape(2, 4)));
                LoraAdapter ad = LoraAdapter.of(new LoraConfig(4, 8, 0, List.of("m"), rs), mods, w, 0);
                float[] out = ad.adapt("m", x, y).toFloatArray();
                // s = 8/4 = 2: [12, 26]; rsLoRA s = 8/√4 = 4: [14, 32]
                assertThat(out).containsExactly(rs ? new float[] {14, 32} : new float[] {12, 26});
                assertThat(ad.adapt("other", x, y)).isSameAs(y);
                ad.setEnabled(false);
                assertThat(ad.adapt("m", x, y)).isSameAs(y);
                // fp16 input: A and B are cast to it
                ad.setEnabled(true);
                NDArray out16 = ad.adapt("m", x.toType(DataType.FLOAT16, false),
                        y.toType(DataType.FLOAT16, false));
                assertThat(out16.getDataType()).isEqualTo(DataType.FLOAT16);
                w.close();
            }
        }
    }

    @Test
    void patternKeysMatchAsPeftsGetPatternKey() {
        LoraPatterns p = new LoraPatterns(new java.util.LinkedHashMap<>(Map.of("v_proj", 2)),
                Map.of("layers.1.self_attn.q_proj", 16.0));
        // (.*\.)?(key) must match the whole path; the first matching key wins
        assertThat(p.rankOf("model.layers.0.self_attn.v_proj", 8)).isEqualTo(2);
        assertThat(p.rankOf("v_proj", 8)).isEqualTo(2);
        assertThat(p.rankOf("model.layers.0.self_attn.xv_proj", 8)).isEqualTo(8);
        assertThat(p.rankOf("model.layers.0.self_attn.v_proj.x", 8)).isEqualTo(8);
        assertThat(p.alphaOf("model.layers.1.self_attn.q_proj", 8)).isEqualTo(16.0);
        assertThat(p.alphaOf("model.layers.11.self_attn.q_proj", 8)).isEqualTo(8.0);
        assertThatThrownBy(() -> new LoraPatterns(Map.of("q", 0), Map.of())).hasMessageContaining("rank_pattern['q']");
    }

    @Test
    void dropoutAppliesOnlyInTrainingModeAndIsSeeded() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = gpt2(m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(4, 8).withDropout(0.5), 1, false);
                NDManager s = m.newSubManager()) {
            randomizeB(lm, 2);
            NDArray eval = logits(lm, s);
            lm.setTraining(true);
            lm.setDropoutSeed(42);
            NDArray t1 = logits(lm, s);
            lm.setDropoutSeed(42);
            NDArray t2 = logits(lm, s);
            NDArray t3 = logits(lm, s);
            assertThat(maxAbsDiff(t1, eval)).isGreaterThan(1e-4f);
            assertThat(maxAbsDiff(t1, t2)).isZero();
            assertThat(maxAbsDiff(t2, t3)).isGreaterThan(1e-4f);
            lm.setTraining(false);
            assertThat(maxAbsDiff(logits(lm, s), eval)).isZero();
        }
    }

    private static void checkMerge(CausalLm base) {
        try (NDManager s = base.manager().getParentManager().newSubManager();
                LoraModel lm = LoraModel.create(base, new LoraConfig(4, 16, 0, List.of(LoraConfig.ALL_LINEAR), true),
                        5, false)) {
            randomizeB(lm, 9);
            NDArray adapted = logits(lm, s);
            assertThat(maxAbsDiff(adapted, logits(base, s))).as("B ≠ 0 changes the model").isGreaterThan(1e-3f);
            try (CausalLm merged = lm.merge(s)) {
                assertThat(merged.getClass()).isEqualTo(base.getClass());
                assertThat(maxAbsDiff(logits(merged, s), adapted)).isLessThan(1e-5f);
            }
            lm.setAdapterEnabled(false);
            assertThat(maxAbsDiff(logits(lm, s), logits(base, s))).as("disabled = base exactly").isZero();
        }
    }

    @Test
    void mergeEqualsBasePlusAdapterForEveryFamily() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm g = gpt2(m); CausalLm n = neox(m);
                CausalLm l = llama(m)) {
            checkMerge(g);
            checkMerge(n);
            checkMerge(l);
        }
    }

    @Test
    void saveLoadRoundTripIsExactAndWritesPeftNames(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = gpt2(m);
                LoraModel lm = LoraModel.create(base, new LoraConfig(2, 5, 0.1, List.of("c_attn", "c_fc"), true), 3,
                        false).optBasePath(Path.of("../base"));
                NDManager s = m.newSubManager()) {
            randomizeB(lm, 4);
            lm.save(dir);
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()).sorted())
                        .containsExactly("adapter_config.json", "adapter_model.safetensors");
            }
            JsonNode cfg = Json.MAPPER.readTree(dir.resolve("adapter_config.json").toFile());
            assertThat(cfg.get("peft_type").asText()).isEqualTo("LORA");
            assertThat(cfg.get("task_type").asText()).isEqualTo("CAUSAL_LM");
            assertThat(cfg.get("r").asInt()).isEqualTo(2);
            assertThat(cfg.get("lora_alpha").asInt()).isEqualTo(5);
            assertThat(cfg.get("lora_dropout").asDouble()).isEqualTo(0.1);
            assertThat(cfg.get("use_rslora").asBoolean()).isTrue();
            assertThat(cfg.get("fan_in_fan_out").asBoolean()).isTrue();
            assertThat(cfg.get("bias").asText()).isEqualTo("none");
            assertThat(cfg.get("base_model_name_or_path").asText()).isEqualTo("../base");
            assertThat(cfg.get("target_modules").toString()).isEqualTo("[\"c_attn\",\"c_fc\"]");
            try (SafeTensors st = SafeTensors.open(dir.resolve("adapter_model.safetensors"))) {
                assertThat(st.entries().keySet()).containsExactly(
                        "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                        "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                        "base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight",
                        "base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight",
                        "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
                        "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight",
                        "base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight",
                        "base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight");
            }
            assertThat(LoraModel.isAdapterDir(dir)).isTrue();
            try (LoraModel back = LoraModel.load(dir, base, false)) {
                assertThat(back.loraConfig()).isEqualTo(lm.loraConfig());
                assertThat(back.basePath()).isEqualTo("../base");
                assertThat(back.weights().names()).containsExactlyElementsOf(lm.weights().names());
                for (String name : lm.weights().names()) {
                    assertThat(maxAbsDiff(back.weights().get(name), lm.weights().get(name))).as(name).isZero();
                }
                assertThat(maxAbsDiff(logits(back, s), logits(lm, s))).isZero();
            }
            // fp16 storage narrows the matrices only
            Path half = Files.createDirectories(dir.resolve("half"));
            lm.save(half, SaveOptions.of(SaveDtype.FP16));
            try (LoraModel back = LoraModel.load(half, base, false)) {
                assertThat(maxAbsDiff(logits(back, s), logits(lm, s))).isLessThan(1e-2f);
            }
        }
    }

    @Test
    void causalLmLoadOfAnAdapterDirLoadsItsBase(@TempDir Path dir) throws IOException {
        Path baseDir = Files.createDirectories(dir.resolve("base"));
        Path adapterDir = Files.createDirectories(dir.resolve("runs/adapter"));
        try (NDManager m = NDManager.newBaseManager(); NDManager s = m.newSubManager()) {
            NDArray expected;
            try (CausalLm base = neox(m); LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, true)) {
                base.save(baseDir);
                randomizeB(lm, 1);
                lm.optBasePath(Path.of("../../base")).save(adapterDir);
                expected = logits(lm, s);
            }
            try (CausalLm back = CausalLm.load(adapterDir, m)) {
                assertThat(back).isInstanceOf(LoraModel.class);
                assertThat(((LoraModel) back).ownsBase()).isTrue();
                assertThat(maxAbsDiff(logits(back, s), expected)).isZero();
            }
            // an adapter over an adapter: the inner one is merged into the base first
            Path second = Files.createDirectories(dir.resolve("runs/second"));
            NDArray chained;
            try (LoraModel first = LoraModel.loadWithBase(adapterDir, m); CausalLm merged = first.merge(m);
                    LoraModel lm2 = LoraModel.create(merged, LoraConfig.of(2, 4).withTargetModules(
                            List.of("dense_h_to_4h")), 2, false)) {
                randomizeB(lm2, 2);
                lm2.optBasePath(Path.of("../adapter")).save(second);
                chained = logits(lm2, s);
            }
            try (CausalLm back = CausalLm.load(second, m)) {
                assertThat(maxAbsDiff(logits(back, s), chained)).isZero();
            }
            // a cycle is refused
            Path loop = Files.createDirectories(dir.resolve("loop"));
            Files.copy(adapterDir.resolve("adapter_config.json"), loop.resolve("adapter_config.json"));
            Files.copy(adapterDir.resolve("adapter_model.safetensors"), loop.resolve("adapter_model.safetensors"));
            editConfig(loop, c -> c.put("base_model_name_or_path", "."));
            assertThatThrownBy(() -> CausalLm.load(loop, m)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("more than 8 adapter directories");
            // an absolute path works too; a hub id is refused with a hint
            editConfig(adapterDir, c -> c.put("base_model_name_or_path", baseDir.toAbsolutePath().toString()));
            try (CausalLm back = LoraModel.loadWithBase(adapterDir, m)) {
                assertThat(maxAbsDiff(logits(back, s), expected)).isZero();
            }
            editConfig(adapterDir, c -> c.put("base_model_name_or_path", "EleutherAI/pythia-70m"));
            assertThatThrownBy(() -> CausalLm.load(adapterDir, m)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("adapter_config.json").hasMessageContaining("EleutherAI/pythia-70m")
                    .hasMessageContaining("--model BASE --adapter");
            editConfig(adapterDir, c -> c.putNull("base_model_name_or_path"));
            assertThatThrownBy(() -> CausalLm.load(adapterDir, m)).hasMessageContaining("base_model_name_or_path")
                    .hasMessageContaining("--model BASE --adapter");
        }
    }

    @Test
    void theBasesGenerationConfigTravelsWithTheAdapter(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm base = CausalLm.load(org.rlhf4j.core.TestSupport.resource("checkpoint-fixtures/gpt2/fp32"), m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false)) {
            assertThat(base.generationConfig()).isPresent();
            assertThat(lm.generationConfig()).isEqualTo(base.generationConfig());
            lm.save(dir);
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()).sorted()).containsExactly(
                        "adapter_config.json", "adapter_model.safetensors", "generation_config.json");
            }
            assertThat(org.rlhf4j.core.model.HfGenerationConfig.read(dir.resolve("generation_config.json")))
                    .isEqualTo(base.generationConfig().get());
        }
    }

    static void editConfig(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path f = dir.resolve("adapter_config.json");
        ObjectNode o = (ObjectNode) Json.MAPPER.readTree(f.toFile());
        edit.accept(o);
        Json.write(f, o);
    }

    @Test
    void copySharesTheBaseAndDoesNotCloseIt() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = llama(m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false);
                NDManager s = m.newSubManager()) {
            randomizeB(lm, 3);
            NDArray before = logits(lm, s);
            try (LoraModel c = lm.copy(m)) {
                assertThat(c.base()).isSameAs(base);
                assertThat(c.base().weights()).isSameAs(base.weights());
                assertThat(c.ownsBase()).isFalse();
                assertThat(c.weights()).isNotSameAs(lm.weights());
                assertThat(maxAbsDiff(logits(c, s), before)).isZero();
                // the copy's matrices are independent
                c.weights().get("model.layers.0.self_attn.q_proj.lora_B.weight").muli(0);
                assertThat(maxAbsDiff(logits(c, s), before)).isPositive();
                assertThat(maxAbsDiff(logits(lm, s), before)).isZero();
            }
            // closing the copy left the base and the original usable
            assertThat(maxAbsDiff(logits(lm, s), before)).isZero();
        }
    }

    @Test
    void kvCacheGenerationUsesTheAdapterAsTheMergedModelDoes() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = llama(m);
                LoraModel lm = LoraModel.create(base, new LoraConfig(4, 8, 0, List.of(LoraConfig.ALL_LINEAR), false),
                        1, false)) {
            randomizeB(lm, 6);
            List<int[]> prompts = List.of(new int[] {5, 9, 3}, new int[] {7});
            var cfg = org.rlhf4j.core.generation.GenerationConfig.builder(6, 2).setTemperature(1.0).build();
            try (CausalLm merged = lm.merge(m)) {
                var a = org.rlhf4j.core.generation.Generator.generate(lm, prompts, null, cfg, 4);
                var b = org.rlhf4j.core.generation.Generator.generate(merged, prompts, null, cfg, 4);
                var plain = org.rlhf4j.core.generation.Generator.generate(base, prompts, null, cfg, 4);
                assertThat(a.responseIds()).isDeepEqualTo(b.responseIds());
                for (int r = 0; r < 2; r++) {
                    for (int t = 0; t < a.logprobs()[r].length; t++) {
                        assertThat(a.logprobs()[r][t]).isCloseTo(b.logprobs()[r][t],
                                org.assertj.core.data.Offset.offset(1e-4f));
                    }
                }
                // the adapter changes what is sampled's probabilities
                assertThat(a.logprobs()).isNotEqualTo(plain.logprobs());
            }
        }
    }

    @Test
    void theCallersHookRunsAfterTheAdapterAndSeesEveryBaseParameter() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = gpt2(m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false);
                NDManager s = m.newSubManager()) {
            randomizeB(lm, 5);
            java.util.Set<String> params = new java.util.LinkedHashSet<>();
            List<String> modules = new java.util.ArrayList<>();
            org.rlhf4j.core.model.ForwardHook recorder = new org.rlhf4j.core.model.ForwardHook() {
                @Override
                public NDArray param(String name, NDArray stored) {
                    params.add(name);
                    return stored;
                }

                @Override
                public NDArray adapt(String module, NDArray input, NDArray output) {
                    modules.add(module);
                    return output;
                }
            };
            NDArray ids = s.create(IDS);
            NDArray mask = s.create(MASK);
            NDArray hooked = lm.logits(lm.hidden(ids, mask, null, recorder), recorder);
            assertThat(maxAbsDiff(hooked, lm.forward(ids, mask))).isZero();
            assertThat(params).isEqualTo(base.weights().names());
            assertThat(modules).hasSize(8).contains("transformer.h.1.attn.c_attn", "transformer.h.0.mlp.c_proj");
        }
    }

    @Test
    void gradientsReachOnlyTheAdapter() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = llama(m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false)) {
            randomizeB(lm, 3);
            lm.weights().setRequiresGradient(true);
            try (NDManager s = m.newSubManager()) {
                NDArray ids = s.create(IDS);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = TensorOps.sequenceLogprobs(lm.forward(ids, s.create(MASK)), ids).mean().neg();
                    gc.backward(loss);
                }
                for (String name : lm.weights().names()) {
                    assertThat(lm.weights().get(name).getGradient().abs().sum().getFloat()).as(name).isPositive();
                }
                for (String name : base.weights().names()) {
                    assertThat(base.weights().get(name).hasGradient()).as(name).isFalse();
                }
            }
        }
    }

    @Test
    void badAdapterConfigFieldsAreRefusedByName(@TempDir Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = llama(m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false)) {
            lm.save(dir);
            Object[][] cases = {
                {"use_dora", true, "use_dora"},
                {"peft_type", "IA3", "peft_type is IA3"},
                {"bias", "all", "bias is \"all\""},
                {"r", 3, "expected (3, 32)"},
                {"r", "eight", "r must be an integer"},
                {"lora_alpha", -1, "lora_alpha"},
                {"task_type", "SEQ_CLS", "task_type is SEQ_CLS"},
            };
            for (Object[] c : cases) {
                Path d = Files.createDirectories(dir.resolve("bad-" + c[0] + "-" + c[1]));
                Files.copy(dir.resolve("adapter_model.safetensors"), d.resolve("adapter_model.safetensors"));
                Files.copy(dir.resolve("adapter_config.json"), d.resolve("adapter_config.json"));
                editConfig(d, o -> {
                    if (c[1] instanceof Boolean b) {
                        o.put((String) c[0], b);
                    } else if (c[1] instanceof Integer i) {
                        o.put((String) c[0], i);
                    } else {
                        o.put((String) c[0], (String) c[1]);
                    }
                });
                assertThatThrownBy(() -> LoraModel.load(d, base, false)).as(c[0] + "=" + c[1])
                        .isInstanceOf(ModelFormatException.class).hasMessageContaining((String) c[2])
                        .hasMessageContaining(d.resolve(c[0].equals("r") && c[1] instanceof Integer
                                ? "adapter_model.safetensors" : "adapter_config.json").toString());
            }
            Path pat = Files.createDirectories(dir.resolve("pattern"));
            Files.copy(dir.resolve("adapter_model.safetensors"), pat.resolve("adapter_model.safetensors"));
            Files.copy(dir.resolve("adapter_config.json"), pat.resolve("adapter_config.json"));
            editConfig(pat, o -> o.putObject("rank_pattern").put("q_proj", "four"));
            assertThatThrownBy(() -> LoraModel.load(pat, base, false)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("rank_pattern['q_proj'] must be an integer");
            // a per-module rank that the tensors do not have
            editConfig(pat, o -> o.putObject("rank_pattern").put("q_proj", 4));
            assertThatThrownBy(() -> LoraModel.load(pat, base, false)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("model.layers.0.self_attn.q_proj.lora_A.weight")
                    .hasMessageContaining("expected (4, 32)");
            editConfig(pat, o -> o.putObject("alpha_pattern").put("(", 4));
            assertThatThrownBy(() -> LoraModel.load(pat, base, false)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("not a regular expression");
            editConfig(pat, o -> {
                o.putObject("alpha_pattern");
                o.putObject("rank_pattern");
                o.putArray("modules_to_save").add("lm_head");
            });
            assertThatThrownBy(() -> LoraModel.load(pat, base, false)).hasMessageContaining("modules_to_save");
            // a regular-expression target is kept as the adapted modules
            editConfig(pat, o -> {
                o.putNull("modules_to_save");
                o.put("target_modules", ".*\\.(q_proj|v_proj)");
            });
            try (LoraModel back = LoraModel.load(pat, base, false)) {
                assertThat(back.loraConfig().targetModules()).containsExactlyElementsOf(lm.adaptedModules());
            }
            // a tensor for a module the base does not have
            try (GptNeoX other = GptNeoX.random(GptNeoXConfig.of(97, 32, 32, 2, 2), m, 1)) {
                assertThatThrownBy(() -> LoraModel.load(dir, other, false)).isInstanceOf(ModelFormatException.class)
                        .hasMessageContaining("model.layers.0.self_attn.q_proj")
                        .hasMessageContaining("not a linear layer of the base");
            }
        }
    }
}
