package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;

/**
 * Llama-family parity with {@code transformers} 5.18: tiny random {@code *ForCausalLM} checkpoints saved by
 * {@code scripts/llama_fixture.py} (test resources {@code llama-parity/<case>}), loaded through the dispatching
 * {@link CausalLm#load}, reproduce transformers' next-token log-probabilities and last-token logits on a right-padded
 * and a left-padded batch: GQA with head_dim ≠ hidden/heads and biases, llama3 / linear / dynamic-NTK rotary (dynamic
 * beyond {@code max_position_embeddings}), tied embeddings, Mistral's sliding window, Qwen2 (q/k/v biases, a window on
 * one layer), Qwen3 (q/k norm).
 */
class LlamaParityTest {

    static final List<String> CASES = List.of("llama-gqa", "llama-rope-llama3", "llama-rope-linear",
            "llama-rope-dynamic", "llama-tied", "mistral-window", "qwen2", "qwen3", "qwen2-bf16-sharded");

    /** One batch of a fixture's {@code expected.json}. */
    record Batch(NDArray ids, NDArray mask, NDArray logprobs, long[] lastIndex, NDArray lastLogits) {

        static Batch read(JsonNode b, NDManager m) {
            return new Batch(longs(b.get("input_ids"), m), longs(b.get("attention_mask"), m),
                    floats(b.get("logprobs"), m), longs(b.get("last_index"), m).toLongArray(),
                    floats(b.get("last_logits"), m));
        }

        /** Max |lp − ref| where the predicting position and the target are real. */
        double logprobError(NDArray lp) {
            NDArray mf = mask.toType(DataType.FLOAT32, false);
            NDArray both = mf.get(new NDIndex(":, :-1")).mul(mf.get(new NDIndex(":, 1:")));
            return lp.sub(logprobs).mul(both).abs().max().getFloat();
        }

        /** Max |logits − ref| at each row's last real token. */
        double lastLogitError(NDArray logits) {
            double worst = 0;
            for (int b = 0; b < lastIndex.length; b++) {
                NDArray row = logits.get(b).get(lastIndex[b]);
                worst = Math.max(worst, row.sub(lastLogits.get(b)).abs().max().getFloat());
            }
            return worst;
        }
    }

    static NDArray longs(JsonNode rows, NDManager m) {
        int r = rows.size();
        boolean matrix = rows.get(0).isArray();
        int c = matrix ? rows.get(0).size() : 1;
        long[] v = new long[r * c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                v[i * c + j] = (matrix ? rows.get(i).get(j) : rows.get(i)).asLong();
            }
        }
        return m.create(v, matrix ? new Shape(r, c) : new Shape(r));
    }

    static NDArray floats(JsonNode rows, NDManager m) {
        int r = rows.size();
        int c = rows.get(0).size();
        float[] v = new float[r * c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                v[i * c + j] = (float) rows.get(i).get(j).asDouble();
            }
        }
        return m.create(v, new Shape(r, c));
    }

    static JsonNode expected(String fixture) throws Exception {
        return Json.MAPPER.readTree(Files.readString(
                TestSupport.resource("llama-parity/" + fixture).resolve("expected.json")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama-rope-llama3", "llama-rope-linear", "llama-rope-dynamic", "llama-tied",
            "mistral-window", "qwen2", "qwen3", "qwen2-bf16-sharded"})
    void logprobsMatchTransformers(String fixture) throws Exception {
        Path dir = TestSupport.resource("llama-parity/" + fixture);
        JsonNode exp = expected(fixture);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m)) {
            assertThat(model).isInstanceOf(Llama.class);
            double worstLp = 0;
            double worstLogit = 0;
            for (String side : List.of("right", "left")) {
                Batch b = Batch.read(exp.get("batches").get(side), m);
                double lpErr = b.logprobError(model.nextTokenLogprobs(b.ids(), b.mask()));
                double logitErr = b.lastLogitError(model.forward(b.ids(), b.mask()));
                worstLp = Math.max(worstLp, lpErr);
                worstLogit = Math.max(worstLogit, logitErr);
            }
            System.out.printf("Llama parity %-20s max |logprob diff| %.3g, max |last-token logit diff| %.3g%n",
                    fixture, worstLp, worstLogit);
            assertThat(worstLp).isLessThan(1e-4);
            assertThat(worstLogit).isLessThan(1e-4);
        }
    }

    @Test
    void fixturesExerciseWhatTheyClaim() throws Exception {
        LlamaConfig gqa = LlamaConfig.read(TestSupport.resource("llama-parity/llama-gqa").resolve("config.json"));
        assertThat(gqa.kvGroups()).isEqualTo(2);
        assertThat(gqa.headDim()).isNotEqualTo(gqa.hiddenSize() / gqa.numAttentionHeads());
        assertThat(gqa.eosTokenIds()).containsExactly(2, 3);
        assertThat(gqa.outputBias()).isTrue();
        assertThat(gqa.mlpBias()).isTrue();
        LlamaConfig dyn = LlamaConfig.read(
                TestSupport.resource("llama-parity/llama-rope-dynamic").resolve("config.json"));
        assertThat(dyn.ropeScaling()).isEqualTo(new RopeScaling.Dynamic(2.0));
        assertThat(expected("llama-rope-dynamic").get("batches").get("right").get("input_ids").get(0).size())
                .isGreaterThan(dyn.maxPositionEmbeddings());
        LlamaConfig mistral = LlamaConfig.read(
                TestSupport.resource("llama-parity/mistral-window").resolve("config.json"));
        assertThat(mistral.window(0)).hasValue(4);
        assertThat(mistral.window(1)).hasValue(4);
        LlamaConfig qwen2 = LlamaConfig.read(TestSupport.resource("llama-parity/qwen2").resolve("config.json"));
        assertThat(qwen2.window(0)).isEmpty();
        assertThat(qwen2.window(1)).hasValue(5);
        assertThat(qwen2.qkvBias()).isTrue();
        assertThat(qwen2.outputBias()).isFalse();
        LlamaConfig qwen3 = LlamaConfig.read(TestSupport.resource("llama-parity/qwen3").resolve("config.json"));
        assertThat(qwen3.qkNorm()).isTrue();
        assertThat(qwen3.tieWordEmbeddings()).isTrue();
        // transformers' half-precision checkpoint layout: bf16 tensors in two shards under an index
        Path half = TestSupport.resource("llama-parity/qwen2-bf16-sharded");
        assertThat(half.resolve("model.safetensors")).doesNotExist();
        assertThat(half.resolve("model.safetensors.index.json")).exists();
        for (String shard : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            try (org.rlhf4j.core.io.SafeTensors st = org.rlhf4j.core.io.SafeTensors.open(half.resolve(shard))) {
                assertThat(st.entries().values()).isNotEmpty()
                        .allMatch(e -> e.dtype() == org.rlhf4j.core.io.TensorDType.BF16);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama-rope-llama3", "llama-tied", "mistral-window", "qwen2", "qwen3"})
    void kvCacheDecodingEqualsFullForward(String fixture) throws Exception {
        Path dir = TestSupport.resource("llama-parity/" + fixture);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m);
                KvCache cache = new KvCache(model.config().numLayers())) {
            Batch b = Batch.read(expected(fixture).get("batches").get("left"), m);
            NDArray reference = model.forward(b.ids(), b.mask());
            long t = b.ids().getShape().get(1);
            int prompt = 8; // row 2 has one real prompt token; windows of 4 and 5 are crossed while decoding
            NDArray first = model.logits(model.hidden(
                    b.ids().get(new NDIndex(":, :" + prompt)), b.mask().get(new NDIndex(":, :" + prompt)), cache));
            NDArray realMask = b.mask().get(new NDIndex(":, :" + prompt)).toType(DataType.FLOAT32, false)
                    .expandDims(-1);
            assertThat(first.sub(reference.get(new NDIndex(":, :" + prompt + ", :"))).mul(realMask).abs().max()
                            .getFloat())
                    .isLessThan(1e-4f);
            for (long i = prompt; i < t; i++) {
                NDIndex col = new NDIndex(":, " + i + ":" + (i + 1));
                NDArray step = model.logits(model.hidden(b.ids().get(col), b.mask().get(col), cache));
                NDArray want = reference.get(new NDIndex(":, " + i + ":" + (i + 1) + ", :"));
                assertThat(step.sub(want).abs().max().getFloat()).as("position %d", i).isLessThan(1e-4f);
            }
            assertThat(cache.length()).isEqualTo(t);
        }
    }

    @Test
    void inverseFrequencyBuffersAreSkippedAndABareModelLoadsAsATrunk(@TempDir Path tmp) throws Exception {
        Path src = TestSupport.resource("llama-parity/llama-gqa");
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(src, m)) {
            Batch b = Batch.read(expected("llama-gqa").get("batches").get("left"), m);
            float[] want = model.forward(b.ids(), b.mask()).toFloatArray();
            // older transformers saved rotary buffers in the state dict
            Path legacy = Files.createDirectories(tmp.resolve("legacy"));
            Files.copy(src.resolve("config.json"), legacy.resolve("config.json"));
            java.util.Map<String, NDArray> tensors = new java.util.LinkedHashMap<>(model.weights().asMap());
            tensors.put("model.layers.0.self_attn.rotary_emb.inv_freq", m.ones(new Shape(8)));
            tensors.put("model.rotary_emb.inv_freq", m.ones(new Shape(8)));
            SafeTensors.write(legacy.resolve("model.safetensors"), tensors, java.util.Map.of());
            try (CausalLm again = CausalLm.load(legacy, m)) {
                assertThat(again.forward(b.ids(), b.mask()).toFloatArray()).containsExactly(want);
                assertThat(again.weights().names()).noneMatch(n -> n.contains("inv_freq"));
            }
            // a bare LlamaModel (no "model." prefix, no lm_head) is a scalar model's trunk
            Path bare = Files.createDirectories(tmp.resolve("bare"));
            Files.copy(src.resolve("config.json"), bare.resolve("config.json"));
            java.util.Map<String, NDArray> unprefixed = new java.util.LinkedHashMap<>();
            model.weights().asMap().forEach((k, v) -> {
                if (k.startsWith(Llama.PREFIX)) {
                    unprefixed.put(k.substring(Llama.PREFIX.length()), v);
                }
            });
            SafeTensors.write(bare.resolve("model.safetensors"), unprefixed, java.util.Map.of());
            try (ScalarModel rm = ScalarModel.load(bare, m, 1)) {
                assertThat(rm.weights().get(Llama.EMBED_TOKENS).toFloatArray())
                        .containsExactly(model.weights().get(Llama.EMBED_TOKENS).toFloatArray());
                assertThat(org.rlhf4j.core.model.Gpt2InvariantsTest.maxAbsDiff(rm.hidden(b.ids(), b.mask()),
                        model.hidden(b.ids(), b.mask(), null))).isZero();
            }
        }
    }

    @Test
    void checkpointErrorsNameTheTensor(@TempDir Path tmp) throws Exception {
        Path dir = TestSupport.copyDir("llama-parity/qwen2", tmp.resolve("bad"));
        com.fasterxml.jackson.databind.node.ObjectNode cfg =
                (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(
                        Files.readString(dir.resolve("config.json")));
        Json.write(dir.resolve("config.json"), cfg.put("num_key_value_heads", 4));
        try (NDManager m = NDManager.newBaseManager()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> CausalLm.load(dir, m))
                    .isInstanceOf(org.rlhf4j.core.io.ModelFormatException.class)
                    .hasMessageContaining("model.safetensors")
                    .hasMessageContaining("model.layers.0.self_attn.k_proj.weight")
                    .hasMessageContaining("(32, 32)");
        }
    }

    /**
     * Saves every fixture through rlhf4j (float32, one file; and two as bfloat16 shards) with rlhf4j's own outputs of
     * the reloaded directory beside it ({@code rlhf4j_expected.json}, the layout of {@code expected.json}), for
     * {@code scripts/llama_fixture.py check DIR}, which loads the directory with transformers and compares. Written to
     * a temporary directory, or to {@code -Drlhf4j.llama.exportDir=DIR}.
     */
    @Test
    void rlhf4jSavedDirectoriesCarryTheirOwnOutputsForTransformers(@TempDir Path tmp) throws Exception {
        String dest = System.getProperty("rlhf4j.llama.exportDir");
        Path root = dest == null ? tmp : Path.of(dest);
        List<String> runs = new java.util.ArrayList<>(CASES);
        runs.addAll(List.of("llama-gqa:bf16-shards", "qwen3:bf16-shards"));
        for (String run : runs) {
            String fixture = run.split(":")[0];
            boolean bf16 = run.endsWith(":bf16-shards");
            Path out = Files.createDirectories(root.resolve(run.replace(':', '-')));
            JsonNode exp = expected(fixture);
            com.fasterxml.jackson.databind.node.ObjectNode mine = Json.MAPPER.createObjectNode();
            mine.put("generator", "LlamaParityTest (rlhf4j)").put("case", run);
            try (NDManager m = NDManager.newBaseManager();
                    CausalLm model = CausalLm.load(TestSupport.resource("llama-parity/" + fixture), m)) {
                model.save(out, bf16 ? new org.rlhf4j.core.io.SaveOptions(org.rlhf4j.core.io.SaveDtype.BF16, 20_000)
                        : org.rlhf4j.core.io.SaveOptions.DEFAULTS);
                assertThat(Files.exists(out.resolve("model.safetensors.index.json"))).isEqualTo(bf16);
                try (CausalLm saved = CausalLm.load(out, m)) {
                    for (String side : List.of("right", "left")) {
                        Batch b = Batch.read(exp.get("batches").get(side), m);
                        NDArray lp = saved.nextTokenLogprobs(b.ids(), b.mask());
                        NDArray logits = saved.forward(b.ids(), b.mask());
                        // bfloat16 weights move the log-probabilities, by far less than their spread
                        assertThat(b.logprobError(lp)).isLessThan(bf16 ? 0.2 : 1e-4);
                        com.fasterxml.jackson.databind.node.ObjectNode o =
                                ((com.fasterxml.jackson.databind.node.ObjectNode) exp.get("batches").get(side))
                                        .deepCopy();
                        o.set("logprobs", Json.MAPPER.valueToTree(rows(lp)));
                        float[][] last = new float[b.lastIndex().length][];
                        for (int r = 0; r < last.length; r++) {
                            last[r] = logits.get(r).get(b.lastIndex()[r]).toFloatArray();
                        }
                        o.set("last_logits", Json.MAPPER.valueToTree(last));
                        mine.with("batches").set(side, o);
                    }
                }
            }
            Json.write(out.resolve("rlhf4j_expected.json"), mine);
            assertThat(Json.MAPPER.readTree(Files.readString(out.resolve("rlhf4j_expected.json")))
                    .get("batches").get("left").get("logprobs").size()).isEqualTo(3);
        }
    }

    private static float[][] rows(NDArray a) {
        float[][] r = new float[(int) a.getShape().get(0)][];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).toFloatArray();
        }
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama-rope-llama3", "llama-tied", "mistral-window", "qwen2", "qwen3"})
    void savedAndReloadedModelIsBitIdentical(String fixture, @TempDir Path out) throws Exception {
        Path dir = TestSupport.resource("llama-parity/" + fixture);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m)) {
            Batch b = Batch.read(expected(fixture).get("batches").get("left"), m);
            float[] before = model.forward(b.ids(), b.mask()).toFloatArray();
            model.save(out);
            try (CausalLm again = CausalLm.load(out, m);
                    SafeTensors st = SafeTensors.open(out.resolve("model.safetensors"))) {
                assertThat(again.config()).isEqualTo(model.config());
                assertThat(again.weights().names()).containsExactlyElementsOf(model.weights().names());
                for (String name : model.weights().names()) {
                    assertThat(again.weights().get(name).toByteArray()).as(name)
                            .isEqualTo(model.weights().get(name).toByteArray());
                }
                assertThat(again.forward(b.ids(), b.mask()).toFloatArray()).containsExactly(before);
                // same tensor names as the transformers file (a tied model stores no lm_head)
                try (SafeTensors src = SafeTensors.open(dir.resolve("model.safetensors"))) {
                    assertThat(st.entries().keySet()).containsExactlyInAnyOrderElementsOf(src.entries().keySet());
                }
            }
            JsonNode saved = Json.MAPPER.readTree(Files.readString(out.resolve("config.json")));
            JsonNode source = Json.MAPPER.readTree(Files.readString(dir.resolve("config.json")));
            assertThat(saved.get("model_type")).isEqualTo(source.get("model_type"));
            assertThat(saved.get("architectures")).isEqualTo(source.get("architectures"));
            assertThat(saved.get("transformers_version")).isEqualTo(source.get("transformers_version")); // kept
            assertThat(saved.get("rope_parameters").get("rope_type"))
                    .isEqualTo(source.get("rope_parameters").get("rope_type"));
            assertThat(saved.get("eos_token_id")).isEqualTo(source.get("eos_token_id"));
        }
    }
}
