package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * GPT-NeoX causal language model (EleutherAI Pythia) with exact Hugging Face {@code GPTNeoXForCausalLM} semantics.
 *
 * <p>h⁰ = E_in[x]; each block computes a = Attn(LN₁(h)) and then, with the parallel residual of Pythia,
 * h = h + a + MLP(LN₂(h)), or sequentially h' = h + a, h = h' + MLP(LN₂(h')); MLP(u) = act(u W₁ᵀ + b₁) W₂ᵀ + b₂ with
 * exact GELU (or a tanh approximation, per {@code hidden_act}). The output is LN_f(h) and logits = LN_f(h) E_outᵀ
 * ({@code embed_out}, untied unless {@code tie_word_embeddings}).
 *
 * <p>Attention: the fused {@code query_key_value} Linear ({@code [3·d, d]}, y = x Wᵀ + b) produces, per position, one
 * block of {@code 3·d_head} values per head laid out {@code [n_head, 3, d_head]}: head i's query, key and value are
 * adjacent, unlike GPT-2's {@code [3, n_head, d_head]}. Rotary position embeddings rotate the first
 * {@code rotary_ndims = int(d_head·rotary_pct)} dimensions of each query and key with HF's {@code rotate_half}
 * convention (the two halves of those dimensions pair up, not adjacent elements): q' = q·cos + rotate_half(q)·sin with
 * angles p·θ_j, θ_j = base^(−2j/rotary_ndims), duplicated over both halves; the other dimensions pass through. Positions
 * p come from the attention mask exactly as in {@link Gpt2}, so left padding leaves real tokens unchanged. Scores are
 * q·k/√d_head with a causal mask over real keys. Keys enter the KV cache after rotation.
 *
 * <p>Parameter names are HF's ({@code gpt_neox.layers.0.attention.query_key_value.weight}, ...), so
 * {@code model.safetensors} (or its shards) loads and saves without renaming; the buffers older {@code transformers} versions store
 * ({@code attention.bias}, {@code attention.masked_bias}, {@code rotary_emb.inv_freq}) are ignored. Dropout is not
 * applied.
 */
public final class GptNeoX implements CausalLm {

    /** Prefix of the transformer's tensors in HF {@code GPTNeoXForCausalLM} state dicts. */
    public static final String PREFIX = "gpt_neox.";

    /** Name of the untied output projection ({@code [V, d]}). */
    public static final String EMBED_OUT = "embed_out.weight";

    /** Name of the input token embedding ({@code [V, d]}). */
    public static final String EMBED_IN = PREFIX + "embed_in.weight";

    private final GptNeoXConfig config;
    private final Weights weights;
    private final HfGenerationConfig generation;

    private GptNeoX(GptNeoXConfig config, Weights weights, HfGenerationConfig generation) {
        this.config = config;
        this.weights = weights;
        this.generation = generation;
    }

    /**
     * Creates a model with Hugging Face's GPT-NeoX initialisation: embeddings and Linear weights N(0, 0.02²), biases 0,
     * LayerNorm γ = 1, β = 0. Values come from a seeded Java RNG, so the same seed gives the same model on every
     * device.
     *
     * @param config the configuration
     * @param parent the parent manager (device)
     * @param seed the seed
     * @return the model
     */
    public static GptNeoX random(GptNeoXConfig config, NDManager parent, long seed) {
        Weights w = new Weights(parent);
        SplittableRandom rng = new SplittableRandom(seed);
        initTransformer(w, config, rng);
        if (!config.tieWordEmbeddings()) {
            w.put(EMBED_OUT, Weights.normal(w.manager(), new Shape(config.vocabSize(), config.hiddenSize()), 0.02, rng));
        }
        return new GptNeoX(config, w, null);
    }

    /**
     * Wraps existing weights (transformer names with the {@code gpt_neox.} prefix, plus {@code embed_out.weight}
     * unless the embeddings are tied).
     *
     * @param config the configuration
     * @param weights the weights; ownership moves to the model
     * @return the model
     * @throws IllegalArgumentException naming a missing or mis-shaped parameter
     */
    public static GptNeoX of(GptNeoXConfig config, Weights weights) {
        TransformerOps.checkShapes(lmShapes(config), weights);
        return new GptNeoX(config, weights, null);
    }

    /**
     * Loads {@code config.json} and the weights ({@code model.safetensors}, or shards with
     * {@code model.safetensors.index.json}: {@link ModelTensors}) from an HF-format directory, with its
     * {@code generation_config.json} when there is one. Tensors are copied into memory owned by the model; F16/BF16
     * are widened to F32. {@link CausalLm#load} loads any architecture.
     *
     * @param dir the directory
     * @param parent the parent manager (device)
     * @return the model
     * @throws IOException when a file is missing or inconsistent; the message names file and field or tensor
     */
    public static GptNeoX load(Path dir, NDManager parent) throws IOException {
        return load(dir, GptNeoXConfig.read(dir.resolve("config.json")), parent);
    }

    /**
     * Loads the weights (one file or shards) and {@code generation_config.json} from a directory whose
     * {@code config.json} was already read.
     *
     * @param dir the directory
     * @param config its configuration
     * @param parent the parent manager (device)
     * @return the model
     * @throws IOException when the file is missing or inconsistent
     */
    static GptNeoX load(Path dir, GptNeoXConfig config, NDManager parent) throws IOException {
        HfGenerationConfig generation = HfGenerationConfig.readIfPresent(dir).orElse(null);
        Weights w = new Weights(parent);
        try (ModelTensors st = ModelTensors.open(dir)) {
            Set<String> used = new HashSet<>();
            loadTransformer(st, config, w, used);
            Map<String, Shape> head = new LinkedHashMap<>();
            if (!config.tieWordEmbeddings()) {
                head.put(EMBED_OUT, new Shape(config.vocabSize(), config.hiddenSize()));
                TransformerOps.loadTensors(st, head, PREFIX, EMBED_IN, w, used);
            }
            TransformerOps.warnUnused(st, used, config.tieWordEmbeddings() ? Set.of(EMBED_OUT) : Set.of());
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return new GptNeoX(config, w, generation);
    }

    static void initTransformer(Weights w, GptNeoXConfig c, SplittableRandom rng) {
        NDManager m = w.manager();
        for (Map.Entry<String, Shape> e : expectedShapes(c).entrySet()) {
            String name = e.getKey();
            Shape shape = e.getValue();
            NDArray a;
            if (name.contains("layernorm.") || name.contains("layer_norm.")) {
                a = name.endsWith(".weight") ? m.ones(shape, DataType.FLOAT32) : Weights.zeros(m, shape);
            } else if (name.endsWith(".bias")) {
                a = Weights.zeros(m, shape);
            } else {
                a = Weights.normal(m, shape, 0.02, rng);
            }
            w.put(name, a);
        }
    }

    /**
     * Returns the HF names and shapes of the transformer's tensors (no output projection), in state-dict order.
     *
     * @param c the configuration
     * @return name to shape
     */
    public static Map<String, Shape> expectedShapes(GptNeoXConfig c) {
        Map<String, Shape> s = new LinkedHashMap<>();
        long d = c.hiddenSize();
        long f = c.intermediateSize();
        s.put(EMBED_IN, new Shape(c.vocabSize(), d));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = PREFIX + "layers." + l + ".";
            s.put(p + "input_layernorm.weight", new Shape(d));
            s.put(p + "input_layernorm.bias", new Shape(d));
            s.put(p + "post_attention_layernorm.weight", new Shape(d));
            s.put(p + "post_attention_layernorm.bias", new Shape(d));
            s.put(p + "attention.query_key_value.weight", new Shape(3 * d, d));
            if (c.attentionBias()) {
                s.put(p + "attention.query_key_value.bias", new Shape(3 * d));
            }
            s.put(p + "attention.dense.weight", new Shape(d, d));
            if (c.attentionBias()) {
                s.put(p + "attention.dense.bias", new Shape(d));
            }
            s.put(p + "mlp.dense_h_to_4h.weight", new Shape(f, d));
            s.put(p + "mlp.dense_h_to_4h.bias", new Shape(f));
            s.put(p + "mlp.dense_4h_to_h.weight", new Shape(d, f));
            s.put(p + "mlp.dense_4h_to_h.bias", new Shape(d));
        }
        s.put(PREFIX + "final_layer_norm.weight", new Shape(d));
        s.put(PREFIX + "final_layer_norm.bias", new Shape(d));
        return s;
    }

    /** The transformer's shapes plus the untied output projection. */
    private static Map<String, Shape> lmShapes(GptNeoXConfig c) {
        Map<String, Shape> s = expectedShapes(c);
        if (!c.tieWordEmbeddings()) {
            s.put(EMBED_OUT, new Shape(c.vocabSize(), c.hiddenSize()));
        }
        return s;
    }

    /**
     * Loads the transformer tensors of a model's weights into {@code into}, accepting both the
     * {@code gpt_neox.}-prefixed layout of {@code GPTNeoXForCausalLM} and the unprefixed layout of a bare
     * {@code GPTNeoXModel}; the buffers of older {@code transformers} versions are skipped.
     *
     * @param st the weights (one file or shards)
     * @param c the configuration its shapes must match
     * @param into the target weights (names are stored with the prefix)
     * @param used receives the file names consumed (buffers included)
     * @throws ModelFormatException when a tensor is missing or has the wrong shape
     */
    static void loadTransformer(ModelTensors st, GptNeoXConfig c, Weights into, Set<String> used)
            throws ModelFormatException {
        for (String name : st.entries().keySet()) {
            if (name.endsWith(".attention.bias") || name.endsWith(".attention.masked_bias")
                    || name.endsWith("rotary_emb.inv_freq")) {
                used.add(name);
            }
        }
        TransformerOps.loadTensors(st, expectedShapes(c), PREFIX, EMBED_IN, into, used);
    }

    /** {@inheritDoc} */
    @Override
    public GptNeoXConfig config() {
        return config;
    }

    /** {@inheritDoc} */
    @Override
    public Weights weights() {
        return weights;
    }

    /** {@inheritDoc} */
    @Override
    public GptNeoX copy(NDManager parent) {
        return new GptNeoX(config, weights.copy(parent), generation);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray hidden(NDArray ids, NDArray mask, KvCache cache, ForwardHook hook) {
        return transformer(weights, config, ids, mask, cache, hook);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logits(NDArray hidden, ForwardHook hook) {
        String head = config.tieWordEmbeddings() ? EMBED_IN : EMBED_OUT;
        return Params.head(hidden, head, weights.get(head), hook);
    }

    /** {@inheritDoc} */
    @Override
    public Optional<HfGenerationConfig> generationConfig() {
        return Optional.ofNullable(generation);
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        weights.close();
    }

    /**
     * The GPT-NeoX transformer as a pure function of its weights (shared by {@link GptNeoX} and {@link ScalarModel}).
     *
     * @param w weights with {@code gpt_neox.}-prefixed names
     * @param c configuration
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask, 1 for real tokens
     * @param cache past keys/values or null
     * @return {@code [B, T, d]} hidden states after {@code final_layer_norm}
     */
    static NDArray transformer(Weights weights, GptNeoXConfig c, NDArray ids, NDArray mask, KvCache cache,
            ForwardHook hook) {
        Params w = new Params(weights, hook);
        TransformerOps.AttentionInputs in = TransformerOps.attentionInputs(ids, mask, cache, c);
        long batch = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        int heads = c.numAttentionHeads();
        long hd = c.headDim();
        int rot = c.rotaryNdims();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float eps = (float) c.layerNormEps();
        boolean exactGelu = "gelu".equals(c.hiddenAct());
        Shape dShape = new Shape(c.hiddenSize());
        NDArray[] cosSin = rot == 0 ? null : rotaryCosSin(in.positions(), rot, c.rotaryEmbBase());

        NDArray h = Embedding.embedding(ids.toType(DataType.INT64, false), w.get(EMBED_IN), SparseFormat.DENSE)
                .singletonOrThrow();
        NDArray scaleArray = null; // 1/√d_head as one scalar of q's type for every layer
        for (int l = 0; l < c.numHiddenLayers(); l++) {
          NDScope scope = TransformerOps.layerScope(cache, hook);
          try {
            String b = PREFIX + "layers." + l + ".";
            NDArray a = LayerNorm.layerNorm(
                            h, dShape, w.get(b + "input_layernorm.weight"), w.get(b + "input_layernorm.bias"), eps)
                    .singletonOrThrow();
            // fused projection laid out [n_head, 3, d_head] per position: q, k, v adjacent within each head
            NDArray qkv = w.linear(a, b + "attention.query_key_value", c.attentionBias())
                    .reshape(batch, t, heads, 3 * hd);
            NDList parts = qkv.split(3, 3);
            NDArray q = parts.get(0).transpose(0, 2, 1, 3);
            NDArray k = parts.get(1).transpose(0, 2, 1, 3);
            NDArray v = parts.get(2).transpose(0, 2, 1, 3);
            if (cosSin != null) {
                q = applyRotary(q, cosSin[0], cosSin[1], rot, hd);
                k = applyRotary(k, cosSin[0], cosSin[1], rot, hd);
            }
            if (scaleArray == null) {
                scaleArray = TensorOps.scalar(q, scale);
                TransformerOps.keep(scope, scaleArray);
            }
            NDArray o = TransformerOps.attend(q.mul(scaleArray), k, v, in.bias(), cache, l)
                    .transpose(0, 2, 1, 3)
                    .reshape(batch, t, c.hiddenSize());
            NDArray attn = w.linear(o, b + "attention.dense", c.attentionBias());
            if (c.useParallelResidual()) {
                NDArray u = LayerNorm.layerNorm(h, dShape, w.get(b + "post_attention_layernorm.weight"),
                                w.get(b + "post_attention_layernorm.bias"), eps)
                        .singletonOrThrow();
                h = mlp(u, w, b, exactGelu).add(attn).add(h);
            } else {
                NDArray r = attn.add(h);
                NDArray u = LayerNorm.layerNorm(r, dShape, w.get(b + "post_attention_layernorm.weight"),
                                w.get(b + "post_attention_layernorm.bias"), eps)
                        .singletonOrThrow();
                h = mlp(u, w, b, exactGelu).add(r);
            }
            TransformerOps.keep(scope, h);
          } finally {
            TransformerOps.endLayer(scope);
          }
        }
        in.commit(cache);
        return LayerNorm.layerNorm(h, dShape, w.get(PREFIX + "final_layer_norm.weight"),
                        w.get(PREFIX + "final_layer_norm.bias"), eps)
                .singletonOrThrow();
    }

    private static NDArray mlp(NDArray u, Params w, String block, boolean exactGelu) {
        NDArray f = TransformerOps.gelu(w.linear(u, block + "mlp.dense_h_to_4h", true), exactGelu);
        return w.linear(f, block + "mlp.dense_4h_to_h", true);
    }

    /**
     * Returns cos and sin of the rotary angles, {@code [B, 1, T, rot]} each: angle p·θ_j with
     * θ_j = 1/base^(2j/rot), j < rot/2, repeated over both halves (HF {@code cat(freqs, freqs)}). The frequencies are
     * computed in float32 by the engine as HF does ({@code 1 / base ** (arange(0, rot, 2) / rot)}).
     */
    private static NDArray[] rotaryCosSin(NDArray positions, int rot, double base) {
        NDManager m = positions.getManager();
        NDArray exponents = TensorOps.div(m.arange(0, rot, 2, DataType.FLOAT32), rot);
        NDArray powers = TensorOps.scalar(exponents, base).pow(exponents);
        NDArray invFreq = powers.onesLike().div(powers);
        NDArray freqs = positions.toType(DataType.FLOAT32, false).expandDims(-1).mul(invFreq);
        NDArray emb = freqs.concat(freqs, -1).expandDims(1);
        return new NDArray[] {emb.cos(), emb.sin()};
    }

    /**
     * Rotates the first {@code rot} dimensions of {@code x} ({@code [B, H, T, d_head]}): x·cos + rotate_half(x)·sin,
     * rotate_half(x) = cat(−x₂, x₁) for the halves x₁, x₂ of those dimensions.
     */
    private static NDArray applyRotary(NDArray x, NDArray cos, NDArray sin, int rot, long hd) {
        NDList parts = rot == hd ? new NDList(x) : x.split(new long[] {rot}, 3);
        NDArray r = parts.get(0);
        NDList halves = r.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        // HF GPTNeoXRotaryEmbedding returns cos/sin .to(x.dtype): float16 q and k stay float16 (no-op in float32)
        NDArray out = r.mul(Params.cast(cos, x.getDataType())).add(rotated.mul(Params.cast(sin, x.getDataType())));
        return rot == hd ? out : out.concat(parts.get(1), 3);
    }
}
