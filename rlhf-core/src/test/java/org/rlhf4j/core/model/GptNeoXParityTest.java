package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * HF GPT-NeoX parity: tiny random checkpoints in HF layout (test resources {@code parity/gpt-neox-tiny*}), loaded
 * through the dispatching {@link CausalLm#load}, reproduce the logits of an independent float64 PyTorch implementation
 * of {@code GPTNeoXForCausalLM} ({@code parity/make_gpt_neox_fixtures.py}) on left-padded batches. One fixture has
 * Pythia's layout (parallel residual, exact GELU, partial rotary, untied output, legacy buffers in the file), the
 * other flips every switch (sequential residual, tanh GELU, full rotary with {@code rope_theta}, tied output, no
 * attention biases).
 */
class GptNeoXParityTest {

    static final String PYTHIA_LIKE = "parity/gpt-neox-tiny";
    static final String SEQUENTIAL = "parity/gpt-neox-tiny-sequential";

    /** Expected inputs and logits of a fixture, copied out of the file. */
    record Expected(NDArray ids, NDArray mask, NDArray logits) {

        static Expected read(Path dir, NDManager m) throws Exception {
            try (SafeTensors st = SafeTensors.open(dir.resolve("expected.safetensors"))) {
                return new Expected(
                        st.load("input_ids", m).duplicate(),
                        st.load("attention_mask", m).duplicate(),
                        st.load("logits", m).duplicate());
            }
        }

        /** Max |a − b| over the real (mask 1) positions of {@code [B, T, V]} logits. */
        double maxAbsError(NDArray got) {
            NDArray real = mask.toType(DataType.FLOAT32, false).expandDims(-1);
            return got.sub(logits).mul(real).abs().max().getFloat();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {PYTHIA_LIKE, SEQUENTIAL})
    void logitsMatchIndependentReference(String fixture) throws Exception {
        Path dir = TestSupport.resource(fixture);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m)) {
            assertThat(model).isInstanceOf(GptNeoX.class);
            assertThat(model.config().modelType()).isEqualTo("gpt_neox");
            Expected e = Expected.read(dir, m);
            NDArray logits = model.forward(e.ids(), e.mask());
            assertThat(logits.getShape()).isEqualTo(e.logits().getShape());
            double err = e.maxAbsError(logits);
            System.out.printf("GPT-NeoX parity %s: max |logit error| over real positions = %.3g%n", fixture, err);
            assertThat(err).isLessThan(1e-4);
            // and through the log-probability path the trainers use
            NDArray lp = model.nextTokenLogprobs(e.ids(), e.mask());
            NDArray refLp = TensorOps.sequenceLogprobs(e.logits(), e.ids());
            // compared where the predicting position is real (a padding position's logits are not defined)
            NDArray realFrom = e.mask().get(new NDIndex(":, :-1")).toType(DataType.FLOAT32, false);
            assertThat(lp.sub(refLp).mul(realFrom).abs().max().getFloat()).isLessThan(1e-4f);
        }
    }

    @Test
    void configIsReadWithHfDefaultsAndAliases() throws Exception {
        GptNeoXConfig a = (GptNeoXConfig) ModelConfig.read(TestSupport.resource(PYTHIA_LIKE).resolve("config.json"));
        assertThat(a.headDim()).isEqualTo(16);
        assertThat(a.rotaryNdims()).isEqualTo(4);
        assertThat(a.useParallelResidual()).isTrue();
        assertThat(a.tieWordEmbeddings()).isFalse();
        assertThat(a.extra()).containsKey("initializer_range").doesNotContainKey("torch_dtype");
        GptNeoXConfig b = GptNeoXConfig.read(TestSupport.resource(SEQUENTIAL).resolve("config.json"));
        assertThat(b.rotaryEmbBase()).isEqualTo(500.0); // read from rope_theta
        assertThat(b.rotaryNdims()).isEqualTo(b.headDim());
        assertThat(b.hiddenAct()).isEqualTo("gelu_fast");
        assertThat(b.attentionBias()).isFalse();
    }

    @Test
    void kvCacheDecodingEqualsFullForward() throws Exception {
        Path dir = TestSupport.resource(PYTHIA_LIKE);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m);
                KvCache cache = new KvCache(model.config().numLayers())) {
            Expected e = Expected.read(dir, m);
            NDArray reference = model.forward(e.ids(), e.mask());
            long t = e.ids().getShape().get(1);
            // row 2 is all padding in the prompt (its first real token arrives at position 6, with the cache);
            // padding positions are not compared: a padding query's output is never used
            int prompt = 5;
            NDArray first = model.logits(model.hidden(
                    e.ids().get(new NDIndex(":, :" + prompt)), e.mask().get(new NDIndex(":, :" + prompt)), cache));
            NDArray realMask = e.mask().get(new NDIndex(":, :" + prompt)).toType(DataType.FLOAT32,
                    false).expandDims(-1);
            assertThat(first.sub(reference.get(new NDIndex(":, :" + prompt + ", :"))).mul(realMask).abs().max()
                            .getFloat())
                    .isLessThan(1e-5f);
            for (long i = prompt; i < t; i++) {
                NDIndex col = new NDIndex(":, " + i + ":" + (i + 1));
                NDArray step = model.logits(model.hidden(e.ids().get(col), e.mask().get(col), cache));
                NDArray want = reference.get(new NDIndex(":, " + i + ":" + (i + 1) + ", :"));
                NDArray real = e.mask().get(col).toType(DataType.FLOAT32, false).expandDims(-1);
                assertThat(step.sub(want).mul(real).abs().max().getFloat()).as("position %d", i).isLessThan(1e-5f);
            }
            assertThat(cache.length()).isEqualTo(t);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {PYTHIA_LIKE, SEQUENTIAL})
    void savedAndReloadedModelIsBitIdentical(String fixture, @TempDir Path out) throws Exception {
        Path dir = TestSupport.resource(fixture);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m)) {
            Expected e = Expected.read(dir, m);
            float[] before = model.forward(e.ids(), e.mask()).toFloatArray();
            model.save(out);
            try (CausalLm again = CausalLm.load(out, m);
                    SafeTensors st = SafeTensors.open(out.resolve("model.safetensors"))) {
                assertThat(again).isInstanceOf(GptNeoX.class);
                assertThat(again.config()).isEqualTo(model.config());
                assertThat(again.weights().names()).containsExactlyElementsOf(model.weights().names());
                for (String name : model.weights().names()) {
                    assertThat(again.weights().get(name).toByteArray()).as(name)
                            .isEqualTo(model.weights().get(name).toByteArray());
                }
                assertThat(again.forward(e.ids(), e.mask()).toFloatArray()).containsExactly(before);
                // the legacy buffers of the source file are not written back; a tied model stores no embed_out
                assertThat(st.entries().keySet()).noneMatch(n -> n.endsWith(".attention.bias")
                        || n.endsWith("masked_bias") || n.endsWith("inv_freq"));
                assertThat(st.entries().containsKey(GptNeoX.EMBED_OUT))
                        .isEqualTo(!((GptNeoXConfig) model.config()).tieWordEmbeddings());
            }
            JsonNode saved = Json.MAPPER.readTree(Files.readString(out.resolve("config.json")));
            assertThat(saved.get("model_type").asText()).isEqualTo("gpt_neox");
            assertThat(saved.get("architectures").get(0).asText()).isEqualTo("GPTNeoXForCausalLM");
            assertThat(saved.get("initializer_range").asDouble()).isEqualTo(0.02); // kept extra field
            assertThat(saved.get("rotary_emb_base").asDouble()).isEqualTo(saved.get("rope_theta").asDouble());
        }
    }

    @Test
    void configErrorsNameTheFileFieldAndValue(@TempDir Path tmp) throws Exception {
        ObjectNode good = (ObjectNode) Json.MAPPER.readTree(
                Files.readString(TestSupport.resource(PYTHIA_LIKE).resolve("config.json")));

        Path heads = write(tmp, "heads", good.deepCopy().put("num_attention_heads", 5));
        assertThatThrownBy(() -> ModelConfig.read(heads))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(heads.toString())
                .hasMessageContaining("num_attention_heads")
                .hasMessageContaining("hidden_size=32")
                .hasMessageContaining("5");

        ObjectNode noHidden = good.deepCopy();
        noHidden.remove("hidden_size");
        Path missing = write(tmp, "missing", noHidden);
        try (NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> CausalLm.load(missing.getParent(), m))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("config.json")
                    .hasMessageContaining("missing field 'hidden_size'");
        }

        Path act = write(tmp, "act", good.deepCopy().put("hidden_act", "relu"));
        assertThatThrownBy(() -> ModelConfig.read(act)).hasMessageContaining("hidden_act").hasMessageContaining("relu");

        Path rot = write(tmp, "rot", good.deepCopy().put("rotary_pct", 0.2)); // int(16 * 0.2) = 3, odd
        assertThatThrownBy(() -> ModelConfig.read(rot)).hasMessageContaining("rotary_pct").hasMessageContaining("0.2");

        Path clash = write(tmp, "clash", good.deepCopy().put("rope_theta", 500));
        assertThatThrownBy(() -> ModelConfig.read(clash))
                .hasMessageContaining("'rotary_emb_base'").hasMessageContaining("'rope_theta'");

        ObjectNode scaled = good.deepCopy();
        scaled.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        Path scaling = write(tmp, "scaling", scaled);
        assertThatThrownBy(() -> ModelConfig.read(scaling)).hasMessageContaining("rope_scaling");

        Path wrongType = write(tmp, "type", good.deepCopy().put("hidden_size", "32"));
        assertThatThrownBy(() -> ModelConfig.read(wrongType))
                .hasMessageContaining("field 'hidden_size' must be an integer");

        Path falcon = write(tmp, "falcon", good.deepCopy().put("model_type", "falcon"));
        assertThatThrownBy(() -> ModelConfig.read(falcon))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model_type")
                .hasMessageContaining("falcon")
                .hasMessageContaining("gpt_neox");
        assertThatThrownBy(() -> Gpt2Config.read(TestSupport.resource(PYTHIA_LIKE).resolve("config.json")))
                .hasMessageContaining("'gpt_neox', expected 'gpt2'");
    }

    @Test
    void checkpointErrorsNameTheTensor(@TempDir Path tmp) throws Exception {
        Path dir = TestSupport.copyDir(PYTHIA_LIKE, tmp.resolve("bad"));
        ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(Files.readString(dir.resolve("config.json")));
        Json.write(dir.resolve("config.json"), cfg.put("intermediate_size", 128));
        try (NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> CausalLm.load(dir, m))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("model.safetensors")
                    .hasMessageContaining("gpt_neox.layers.0.mlp.dense_h_to_4h.weight")
                    .hasMessageContaining("(128, 32)");
        }
    }

    private static Path write(Path tmp, String name, JsonNode config) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Path f = d.resolve("config.json");
        Json.write(f, config);
        return f;
    }
}
