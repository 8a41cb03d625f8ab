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
 * A GPT-NeoX configuration mirroring Hugging Face {@code config.json} ({@code model_type: "gpt_neox"}), the
 * architecture of EleutherAI's Pythia suite.
 *
 * <p>Fields rlhf4j does not model (e.g. {@code architectures}, {@code initializer_range}, {@code use_cache}) are kept
 * in {@link #extra()} and written back unchanged. The rotary settings are accepted under both their original names
 * ({@code rotary_pct}, {@code rotary_emb_base}) and the newer {@code transformers} names ({@code partial_rotary_factor},
 * {@code rope_theta}), and written under both, so old and new {@code transformers} versions read the same values.
 *
 * @param vocabSize {@code vocab_size}, V (Pythia: 50304, padded beyond the tokenizer's 50277 tokens)
 * @param maxPositionEmbeddings {@code max_position_embeddings}, the maximum sequence length
 * @param hiddenSize {@code hidden_size}, d_model
 * @param numHiddenLayers {@code num_hidden_layers}, number of transformer blocks
 * @param numAttentionHeads {@code num_attention_heads}; must divide {@code hidden_size}
 * @param intermediateSize {@code intermediate_size}, the MLP width
 * @param hiddenAct {@code hidden_act}: {@code gelu} (exact, erf) or a tanh approximation ({@code gelu_new},
 *     {@code gelu_fast}, {@code gelu_pytorch_tanh})
 * @param rotaryPct {@code rotary_pct}, the fraction of each head's dimensions that get rotary embeddings (HF default
 *     0.25)
 * @param rotaryEmbBase {@code rotary_emb_base} (alias {@code rope_theta}), the rotary frequency base (HF default
 *     10000)
 * @param layerNormEps {@code layer_norm_eps} (HF default 1e-5)
 * @param useParallelResidual {@code use_parallel_residual}: x + attn(ln₁ x) + mlp(ln₂ x) when true (HF default),
 *     sequential residuals when false
 * @param tieWordEmbeddings {@code tie_word_embeddings}: whether the output projection is {@code embed_in} (HF default
 *     false: a separate {@code embed_out})
 * @param attentionBias {@code attention_bias}: whether {@code query_key_value} and {@code dense} have biases (HF
 *     default true)
 * @param bosTokenId {@code bos_token_id}
 * @param eosTokenId {@code eos_token_id}
 * @param extra the other fields of the file, kept for round trips
 */
public record GptNeoXConfig(
        int vocabSize,
        int maxPositionEmbeddings,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        double rotaryPct,
        double rotaryEmbBase,
        double layerNormEps,
        boolean useParallelResidual,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        int bosTokenId,
        int eosTokenId,
        Map<String, JsonNode> extra)
        implements ModelConfig {

    /** The {@code model_type} of GPT-NeoX configs. */
    public static final String MODEL_TYPE = "gpt_neox";

    /** The Pythia vocabulary size (the GPT-NeoX-20B tokenizer's 50,277 tokens padded to a multiple of 128). */
    public static final int PYTHIA_VOCAB = 50304;

    /** The Pythia {@code <|endoftext|>} id (also its BOS). */
    public static final int PYTHIA_EOS = 0;

    /** The supported {@code hidden_act} values: exact GELU and its tanh approximations. */
    public static final Set<String> ACTIVATIONS = Set.of("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh");

    /** Validates the configuration; messages name the {@code config.json} field and the bad value. */
    public GptNeoXConfig {
        ConfigFields.check(vocabSize > 0, "vocab_size", vocabSize);
        ConfigFields.check(maxPositionEmbeddings > 0, "max_position_embeddings", maxPositionEmbeddings);
        ConfigFields.check(hiddenSize > 0, "hidden_size", hiddenSize);
        ConfigFields.check(numHiddenLayers > 0, "num_hidden_layers", numHiddenLayers);
        ConfigFields.check(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0,
                "num_attention_heads (must divide hidden_size=" + hiddenSize + ")", numAttentionHeads);
        ConfigFields.check(intermediateSize > 0, "intermediate_size", intermediateSize);
        if (hiddenAct == null || !ACTIVATIONS.contains(hiddenAct)) {
            throw new IllegalArgumentException(
                    "invalid hidden_act: " + hiddenAct + " (supported: gelu, gelu_new, gelu_fast, gelu_pytorch_tanh)");
        }
        ConfigFields.check(rotaryPct >= 0 && rotaryPct <= 1, "rotary_pct (must be in [0, 1])", rotaryPct);
        int headDim = hiddenSize / numAttentionHeads;
        int rotaryNdims = (int) (headDim * rotaryPct);
        ConfigFields.check(rotaryNdims % 2 == 0,
                "rotary_pct (int(head_dim=" + headDim + " * rotary_pct) = " + rotaryNdims + " must be even)",
                rotaryPct);
        ConfigFields.check(rotaryEmbBase > 0 && Double.isFinite(rotaryEmbBase), "rotary_emb_base", rotaryEmbBase);
        ConfigFields.check(layerNormEps > 0, "layer_norm_eps", layerNormEps);
        ConfigFields.checkTokenIds(bosTokenId, eosTokenId, vocabSize);
        extra = Map.copyOf(extra);
    }


    /**
     * Returns a from-scratch config with Pythia's defaults for everything but the sizes.
     *
     * @param vocabSize V
     * @param maxPositions maximum sequence length
     * @param hiddenSize d_model
     * @param numLayers blocks
     * @param numHeads heads
     * @return the config (intermediate size 4·d, exact {@code gelu}, rotary_pct 0.25, base 10000, eps 1e-5, parallel
     *     residual, untied output, attention biases, bos = eos = 0)
     */
    public static GptNeoXConfig of(int vocabSize, int maxPositions, int hiddenSize, int numLayers, int numHeads) {
        return new GptNeoXConfig(
                vocabSize, maxPositions, hiddenSize, numLayers, numHeads, 4 * hiddenSize, "gelu", 0.25, 10000, 1e-5,
                true, false, true, PYTHIA_EOS, PYTHIA_EOS, Map.of());
    }

    /**
     * Pythia-70M ({@code EleutherAI/pythia-70m-deduped}): V=50304, 2048 positions, d=512, 6 layers, 8 heads.
     *
     * @return the config
     */
    public static GptNeoXConfig pythia70m() {
        return of(PYTHIA_VOCAB, 2048, 512, 6, 8);
    }

    /**
     * Returns the size of one attention head, {@code hidden_size / num_attention_heads}.
     *
     * @return d_head
     */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Returns the number of leading dimensions of each head that get rotary embeddings, {@code int(d_head ·
     * rotary_pct)} as in HF.
     *
     * @return rotary_ndims (even, possibly 0)
     */
    public int rotaryNdims() {
        return (int) (headDim() * rotaryPct);
    }

    /** {@inheritDoc} */
    @Override
    public String modelType() {
        return MODEL_TYPE;
    }

    /**
     * Returns {@code max_position_embeddings}.
     *
     * @return the maximum sequence length
     */
    @Override
    public int maxPositions() {
        return maxPositionEmbeddings;
    }

    /** {@inheritDoc} */
    @Override
    public String maxPositionsField() {
        return "max_position_embeddings";
    }

    /**
     * Returns {@code num_hidden_layers}.
     *
     * @return the number of blocks
     */
    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    /**
     * Returns a copy with other extra fields (e.g. {@code architectures} of a scalar-head model).
     *
     * @param newExtra the extra fields
     * @return the copy
     */
    @Override
    public GptNeoXConfig withExtra(Map<String, JsonNode> newExtra) {
        return new GptNeoXConfig(
                vocabSize, maxPositionEmbeddings, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize,
                hiddenAct, rotaryPct, rotaryEmbBase, layerNormEps, useParallelResidual, tieWordEmbeddings,
                attentionBias, bosTokenId, eosTokenId, newExtra);
    }

    /**
     * Returns the number of parameters of the transformer and its output projection (no scalar head).
     *
     * @return parameter count
     */
    public long parameterCount() {
        long d = hiddenSize;
        long f = intermediateSize;
        long attnBias = attentionBias ? 4 * d : 0;
        long perBlock = 4 * d + 3 * d * d + d * d + attnBias + (d * f + f) + (f * d + d);
        long embeddings = (long) vocabSize * d * (tieWordEmbeddings ? 1 : 2);
        return embeddings + numHiddenLayers * perBlock + 2 * d;
    }

    /**
     * Reads a GPT-NeoX {@code config.json}; {@link ModelConfig#read} reads any supported architecture.
     *
     * @param file the file
     * @return the config
     * @throws ModelFormatException when the file is missing, is not JSON, is not a GPT-NeoX config, lacks a field or
     *     has an invalid value; the message names the file and the field
     */
    public static GptNeoXConfig read(Path file) throws ModelFormatException {
        return fromJson(file, ConfigFields.readObjectOfType(file, MODEL_TYPE, ""));
    }

    /**
     * Builds a config from a parsed {@code config.json} object whose {@code model_type} is {@code gpt_neox}.
     *
     * @param file the file, for messages
     * @param root the object
     * @return the config
     * @throws ModelFormatException when a field is missing or invalid, or the file asks for something rlhf4j does not
     *     implement (RoPE scaling)
     */
    static GptNeoXConfig fromJson(Path file, JsonNode root) throws ModelFormatException {
        JsonNode scaling = root.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new ModelFormatException(file, "field 'rope_scaling' is " + scaling + "; RoPE scaling is not supported");
        }
        JsonNode ropeParams = root.path("rope_parameters");
        if (ropeParams.isObject()) {
            String ropeType = ropeParams.path("rope_type").asText("default");
            if (!"default".equals(ropeType)) {
                throw new ModelFormatException(
                        file, "field 'rope_parameters.rope_type' is '" + ropeType + "'; only 'default' is supported");
            }
        }
        try {
            double rotaryPct = aliased(file, root, "rotary_pct", "partial_rotary_factor",
                    ropeParams.path("partial_rotary_factor").asDouble(0.25));
            double base = aliased(file, root, "rotary_emb_base", "rope_theta",
                    ropeParams.path("rope_theta").asDouble(10000));
            Map<String, JsonNode> extra = ConfigFields.unknownFields(root, KNOWN);
            return new GptNeoXConfig(
                    ConfigFields.intField(file, root, "vocab_size", null),
                    ConfigFields.intField(file, root, "max_position_embeddings", null),
                    ConfigFields.intField(file, root, "hidden_size", null),
                    ConfigFields.intField(file, root, "num_hidden_layers", null),
                    ConfigFields.intField(file, root, "num_attention_heads", null),
                    ConfigFields.intField(file, root, "intermediate_size", null),
                    ConfigFields.stringField(file, root, "hidden_act", "gelu"),
                    rotaryPct,
                    base,
                    ConfigFields.doubleField(file, root, "layer_norm_eps", 1e-5),
                    ConfigFields.booleanField(file, root, "use_parallel_residual", true),
                    ConfigFields.booleanField(file, root, "tie_word_embeddings", false),
                    ConfigFields.booleanField(file, root, "attention_bias", true),
                    ConfigFields.intField(file, root, "bos_token_id", 0),
                    ConfigFields.intField(file, root, "eos_token_id", 2),
                    extra);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    /** Reads a number stored under an old and a new name; both present with different values is an error. */
    private static double aliased(Path file, JsonNode root, String name, String alias, double dflt)
            throws ModelFormatException {
        double a = ConfigFields.doubleField(file, root, name, Double.NaN);
        double b = ConfigFields.doubleField(file, root, alias, Double.NaN);
        if (!Double.isNaN(a) && !Double.isNaN(b) && a != b) {
            throw new ModelFormatException(
                    file, "fields '" + name + "' (" + a + ") and '" + alias + "' (" + b + ") disagree");
        }
        return !Double.isNaN(a) ? a : !Double.isNaN(b) ? b : dflt;
    }

    /**
     * Fields read into the record or rewritten on save. {@code torch_dtype} is not kept: rlhf4j always writes
     * float32 weights, so it writes {@code "float32"}.
     */
    private static final Set<String> KNOWN = Set.of(
            "model_type", "vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "hidden_act", "rotary_pct", "partial_rotary_factor",
            "rotary_emb_base", "rope_theta", "layer_norm_eps", "use_parallel_residual", "tie_word_embeddings",
            "attention_bias", "bos_token_id", "eos_token_id", "torch_dtype", "attention_dropout", "hidden_dropout");

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
     * Returns the JSON object that {@link #write(Path)} writes. Dropout is written as 0 (rlhf4j never applies it) and
     * {@code torch_dtype} as {@code float32} (the dtype rlhf4j saves).
     *
     * @return the object
     */
    @Override
    public ObjectNode toJson() {
        ObjectNode o = ConfigFields.header(MODEL_TYPE, "GPTNeoXForCausalLM", extra);
        o.put("vocab_size", vocabSize);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("intermediate_size", intermediateSize);
        o.put("hidden_act", hiddenAct);
        o.put("rotary_pct", rotaryPct);
        o.put("partial_rotary_factor", rotaryPct);
        o.put("rotary_emb_base", rotaryEmbBase);
        o.put("rope_theta", rotaryEmbBase);
        o.put("layer_norm_eps", layerNormEps);
        o.put("use_parallel_residual", useParallelResidual);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("attention_bias", attentionBias);
        o.put("bos_token_id", bosTokenId);
        o.put("eos_token_id", eosTokenId);
        o.put("attention_dropout", 0.0);
        o.put("hidden_dropout", 0.0);
        o.put("torch_dtype", "float32");
        return ConfigFields.appendExtra(o, extra);
    }
}
