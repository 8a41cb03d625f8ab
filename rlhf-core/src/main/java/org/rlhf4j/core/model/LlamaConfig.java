package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * A Llama-family configuration mirroring Hugging Face {@code config.json} for {@code model_type} {@code llama}
 * (Llama 2/3, TinyLlama, SmolLM2), {@code mistral}, {@code qwen2} and {@code qwen3}; see {@link LlamaFamily} for how
 * the families differ. Absent fields take the defaults of the family's {@code transformers} config class
 * ({@code LlamaConfig}, {@code MistralConfig}, {@code Qwen2Config}, {@code Qwen3Config}, transformers 5.18).
 *
 * <p>Rotary settings are read from {@code rope_scaling} (older files; the type under {@code rope_type} or the legacy
 * {@code type}) or {@code rope_parameters} (transformers 5), with {@code rope_theta} at the top level or inside the
 * object; {@link #write} writes {@code rope_theta}, {@code rope_scaling} and {@code rope_parameters} so old and new
 * {@code transformers} versions read the same values. Rope types other than {@code default}, {@code linear},
 * {@code dynamic} and {@code llama3}, partial rotary and activations other than {@code silu} are rejected.
 *
 * <p>Fields rlhf4j does not model (e.g. {@code use_cache}, {@code pretraining_tp}, {@code transformers_version}) are
 * kept in {@link #extra()} and written back unchanged; {@code torch_dtype} / {@code dtype} describe the stored weights
 * and are dropped on read, each save writes them for its dtype ({@link ModelFiles}).
 *
 * @param family the {@code model_type}
 * @param vocabSize {@code vocab_size}, V
 * @param hiddenSize {@code hidden_size}, d_model
 * @param intermediateSize {@code intermediate_size}, the MLP width
 * @param numHiddenLayers {@code num_hidden_layers}
 * @param numAttentionHeads {@code num_attention_heads}, H
 * @param numKeyValueHeads {@code num_key_value_heads}, H_kv (divides H; grouped-query attention when smaller)
 * @param headDim {@code head_dim} (default hidden_size / num_attention_heads; Qwen3: 128)
 * @param hiddenAct {@code hidden_act}; only {@code silu}
 * @param maxPositionEmbeddings {@code max_position_embeddings}
 * @param rmsNormEps {@code rms_norm_eps}
 * @param ropeTheta {@code rope_theta}, the rotary base
 * @param ropeScaling the rotary scheme ({@link RopeScaling.Default} when absent)
 * @param attentionBias {@code attention_bias} (llama: q, k, v, o; qwen3: q, k, v, o; qwen2: q, k, v are always
 *     biased, o never, so this is true; mistral: false)
 * @param mlpBias {@code mlp_bias} (llama only)
 * @param slidingWindow {@code sliding_window} (mistral, qwen2, qwen3), empty when null
 * @param useSlidingWindow {@code use_sliding_window} (qwen2, qwen3; true for mistral, whose window is on whenever
 *     {@code sliding_window} is set)
 * @param maxWindowLayers {@code max_window_layers} (qwen2, qwen3: layers at or after it use the window unless
 *     {@code layer_types} says otherwise)
 * @param layerTypes {@code layer_types} (qwen2, qwen3), {@code full_attention} / {@code sliding_attention} per layer;
 *     empty when absent
 * @param tieWordEmbeddings {@code tie_word_embeddings}: logits use {@code model.embed_tokens.weight}
 * @param bos {@code bos_token_id}, empty when null
 * @param eosTokenIds {@code eos_token_id}: one id or a list (Llama 3), empty when null
 * @param pad {@code pad_token_id}, empty when null
 * @param initializerRange {@code initializer_range}, σ of the random initialisation
 * @param extra the other fields of the file, kept for round trips
 */
public record LlamaConfig(
        LlamaFamily family,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        String hiddenAct,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean attentionBias,
        boolean mlpBias,
        OptionalInt slidingWindow,
        boolean useSlidingWindow,
        int maxWindowLayers,
        List<String> layerTypes,
        boolean tieWordEmbeddings,
        OptionalInt bos,
        List<Integer> eosTokenIds,
        OptionalInt pad,
        double initializerRange,
        Map<String, JsonNode> extra)
        implements ModelConfig {

    /** {@code layer_types} value of a layer with full causal attention. */
    public static final String FULL_ATTENTION = "full_attention";

    /** {@code layer_types} value of a layer with sliding-window attention. */
    public static final String SLIDING_ATTENTION = "sliding_attention";

    /** Validates the configuration; messages name the {@code config.json} field and the bad value. */
    public LlamaConfig {
        if (family == null) {
            throw new IllegalArgumentException("invalid model_type: null");
        }
        ConfigFields.check(vocabSize > 0, "vocab_size", vocabSize);
        ConfigFields.check(hiddenSize > 0, "hidden_size", hiddenSize);
        ConfigFields.check(intermediateSize > 0, "intermediate_size", intermediateSize);
        ConfigFields.check(numHiddenLayers > 0, "num_hidden_layers", numHiddenLayers);
        ConfigFields.check(numAttentionHeads > 0, "num_attention_heads", numAttentionHeads);
        if (family == LlamaFamily.LLAMA) { // LlamaConfig.validate_architecture
            ConfigFields.check(hiddenSize % numAttentionHeads == 0,
                    "num_attention_heads (must divide hidden_size=" + hiddenSize + ")", numAttentionHeads);
        }
        ConfigFields.check(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0,
                "num_key_value_heads (must divide num_attention_heads=" + numAttentionHeads + ")", numKeyValueHeads);
        ConfigFields.check(headDim > 0 && headDim % 2 == 0, "head_dim (must be even and positive)", headDim);
        if (!"silu".equals(hiddenAct)) {
            throw new IllegalArgumentException("invalid hidden_act: " + hiddenAct + " (supported: silu)");
        }
        ConfigFields.check(maxPositionEmbeddings > 0, "max_position_embeddings", maxPositionEmbeddings);
        ConfigFields.check(rmsNormEps > 0, "rms_norm_eps", rmsNormEps);
        ConfigFields.check(ropeTheta > 0 && Double.isFinite(ropeTheta), "rope_theta", ropeTheta);
        if (ropeScaling == null) {
            throw new IllegalArgumentException("invalid rope_scaling: null (use RopeScaling.Default)");
        }
        ConfigFields.check(!mlpBias || family == LlamaFamily.LLAMA, "mlp_bias (llama only)", mlpBias);
        ConfigFields.check(!attentionBias || family != LlamaFamily.MISTRAL, "attention_bias (not mistral)",
                attentionBias);
        ConfigFields.check(attentionBias || family != LlamaFamily.QWEN2, "attention_bias (always on for qwen2)",
                attentionBias);
        ConfigFields.check(slidingWindow.isEmpty() || slidingWindow.getAsInt() > 0, "sliding_window",
                slidingWindow.isPresent() ? slidingWindow.getAsInt() : null);
        ConfigFields.check(maxWindowLayers >= 0, "max_window_layers", maxWindowLayers);
        layerTypes = List.copyOf(layerTypes);
        ConfigFields.check(layerTypes.isEmpty() || layerTypes.size() == numHiddenLayers,
                "layer_types (needs num_hidden_layers=" + numHiddenLayers + " entries)", layerTypes);
        for (String t : layerTypes) {
            ConfigFields.check(FULL_ATTENTION.equals(t) || SLIDING_ATTENTION.equals(t),
                    "layer_types (full_attention or sliding_attention)", t);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        for (int e : eosTokenIds) {
            ConfigFields.check(e >= 0 && e < vocabSize, "eos_token_id (vocab_size=" + vocabSize + ")", e);
        }
        ConfigFields.check(bos.isEmpty() || bos.getAsInt() >= 0 && bos.getAsInt() < vocabSize,
                "bos_token_id (vocab_size=" + vocabSize + ")", bos.isPresent() ? bos.getAsInt() : null);
        ConfigFields.check(pad.isEmpty() || pad.getAsInt() >= 0 && pad.getAsInt() < vocabSize,
                "pad_token_id (vocab_size=" + vocabSize + ")", pad.isPresent() ? pad.getAsInt() : null);
        ConfigFields.check(initializerRange > 0, "initializer_range", initializerRange);
        extra = Map.copyOf(extra);
    }

    /**
     * Returns a from-scratch config of a family with its {@code transformers} defaults for everything but the sizes
     * and special tokens: {@code silu}, eps 1e-6, θ = 10000 (no scaling), no biases (Qwen2: q/k/v biases), no window,
     * untied output, σ = 0.02.
     *
     * @param family the family
     * @param vocabSize V
     * @param maxPositions {@code max_position_embeddings}
     * @param hiddenSize d_model
     * @param numLayers blocks
     * @param numHeads query heads
     * @param numKvHeads key/value heads (divides numHeads)
     * @param intermediateSize MLP width
     * @param bos BOS id
     * @param eos EOS id
     * @return the config
     */
    public static LlamaConfig of(LlamaFamily family, int vocabSize, int maxPositions, int hiddenSize, int numLayers,
            int numHeads, int numKvHeads, int intermediateSize, int bos, int eos) {
        return new LlamaConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                hiddenSize / numHeads, "silu", maxPositions, 1e-6, 10000, new RopeScaling.Default(),
                family == LlamaFamily.QWEN2, false, OptionalInt.empty(), family == LlamaFamily.MISTRAL, 28, List.of(),
                false, OptionalInt.of(bos), List.of(eos), OptionalInt.empty(), 0.02, Map.of());
    }

    /** {@inheritDoc} */
    @Override
    public String modelType() {
        return family.modelType();
    }

    /**
     * Returns {@code max_position_embeddings}. With {@link RopeScaling.Dynamic} longer sequences are accepted (their
     * purpose); otherwise it is the longest sequence the model runs.
     *
     * @return the maximum number of positions
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
     * Returns {@code bos_token_id}.
     *
     * @return the BOS id
     * @throws IllegalStateException when the file has none ({@code null}, the Qwen default)
     */
    @Override
    public int bosTokenId() {
        return bos.orElseThrow(() -> new IllegalStateException("config.json has no bos_token_id"));
    }

    /**
     * Returns the first {@code eos_token_id} ({@link #eosTokenIds()} has them all).
     *
     * @return the EOS id
     * @throws IllegalStateException when the file has none ({@code null}, the Qwen default)
     */
    @Override
    public int eosTokenId() {
        if (eosTokenIds.isEmpty()) {
            throw new IllegalStateException("config.json has no eos_token_id");
        }
        return eosTokenIds.get(0);
    }

    /**
     * Returns the number of query heads sharing one key/value head, H / H_kv.
     *
     * @return the group size
     */
    public int kvGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /**
     * Returns whether q, k and v have biases ({@code qwen2} always; {@code llama}, {@code qwen3} per
     * {@code attention_bias}).
     *
     * @return whether q/k/v are biased
     */
    public boolean qkvBias() {
        return attentionBias;
    }

    /**
     * Returns whether {@code o_proj} has a bias ({@code attention_bias} except for {@code qwen2}, whose o is never
     * biased).
     *
     * @return whether o is biased
     */
    public boolean outputBias() {
        return attentionBias && family != LlamaFamily.QWEN2;
    }

    /**
     * Returns whether q and k get a per-head RMSNorm before rotary ({@code qwen3}).
     *
     * @return whether {@code q_norm} / {@code k_norm} exist
     */
    public boolean qkNorm() {
        return family == LlamaFamily.QWEN3;
    }

    /**
     * Returns the attention window of a layer, as {@code transformers} decides it: mistral, every layer when
     * {@code sliding_window} is set; qwen2/qwen3, when {@code use_sliding_window} and {@code sliding_window} are set
     * and the layer is {@code sliding_attention} in {@code layer_types} (default: index ≥ {@code max_window_layers});
     * llama, never.
     *
     * @param layer the layer index
     * @return the window W (a query at index i sees keys at indices &gt; i − W), or empty for full attention
     */
    public OptionalInt window(int layer) {
        return switch (family) {
            case LLAMA -> OptionalInt.empty();
            case MISTRAL -> slidingWindow;
            case QWEN2, QWEN3 -> {
                if (!useSlidingWindow || slidingWindow.isEmpty()) {
                    yield OptionalInt.empty();
                }
                boolean sliding = layerTypes.isEmpty()
                        ? layer >= maxWindowLayers
                        : SLIDING_ATTENTION.equals(layerTypes.get(layer));
                yield sliding ? slidingWindow : OptionalInt.empty();
            }
        };
    }

    /**
     * Returns a copy with other extra fields (e.g. {@code architectures} of a scalar-head model).
     *
     * @param newExtra the extra fields
     * @return the copy
     */
    @Override
    public LlamaConfig withExtra(Map<String, JsonNode> newExtra) {
        return new LlamaConfig(family, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, hiddenAct, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling,
                attentionBias, mlpBias, slidingWindow, useSlidingWindow, maxWindowLayers, layerTypes,
                tieWordEmbeddings, bos, eosTokenIds, pad, initializerRange, newExtra);
    }

    /**
     * Returns a copy with another {@code pad_token_id}.
     *
     * @param newPad the id, or empty for null
     * @return the copy
     */
    public LlamaConfig withPad(OptionalInt newPad) {
        return new LlamaConfig(family, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, hiddenAct, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling,
                attentionBias, mlpBias, slidingWindow, useSlidingWindow, maxWindowLayers, layerTypes,
                tieWordEmbeddings, bos, eosTokenIds, newPad, initializerRange, extra);
    }

    /**
     * Returns a copy with another rotary scheme.
     *
     * @param scaling the scheme
     * @return the copy
     */
    public LlamaConfig withRopeScaling(RopeScaling scaling) {
        return new LlamaConfig(family, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, hiddenAct, maxPositionEmbeddings, rmsNormEps, ropeTheta, scaling,
                attentionBias, mlpBias, slidingWindow, useSlidingWindow, maxWindowLayers, layerTypes,
                tieWordEmbeddings, bos, eosTokenIds, pad, initializerRange, extra);
    }

    /**
     * Returns the number of parameters of the transformer and its output projection (no scalar head).
     *
     * @return parameter count
     */
    public long parameterCount() {
        long d = hiddenSize;
        long f = intermediateSize;
        long q = (long) numAttentionHeads * headDim;
        long kv = (long) numKeyValueHeads * headDim;
        long attn = d * q + 2 * d * kv + q * d + (qkvBias() ? q + 2 * kv : 0) + (outputBias() ? d : 0)
                + (qkNorm() ? 2L * headDim : 0);
        long mlp = 3 * d * f + (mlpBias ? 2 * f + d : 0);
        long perBlock = attn + mlp + 2 * d;
        long embeddings = (long) vocabSize * d * (tieWordEmbeddings ? 1 : 2);
        return embeddings + numHiddenLayers * perBlock + d;
    }

    /**
     * Reads a Llama-family {@code config.json}; {@link ModelConfig#read} reads any supported architecture.
     *
     * @param file the file
     * @return the config
     * @throws ModelFormatException when the file is missing, is not JSON, is not of the Llama family, or has an
     *     invalid or unsupported value; the message names the file and the field
     */
    public static LlamaConfig read(Path file) throws ModelFormatException {
        JsonNode root = ConfigFields.readObject(file);
        String type = root.path("model_type").asText("");
        if (LlamaFamily.ofModelType(type) == null) {
            throw new ModelFormatException(file, "field 'model_type' is '" + type
                    + "', expected 'llama', 'mistral', 'qwen2' or 'qwen3' (ModelConfig.read and CausalLm.load accept "
                    + "every supported architecture)");
        }
        return fromJson(file, root);
    }

    /**
     * Builds a config from a parsed {@code config.json} object whose {@code model_type} is of the Llama family.
     *
     * @param file the file, for messages
     * @param root the object
     * @return the config
     * @throws ModelFormatException when a field is invalid or asks for something rlhf4j does not implement
     */
    static LlamaConfig fromJson(Path file, JsonNode root) throws ModelFormatException {
        LlamaFamily fam = LlamaFamily.ofModelType(root.path("model_type").asText(""));
        if (fam == null) {
            throw new ModelFormatException(file, "field 'model_type' is " + root.get("model_type")
                    + ", expected one of llama, mistral, qwen2, qwen3");
        }
        boolean qwen = fam == LlamaFamily.QWEN2 || fam == LlamaFamily.QWEN3;
        try {
            int vocab = ConfigFields.intField(file, root, "vocab_size", qwen ? 151936 : 32000);
            int hidden = ConfigFields.intField(file, root, "hidden_size", 4096);
            int inter = ConfigFields.intField(file, root, "intermediate_size", switch (fam) {
                case LLAMA -> 11008;
                case MISTRAL -> 14336;
                case QWEN2, QWEN3 -> 22016;
            });
            int layers = ConfigFields.intField(file, root, "num_hidden_layers", 32);
            int heads = ConfigFields.intField(file, root, "num_attention_heads", 32);
            ConfigFields.check(heads > 0, "num_attention_heads", heads);
            // absent: the class default (mistral 8, qwen 32, llama = heads); null: = heads (every __post_init__)
            int kvDefault = switch (fam) {
                case LLAMA -> heads;
                case MISTRAL -> root.has("num_key_value_heads") ? heads : 8;
                case QWEN2, QWEN3 -> root.has("num_key_value_heads") ? heads : 32;
            };
            int kvHeads = ConfigFields.intField(file, root, "num_key_value_heads", kvDefault);
            int headDim = ConfigFields.intField(file, root, "head_dim",
                    fam == LlamaFamily.QWEN3 ? 128 : hidden / heads);
            int maxPos = ConfigFields.intField(file, root, "max_position_embeddings", switch (fam) {
                case LLAMA -> 2048;
                case MISTRAL -> 4096 * 32;
                case QWEN2, QWEN3 -> 32768;
            });
            Rope rope = readRope(file, root, maxPos);
            boolean attnBias = switch (fam) {
                case LLAMA, QWEN3 -> ConfigFields.booleanField(file, root, "attention_bias", false);
                case MISTRAL -> false;
                case QWEN2 -> true;
            };
            boolean mlpBias = fam == LlamaFamily.LLAMA && ConfigFields.booleanField(file, root, "mlp_bias", false);
            OptionalInt window = OptionalInt.empty();
            boolean useWindow = fam == LlamaFamily.MISTRAL;
            int maxWindowLayers = 28;
            List<String> layerTypes = List.of();
            if (fam != LlamaFamily.LLAMA) {
                JsonNode w = root.get("sliding_window");
                if (w == null) {
                    window = OptionalInt.of(4096);
                } else if (!w.isNull()) {
                    window = OptionalInt.of(ConfigFields.intField(file, root, "sliding_window", null));
                }
            }
            if (qwen) {
                useWindow = ConfigFields.booleanField(file, root, "use_sliding_window", false);
                maxWindowLayers = ConfigFields.intField(file, root, "max_window_layers", 28);
                layerTypes = stringList(file, root, "layer_types");
            }
            JsonNode pad = root.get("pad_token_id");
            return new LlamaConfig(
                    fam, vocab, hidden, inter, layers, heads, kvHeads, headDim,
                    ConfigFields.stringField(file, root, "hidden_act", "silu"),
                    maxPos,
                    ConfigFields.doubleField(file, root, "rms_norm_eps", 1e-6),
                    rope.theta(),
                    rope.scaling(),
                    attnBias,
                    mlpBias,
                    window,
                    useWindow,
                    maxWindowLayers,
                    layerTypes,
                    ConfigFields.booleanField(file, root, "tie_word_embeddings", false),
                    optionalInt(file, root, "bos_token_id", qwen ? OptionalInt.empty() : OptionalInt.of(1)),
                    eosIds(file, root, qwen ? List.of() : List.of(2)),
                    optionalInt(file, root, "pad_token_id", OptionalInt.empty()),
                    ConfigFields.doubleField(file, root, "initializer_range", 0.02),
                    ConfigFields.unknownFields(root, known(fam)));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    /** The rotary base and scheme read from a file. */
    private record Rope(double theta, RopeScaling scaling) {}

    /**
     * Reads {@code rope_theta} and the scheme as {@code transformers} 5 does ({@code convert_rope_params_to_dict}):
     * a non-empty {@code rope_scaling} object wins over {@code rope_parameters}; θ comes from that object, else the
     * top-level {@code rope_theta}, else 10000. Two explicit, different θ are an error.
     */
    private static Rope readRope(Path file, JsonNode root, int maxPos) throws ModelFormatException {
        JsonNode scaling = root.get("rope_scaling");
        JsonNode params = root.get("rope_parameters");
        String field;
        JsonNode obj;
        if (scaling != null && !scaling.isNull() && !(scaling.isObject() && scaling.isEmpty())) {
            field = "rope_scaling";
            obj = scaling;
        } else if (params != null && !params.isNull()) {
            field = "rope_parameters";
            obj = params;
        } else {
            field = "rope_scaling";
            obj = Json.MAPPER.createObjectNode();
        }
        if (!obj.isObject()) {
            throw new ModelFormatException(file, "field '" + field + "' must be an object or null, got " + obj);
        }
        double top = ConfigFields.doubleField(file, root, "rope_theta", Double.NaN);
        double inner = ConfigFields.doubleField(file, obj, "rope_theta", Double.NaN);
        if (!Double.isNaN(top) && !Double.isNaN(inner) && top != inner) {
            throw new ModelFormatException(file, "fields 'rope_theta' (" + top + ") and '" + field + ".rope_theta' ("
                    + inner + ") disagree");
        }
        double theta = !Double.isNaN(inner) ? inner : !Double.isNaN(top) ? top : 10000;
        double partial = ConfigFields.doubleField(file, obj, "partial_rotary_factor",
                ConfigFields.doubleField(file, root, "partial_rotary_factor", 1.0));
        if (partial != 1.0) {
            throw new ModelFormatException(file, "field 'partial_rotary_factor' is " + partial
                    + "; the Llama family is implemented with full rotary (1.0) only");
        }
        // HF: rope_parameters.setdefault("rope_type", rope_parameters.get("type", "default"))
        String type = ConfigFields.stringField(file, obj, "rope_type",
                ConfigFields.stringField(file, obj, "type", "default"));
        try {
            RopeScaling s = switch (type) {
                case "default" -> new RopeScaling.Default();
                case "linear" -> new RopeScaling.Linear(factor(file, obj, field));
                case "dynamic" -> new RopeScaling.Dynamic(factor(file, obj, field));
                case "llama3" -> new RopeScaling.Llama3(
                        factor(file, obj, field),
                        required(file, obj, field, "low_freq_factor"),
                        required(file, obj, field, "high_freq_factor"),
                        ConfigFields.intField(file, obj, "original_max_position_embeddings", maxPos));
                default -> throw new ModelFormatException(file, "field '" + field + ".rope_type' is '" + type
                        + "'; supported: default, linear, dynamic, llama3");
            };
            return new Rope(theta, s);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage().replace("rope_scaling.", field + "."), e);
        }
    }

    private static double factor(Path file, JsonNode obj, String field) throws ModelFormatException {
        return required(file, obj, field, "factor");
    }

    private static double required(Path file, JsonNode obj, String field, String key) throws ModelFormatException {
        double v = ConfigFields.doubleField(file, obj, key, Double.NaN);
        if (Double.isNaN(v)) {
            throw new ModelFormatException(file, "field '" + field + "' lacks '" + key + "' (needed by rope_type '"
                    + obj.path("rope_type").asText(obj.path("type").asText()) + "')");
        }
        return v;
    }

    private static OptionalInt optionalInt(Path file, JsonNode root, String name, OptionalInt absent)
            throws ModelFormatException {
        JsonNode n = root.get(name);
        if (n == null) {
            return absent;
        }
        return n.isNull() ? OptionalInt.empty() : OptionalInt.of(ConfigFields.intField(file, root, name, null));
    }

    /** {@code eos_token_id}: an integer, a list of integers, or null. */
    private static List<Integer> eosIds(Path file, JsonNode root, List<Integer> absent) throws ModelFormatException {
        JsonNode n = root.get("eos_token_id");
        if (n == null) {
            return absent;
        }
        if (n.isNull()) {
            return List.of();
        }
        if (n.isArray()) {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                    throw new ModelFormatException(file, "field 'eos_token_id' must be an integer or a list of "
                            + "integers, got " + n);
                }
                ids.add(e.asInt());
            }
            return ids;
        }
        return List.of(ConfigFields.intField(file, root, "eos_token_id", null));
    }

    private static List<String> stringList(Path file, JsonNode root, String name) throws ModelFormatException {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new ModelFormatException(file, "field '" + name + "' must be a list of strings, got " + n);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new ModelFormatException(file, "field '" + name + "' must be a list of strings, got " + n);
            }
            out.add(e.asText());
        }
        return out;
    }

    /** Fields read into the record or rewritten on save, per family; a field of another family is kept in extra. */
    private static Set<String> known(LlamaFamily fam) {
        Set<String> k = new HashSet<>(Set.of(
                "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings",
                "rms_norm_eps", "rope_theta", "rope_scaling", "rope_parameters", "tie_word_embeddings",
                "bos_token_id", "eos_token_id", "pad_token_id", "initializer_range", "attention_dropout"));
        switch (fam) {
            case LLAMA -> k.addAll(Set.of("attention_bias", "mlp_bias"));
            case MISTRAL -> k.add("sliding_window");
            case QWEN2 -> k.addAll(Set.of("sliding_window", "use_sliding_window", "max_window_layers", "layer_types"));
            case QWEN3 -> k.addAll(Set.of("attention_bias", "sliding_window", "use_sliding_window",
                    "max_window_layers", "layer_types"));
        }
        return k;
    }

    /**
     * Writes {@code config.json} in Hugging Face layout (modelled fields, then the kept extra fields).
     *
     * @param file the target
     * @throws IOException on write failure
     */
    @Override
    public void write(Path file) throws IOException {
        Json.write(file, toJson());
    }

    /**
     * Returns the JSON object that {@link #write(Path)} writes: the family's fields, the rotary settings under both
     * {@code rope_scaling} (null for the default scheme) and {@code rope_parameters}, dropout 0 (never applied), then
     * the kept extra fields ({@link ModelFiles} adds {@code dtype} / {@code torch_dtype} for the weights it writes).
     *
     * @return the object
     */
    @Override
    public ObjectNode toJson() {
        ObjectNode o = ConfigFields.header(family.modelType(), family.causalLmArchitecture(), extra);
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", hiddenAct);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        if (ropeScaling instanceof RopeScaling.Default) {
            o.putNull("rope_scaling");
        } else {
            ropeFields(o.putObject("rope_scaling"));
        }
        ropeFields(o.putObject("rope_parameters").put("rope_theta", ropeTheta));
        switch (family) {
            case LLAMA -> o.put("attention_bias", attentionBias).put("mlp_bias", mlpBias);
            case MISTRAL -> putOptional(o, "sliding_window", slidingWindow);
            case QWEN2, QWEN3 -> {
                if (family == LlamaFamily.QWEN3) {
                    o.put("attention_bias", attentionBias);
                }
                o.put("use_sliding_window", useSlidingWindow);
                putOptional(o, "sliding_window", slidingWindow);
                o.put("max_window_layers", maxWindowLayers);
                if (!layerTypes.isEmpty()) {
                    ArrayNode a = o.putArray("layer_types");
                    layerTypes.forEach(a::add);
                }
            }
        }
        o.put("tie_word_embeddings", tieWordEmbeddings);
        putOptional(o, "bos_token_id", bos);
        if (eosTokenIds.isEmpty()) {
            o.putNull("eos_token_id");
        } else if (eosTokenIds.size() == 1) {
            o.put("eos_token_id", eosTokenIds.get(0));
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            eosTokenIds.forEach(a::add);
        }
        putOptional(o, "pad_token_id", pad);
        o.put("initializer_range", initializerRange);
        o.put("attention_dropout", 0.0);
        return ConfigFields.appendExtra(o, extra);
    }

    private void ropeFields(ObjectNode r) {
        r.put("rope_type", ropeScaling.type());
        if (ropeScaling instanceof RopeScaling.Linear l) {
            r.put("factor", l.factor());
        } else if (ropeScaling instanceof RopeScaling.Dynamic d) {
            r.put("factor", d.factor());
        } else if (ropeScaling instanceof RopeScaling.Llama3 l) {
            r.put("factor", l.factor()).put("low_freq_factor", l.lowFreqFactor())
                    .put("high_freq_factor", l.highFreqFactor())
                    .put("original_max_position_embeddings", l.originalMaxPositionEmbeddings());
        }
    }

    private static void putOptional(ObjectNode o, String name, OptionalInt v) {
        if (v.isPresent()) {
            o.put(name, v.getAsInt());
        } else {
            o.putNull(name);
        }
    }
}
