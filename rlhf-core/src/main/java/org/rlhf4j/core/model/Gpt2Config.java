package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * A GPT-2 configuration mirroring Hugging Face {@code config.json} ({@code model_type: "gpt2"}).
 *
 * <p>Fields rlhf4j does not model (e.g. {@code architectures}, {@code task_specific_params}) are kept in
 * {@link #extra()} and written back unchanged, so a loaded and re-saved config stays loadable by
 * {@code transformers}.
 *
 * @param vocabSize {@code vocab_size}, V
 * @param nPositions {@code n_positions}, the maximum sequence length
 * @param nEmbd {@code n_embd}, d_model
 * @param nLayer {@code n_layer}, number of transformer blocks
 * @param nHead {@code n_head}, attention heads; must divide {@code nEmbd}
 * @param nInner {@code n_inner}, MLP width (HF default {@code 4 * n_embd} when null)
 * @param layerNormEpsilon {@code layer_norm_epsilon} (HF default 1e-5)
 * @param activationFunction {@code activation_function}; only {@code gelu_new} (tanh approximation) and
 *     {@code gelu} are supported
 * @param bosTokenId {@code bos_token_id}
 * @param eosTokenId {@code eos_token_id}
 * @param extra the other fields of the file, kept for round trips
 */
public record Gpt2Config(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        int nInner,
        double layerNormEpsilon,
        String activationFunction,
        int bosTokenId,
        int eosTokenId,
        Map<String, JsonNode> extra)
        implements ModelConfig {

    /** The {@code model_type} of GPT-2 configs. */
    public static final String MODEL_TYPE = "gpt2";

    /** GPT-2's vocabulary size (50,257 byte-level BPE tokens). */
    public static final int GPT2_VOCAB = 50257;

    /** GPT-2's {@code <|endoftext|>} id. */
    public static final int GPT2_EOS = 50256;

    /** Validates the configuration. */
    public Gpt2Config {
        ConfigFields.check(vocabSize > 0, "vocab_size", vocabSize);
        ConfigFields.check(nPositions > 0, "n_positions", nPositions);
        ConfigFields.check(nEmbd > 0, "n_embd", nEmbd);
        ConfigFields.check(nLayer > 0, "n_layer", nLayer);
        ConfigFields.check(nHead > 0 && nEmbd % nHead == 0, "n_head (must divide n_embd=" + nEmbd + ")", nHead);
        ConfigFields.check(nInner > 0, "n_inner", nInner);
        ConfigFields.check(layerNormEpsilon > 0, "layer_norm_epsilon", layerNormEpsilon);
        if (!"gelu_new".equals(activationFunction) && !"gelu".equals(activationFunction)
                && !"gelu_pytorch_tanh".equals(activationFunction)) {
            throw new IllegalArgumentException(
                    "activation_function must be gelu_new, gelu_pytorch_tanh or gelu, got " + activationFunction);
        }
        ConfigFields.checkTokenIds(bosTokenId, eosTokenId, vocabSize);
        extra = Map.copyOf(extra);
    }


    /**
     * Returns a builder-style starting point: a from-scratch config with GPT-2 defaults for everything but the
     * sizes.
     *
     * @param vocabSize V
     * @param nPositions maximum sequence length
     * @param nEmbd d_model
     * @param nLayer blocks
     * @param nHead heads
     * @return the config ({@code gelu_new}, eps 1e-5, n_inner = 4·d, eos = bos = V−1)
     */
    public static Gpt2Config of(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead) {
        return new Gpt2Config(
                vocabSize, nPositions, nEmbd, nLayer, nHead, 4 * nEmbd, 1e-5, "gelu_new", vocabSize - 1,
                vocabSize - 1, Map.of());
    }

    /**
     * GPT-2 small (124M): V=50257, 1024 positions, d=768, 12 layers, 12 heads.
     *
     * @return the config
     */
    public static Gpt2Config gpt2Small() {
        return of(GPT2_VOCAB, 1024, 768, 12, 12);
    }

    /**
     * Returns the size of one attention head, {@code n_embd / n_head}.
     *
     * @return d_head
     */
    public int headDim() {
        return nEmbd / nHead;
    }

    /** {@inheritDoc} */
    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    /**
     * Returns {@code n_positions}.
     *
     * @return the maximum sequence length
     */
    @Override
    public int maxPositions() {
        return nPositions;
    }

    /** {@inheritDoc} */
    @Override
    public String maxPositionsField() {
        return "n_positions";
    }

    /**
     * Returns {@code n_embd}.
     *
     * @return d_model
     */
    @Override
    public int hiddenSize() {
        return nEmbd;
    }

    /**
     * Returns {@code n_layer}.
     *
     * @return the number of blocks
     */
    @Override
    public int numLayers() {
        return nLayer;
    }

    /**
     * Returns a copy with other extra fields (e.g. {@code architectures} of a scalar-head model).
     *
     * @param newExtra the extra fields
     * @return the copy
     */
    @Override
    public Gpt2Config withExtra(Map<String, JsonNode> newExtra) {
        return new Gpt2Config(
                vocabSize, nPositions, nEmbd, nLayer, nHead, nInner, layerNormEpsilon, activationFunction, bosTokenId,
                eosTokenId, newExtra);
    }

    /**
     * Returns the number of parameters of the transformer and tied LM head (no scalar head).
     *
     * @return parameter count
     */
    public long parameterCount() {
        long d = nEmbd;
        long perBlock = 2 * (2 * d) + (d * 3 * d + 3 * d) + (d * d + d) + (d * nInner + nInner) + (nInner * d + d);
        return (long) vocabSize * d + (long) nPositions * d + nLayer * perBlock + 2 * d;
    }

    /**
     * Reads a GPT-2 {@code config.json}; {@link ModelConfig#read} reads any supported architecture.
     *
     * @param file the file
     * @return the config
     * @throws ModelFormatException when the file is missing, is not JSON, is not a GPT-2 config, lacks a field or
     *     has an invalid value
     */
    public static Gpt2Config read(Path file) throws ModelFormatException {
        return fromJson(file, ConfigFields.readObjectOfType(file, MODEL_TYPE, MODEL_TYPE));
    }

    /**
     * Builds a config from a parsed {@code config.json} object whose {@code model_type} is {@code gpt2} or absent.
     *
     * @param file the file, for messages
     * @param root the object
     * @return the config
     * @throws ModelFormatException when a field is missing or invalid
     */
    static Gpt2Config fromJson(Path file, JsonNode root) throws ModelFormatException {
        try {
            int nEmbd = ConfigFields.intField(file, root, "n_embd", null);
            JsonNode inner = root.get("n_inner");
            int nInner = inner == null || inner.isNull() ? 4 * nEmbd : ConfigFields.intField(file, root, "n_inner", null);
            int vocab = ConfigFields.intField(file, root, "vocab_size", null);
            Map<String, JsonNode> extra = ConfigFields.unknownFields(root, KNOWN);
            return new Gpt2Config(
                    vocab,
                    ConfigFields.intField(file, root, "n_positions", null),
                    nEmbd,
                    ConfigFields.intField(file, root, "n_layer", null),
                    ConfigFields.intField(file, root, "n_head", null),
                    nInner,
                    root.path("layer_norm_epsilon").asDouble(1e-5),
                    root.path("activation_function").asText("gelu_new"),
                    ConfigFields.intField(file, root, "bos_token_id", vocab - 1),
                    ConfigFields.intField(file, root, "eos_token_id", vocab - 1),
                    extra);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    private static final Set<String> KNOWN = Set.of("vocab_size", "n_positions", "n_embd", "n_layer", "n_head",
            "n_inner", "layer_norm_epsilon", "activation_function", "bos_token_id", "eos_token_id");

    /**
     * Writes {@code config.json} in Hugging Face layout (known fields, then the kept extra fields).
     *
     * @param file the target
     * @throws IOException on write failure
     */
    @Override
    public void write(Path file) throws IOException {
        Json.write(file, toJson());
    }

    /**
     * Returns the JSON object that {@link #write(Path)} writes.
     *
     * @return the object
     */
    @Override
    public ObjectNode toJson() {
        ObjectNode o = ConfigFields.header(MODEL_TYPE, "GPT2LMHeadModel", extra);
        o.put("vocab_size", vocabSize);
        o.put("n_positions", nPositions);
        o.put("n_ctx", nPositions);
        o.put("n_embd", nEmbd);
        o.put("n_layer", nLayer);
        o.put("n_head", nHead);
        o.put("n_inner", nInner);
        o.put("layer_norm_epsilon", layerNormEpsilon);
        o.put("activation_function", activationFunction);
        o.put("bos_token_id", bosTokenId);
        o.put("eos_token_id", eosTokenId);
        o.put("resid_pdrop", 0.0);
        o.put("embd_pdrop", 0.0);
        o.put("attn_pdrop", 0.0);
        o.put("tie_word_embeddings", true);
        return ConfigFields.appendExtra(o, extra);
    }
}
