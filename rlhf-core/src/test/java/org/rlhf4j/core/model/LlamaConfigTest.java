package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SaveDtype;

/** Reading, defaults, validation and writing of Llama-family {@code config.json} files. */
class LlamaConfigTest {

    @TempDir Path tmp;

    private Path write(String name, String json) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Path f = d.resolve("config.json");
        Files.writeString(f, json);
        return f;
    }

    private Path write(String name, JsonNode json) throws Exception {
        return write(name, Json.MAPPER.writeValueAsString(json));
    }

    private static ObjectNode fixture(String name) throws Exception {
        return (ObjectNode) Json.MAPPER.readTree(Files.readString(
                TestSupport.resource("llama-parity/" + name).resolve("config.json")));
    }

    @Test
    void absentFieldsTakeEachFamilysTransformersDefaults() throws Exception {
        LlamaConfig llama = (LlamaConfig) ModelConfig.read(write("l", "{\"model_type\": \"llama\"}"));
        assertThat(llama.family()).isEqualTo(LlamaFamily.LLAMA);
        assertThat(llama.vocabSize()).isEqualTo(32000);
        assertThat(llama.intermediateSize()).isEqualTo(11008);
        assertThat(llama.numKeyValueHeads()).isEqualTo(32);
        assertThat(llama.headDim()).isEqualTo(128);
        assertThat(llama.maxPositionEmbeddings()).isEqualTo(2048);
        assertThat(llama.rmsNormEps()).isEqualTo(1e-6);
        assertThat(llama.ropeTheta()).isEqualTo(10000);
        assertThat(llama.ropeScaling()).isEqualTo(new RopeScaling.Default());
        assertThat(llama.bosTokenId()).isEqualTo(1);
        assertThat(llama.eosTokenId()).isEqualTo(2);
        assertThat(llama.pad()).isEmpty();
        assertThat(llama.window(5)).isEmpty();

        LlamaConfig mistral = (LlamaConfig) ModelConfig.read(write("m", "{\"model_type\": \"mistral\"}"));
        assertThat(mistral.numKeyValueHeads()).isEqualTo(8);
        assertThat(mistral.intermediateSize()).isEqualTo(14336);
        assertThat(mistral.maxPositionEmbeddings()).isEqualTo(131072);
        assertThat(mistral.window(0)).hasValue(4096);
        // null (not absent) means "as many as the query heads" in every __post_init__
        LlamaConfig mistralNull = LlamaConfig.read(write("mn",
                "{\"model_type\": \"mistral\", \"num_key_value_heads\": null, \"sliding_window\": null}"));
        assertThat(mistralNull.numKeyValueHeads()).isEqualTo(32);
        assertThat(mistralNull.window(0)).isEmpty();

        LlamaConfig qwen3 = (LlamaConfig) ModelConfig.read(write("q3", "{\"model_type\": \"qwen3\"}"));
        assertThat(qwen3.headDim()).isEqualTo(128);
        assertThat(qwen3.vocabSize()).isEqualTo(151936);
        assertThat(qwen3.maxPositionEmbeddings()).isEqualTo(32768);
        assertThat(qwen3.window(31)).isEmpty(); // use_sliding_window defaults to false
        assertThat(qwen3.eosTokenIds()).isEmpty();
        assertThatThrownBy(qwen3::eosTokenId).hasMessageContaining("eos_token_id");
        assertThatThrownBy(qwen3::bosTokenId).hasMessageContaining("bos_token_id");

        LlamaConfig qwen2 = LlamaConfig.read(write("q2", "{\"model_type\": \"qwen2\", \"hidden_size\": 64, "
                + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"num_hidden_layers\": 30, "
                + "\"use_sliding_window\": true}"));
        assertThat(qwen2.headDim()).isEqualTo(16);
        assertThat(qwen2.qkvBias()).isTrue();
        assertThat(qwen2.outputBias()).isFalse();
        assertThat(qwen2.window(27)).isEmpty(); // below max_window_layers = 28
        assertThat(qwen2.window(28)).hasValue(4096);
    }

    /**
     * Published checkpoints' {@code config.json} files (test resources {@code llama-configs/}) read with the values
     * transformers 5.18 derives from them; parameter counts are transformers' ({@code from_config} on the meta device,
     * tied weights counted once), and the shapes rlhf4j would load add up to them.
     */
    @ParameterizedTest
    @CsvSource({
        "tinyllama-1.1b, 1100048384, 64, 4, default, 0",
        "smollm2-135m, 134515008, 64, 3, default, 0",
        "llama-3.2-1b, 1235814400, 64, 8, llama3, 0",
        "mistral-7b-v0.1, 7241732096, 128, 8, default, 4096",
        "qwen2.5-0.5b, 494032768, 64, 2, default, 0",
        "qwen3-0.6b, 596049920, 128, 8, default, 0"})
    void publishedConfigsReadAsTransformersReadsThem(String name, long params, int headDim, int kvHeads,
            String rope, int window) throws Exception {
        LlamaConfig c = (LlamaConfig) ModelConfig.read(
                TestSupport.resource("llama-configs/" + name + ".json"));
        assertThat(c.parameterCount()).isEqualTo(params);
        assertThat(Llama.expectedShapes(c).values().stream().mapToLong(ai.djl.ndarray.types.Shape::size).sum()
                + (c.tieWordEmbeddings() ? 0 : (long) c.vocabSize() * c.hiddenSize())).isEqualTo(params);
        assertThat(c.headDim()).isEqualTo(headDim);
        assertThat(c.numKeyValueHeads()).isEqualTo(kvHeads);
        assertThat(c.ropeScaling().type()).isEqualTo(rope);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            assertThat(c.window(l).orElse(0)).isEqualTo(window);
        }
        // the weights' dtype is not a model field: dropped on read, written by each save for its dtype
        assertThat(c.extra()).doesNotContainKeys("torch_dtype", "dtype");
        assertThat(ModelFiles.configJson(c, SaveDtype.FP32).get("torch_dtype").asText()).isEqualTo("float32");
        assertThat(LlamaConfig.read(write(name, c.toJson())).withExtra(Map.of())).isEqualTo(c.withExtra(Map.of()));
    }

    @Test
    void eosMayBeAnIntegerAListOrNull() throws Exception {
        LlamaConfig list = LlamaConfig.read(write("a",
                "{\"model_type\": \"llama\", \"eos_token_id\": [128001, 128008, 128009], \"vocab_size\": 128256}"));
        assertThat(list.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(list.eosTokenId()).isEqualTo(128001);
        assertThat(list.toJson().get("eos_token_id").size()).isEqualTo(3);
        LlamaConfig one = LlamaConfig.read(write("b", "{\"model_type\": \"llama\", \"eos_token_id\": 7}"));
        assertThat(one.eosTokenIds()).containsExactly(7);
        assertThat(one.toJson().get("eos_token_id").asInt()).isEqualTo(7);
        LlamaConfig none = LlamaConfig.read(write("c", "{\"model_type\": \"llama\", \"eos_token_id\": null}"));
        assertThat(none.eosTokenIds()).isEmpty();
        assertThat(none.toJson().get("eos_token_id").isNull()).isTrue();
        Path bad = write("d", "{\"model_type\": \"llama\", \"eos_token_id\": [2, \"x\"]}");
        assertThatThrownBy(() -> LlamaConfig.read(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(bad.toString()).hasMessageContaining("eos_token_id");
        Path outside = write("e", "{\"model_type\": \"llama\", \"vocab_size\": 10, \"eos_token_id\": [2, 12]}");
        assertThatThrownBy(() -> LlamaConfig.read(outside)).hasMessageContaining("eos_token_id (vocab_size=10)")
                .hasMessageContaining("12");
    }

    @Test
    void ropeSettingsAreReadFromEveryLayoutTransformersWrites() throws Exception {
        // legacy: rope_scaling with "type", rope_theta at the top level
        LlamaConfig legacy = LlamaConfig.read(write("a", "{\"model_type\": \"llama\", \"rope_theta\": 500000.0, "
                + "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}}"));
        assertThat(legacy.ropeTheta()).isEqualTo(500000.0);
        assertThat(legacy.ropeScaling()).isEqualTo(new RopeScaling.Linear(4.0));
        // Llama 3.1 on transformers 4.x: rope_scaling with "rope_type"
        LlamaConfig llama31 = LlamaConfig.read(write("b", "{\"model_type\": \"llama\", \"rope_theta\": 500000.0, "
                + "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                + "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}}"));
        assertThat(llama31.ropeScaling()).isEqualTo(new RopeScaling.Llama3(8.0, 1.0, 4.0, 8192));
        // transformers 5: rope_parameters with rope_theta inside; "default" is plain RoPE
        LlamaConfig v5 = LlamaConfig.read(TestSupport.resource("llama-parity/llama-gqa").resolve("config.json"));
        assertThat(v5.ropeTheta()).isEqualTo(500.0);
        assertThat(v5.ropeScaling()).isEqualTo(new RopeScaling.Default());
        // llama3 without original_max_position_embeddings takes max_position_embeddings (standardize_rope_params)
        LlamaConfig implicit = LlamaConfig.read(write("c", "{\"model_type\": \"llama\", "
                + "\"max_position_embeddings\": 4096, \"rope_parameters\": {\"rope_type\": \"llama3\", "
                + "\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"rope_theta\": 10.0}}"));
        assertThat(implicit.ropeScaling()).isEqualTo(new RopeScaling.Llama3(8.0, 1.0, 4.0, 4096));
        assertThat(implicit.ropeTheta()).isEqualTo(10.0);
        // written under both names, read back equal
        ObjectNode out = llama31.toJson();
        assertThat(out.get("rope_scaling").get("rope_type").asText()).isEqualTo("llama3");
        assertThat(out.get("rope_parameters").get("rope_theta").asDouble()).isEqualTo(500000.0);
        // (architectures, written by default, comes back among the extra fields)
        assertThat(LlamaConfig.read(write("d", out)).withExtra(Map.of())).isEqualTo(llama31);
        assertThat(v5.toJson().get("rope_scaling").isNull()).isTrue();
    }

    @Test
    void unsupportedSettingsAreRejectedNamingFileFieldAndValue() throws Exception {
        Path yarn = write("yarn", "{\"model_type\": \"qwen2\", \"rope_scaling\": {\"type\": \"yarn\", "
                + "\"factor\": 4.0, \"original_max_position_embeddings\": 32768}}");
        assertThatThrownBy(() -> ModelConfig.read(yarn)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(yarn.toString()).hasMessageContaining("'rope_scaling.rope_type'")
                .hasMessageContaining("'yarn'").hasMessageContaining("default, linear, dynamic, llama3");
        Path longrope = write("lr", "{\"model_type\": \"llama\", \"rope_parameters\": {\"rope_type\": \"longrope\"}}");
        assertThatThrownBy(() -> ModelConfig.read(longrope)).hasMessageContaining("'rope_parameters.rope_type'")
                .hasMessageContaining("'longrope'");
        Path act = write("act", "{\"model_type\": \"mistral\", \"hidden_act\": \"gelu\"}");
        assertThatThrownBy(() -> ModelConfig.read(act)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(act.toString()).hasMessageContaining("hidden_act").hasMessageContaining("gelu");
        Path noFactor = write("nf", "{\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"dynamic\"}}");
        assertThatThrownBy(() -> ModelConfig.read(noFactor)).hasMessageContaining("'rope_scaling'")
                .hasMessageContaining("'factor'");
        Path partial = write("pr", "{\"model_type\": \"llama\", \"partial_rotary_factor\": 0.5}");
        assertThatThrownBy(() -> ModelConfig.read(partial)).hasMessageContaining("partial_rotary_factor")
                .hasMessageContaining("0.5");
        Path thetas = write("th", "{\"model_type\": \"llama\", \"rope_theta\": 5.0, "
                + "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 6.0}}");
        assertThatThrownBy(() -> ModelConfig.read(thetas)).hasMessageContaining("'rope_theta'")
                .hasMessageContaining("'rope_parameters.rope_theta'");
        Path kv = write("kv", "{\"model_type\": \"llama\", \"num_attention_heads\": 8, \"num_key_value_heads\": 3}");
        assertThatThrownBy(() -> ModelConfig.read(kv)).hasMessageContaining("num_key_value_heads")
                .hasMessageContaining("3");
        Path heads = write("h", "{\"model_type\": \"llama\", \"hidden_size\": 30, \"num_attention_heads\": 4, "
                + "\"head_dim\": 8}");
        assertThatThrownBy(() -> ModelConfig.read(heads)).hasMessageContaining("num_attention_heads")
                .hasMessageContaining("hidden_size=30");
        Path layers = write("lt", "{\"model_type\": \"qwen2\", \"num_hidden_layers\": 2, "
                + "\"layer_types\": [\"full_attention\"]}");
        assertThatThrownBy(() -> ModelConfig.read(layers)).hasMessageContaining("layer_types");
        Path pad = write("pad", "{\"model_type\": \"llama\", \"pad_token_id\": 32000}");
        assertThatThrownBy(() -> ModelConfig.read(pad)).hasMessageContaining(pad.toString())
                .hasMessageContaining("pad_token_id (vocab_size=32000): 32000");
        Path type = write("ty", "{\"model_type\": \"llama\", \"hidden_size\": \"32\"}");
        assertThatThrownBy(() -> ModelConfig.read(type)).hasMessageContaining("field 'hidden_size' must be an integer");
        assertThatThrownBy(() -> LlamaConfig.read(
                TestSupport.resource("parity/gpt-neox-tiny").resolve("config.json")))
                .hasMessageContaining("'gpt_neox'");
    }

    @Test
    void roundTripKeepsUnknownFieldsAndFieldsOfOtherFamilies() throws Exception {
        ObjectNode src = fixture("qwen2");
        src.putObject("quantization_hint").put("bits", 4);
        src.put("mlp_bias", false); // a llama field: kept as it is, not interpreted
        Path f = write("rt", src);
        LlamaConfig c = LlamaConfig.read(f);
        assertThat(c.extra()).containsKeys("quantization_hint", "mlp_bias", "use_cache", "transformers_version")
                .doesNotContainKey("dtype");
        Path again = tmp.resolve("again.json");
        ModelFiles.writeConfig(again, c, SaveDtype.BF16);
        JsonNode written = Json.MAPPER.readTree(Files.readString(again));
        assertThat(written.get("quantization_hint").get("bits").asInt()).isEqualTo(4);
        assertThat(written.get("layer_types")).isEqualTo(src.get("layer_types"));
        assertThat(written.get("dtype").asText()).isEqualTo("bfloat16");
        assertThat(LlamaConfig.read(again)).isEqualTo(c);
        // every field transformers wrote comes back (values equal, numbers compared as numbers)
        src.fieldNames().forEachRemaining(name -> assertThat(written.has(name)).as(name).isTrue());
    }

    @Test
    void inverseFrequenciesMatchTransformers() {
        // HF _compute_llama3_parameters(head_dim 8, theta 10000, factor 8, low 1, high 4, original 100):
        // wavelengths 6.3 (kept), 62.8 (medium: blended), 628 and 6283 (divided by 8)
        double[] llama3 = new RopeScaling.Llama3(8, 1, 4, 100).inverseFrequencies(10000, 8, 200, 1);
        assertThat(llama3).containsExactly(new double[] {1.0, 0.02975352481007576, 0.00125, 0.000125},
                within(1e-8));
        // HF _compute_dynamic_ntk_parameters(seq_len 32, max_position_embeddings 16, factor 2, head_dim 8)
        double[] dyn = new RopeScaling.Dynamic(2).inverseFrequencies(10000, 8, 16, 32);
        assertThat(dyn).containsExactly(new double[] {1.0, 0.06933612376451492, 0.0048074983060359955,
                0.00033333332976326346}, within(1e-8));
        // at or below the original context dynamic is the default; linear divides by the factor
        assertThat(new RopeScaling.Dynamic(2).inverseFrequencies(10000, 4, 16, 16))
                .containsExactly(new double[] {1.0, 0.01}, within(1e-12));
        assertThat(new RopeScaling.Linear(2).inverseFrequencies(10000, 4, 16, 1))
                .containsExactly(new double[] {0.5, 0.005}, within(1e-12));
    }
}
