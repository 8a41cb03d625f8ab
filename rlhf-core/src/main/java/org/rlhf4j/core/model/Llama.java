package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SplittableRandom;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.tensor.FusedOps;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * The Llama-family causal language model ({@code llama}, {@code mistral}, {@code qwen2}, {@code qwen3}) with exact
 * Hugging Face semantics ({@code modeling_llama.py}, {@code modeling_mistral.py}, {@code modeling_qwen2.py},
 * {@code modeling_qwen3.py}, {@code modeling_rope_utils.py}).
 *
 * <p>h⁰ = E[x]; each block computes h = h + Attn(RMSNorm₁(h)), then h = h + MLP(RMSNorm₂(h)) with
 * MLP(u) = W_down(silu(W_gate u) ⊙ W_up u), silu(z) = z·σ(z); the output is RMSNorm_f(h) and logits = RMSNorm_f(h) Wᵀ
 * with W = {@code lm_head.weight}, or {@code model.embed_tokens.weight} when {@code tie_word_embeddings}.
 * RMSNorm(x) = x / √(mean(x²) + ε) · w over the last axis, in float32.
 *
 * <p>Attention: q = W_q u (H heads of d_head = {@code head_dim}), k = W_k u and v = W_v u (H_kv heads; biases per
 * {@link LlamaConfig#qkvBias()}); Qwen3 applies RMSNorm over each head of q and k ({@code q_norm}, {@code k_norm}).
 * Rotary embeddings rotate the whole head with HF's {@code rotate_half}: q' = q·cos + rotate_half(q)·sin with angles
 * p·θ_j, θ_j from {@link RopeScaling} (default, linear, dynamic NTK, llama3), duplicated over both halves. Keys enter
 * the KV cache after rotary, with H_kv heads; each key/value head serves H/H_kv consecutive query heads
 * ({@code repeat_kv}). Scores are q·k/√d_head with a causal mask over real keys and, on the layers
 * {@link LlamaConfig#window(int)} names, a sliding window over cache indices as {@code transformers} builds it (a
 * query at index i sees keys at indices &gt; i − W; left padding shifts queries and keys alike, so it does not change
 * what a real token sees). Positions p come from the attention mask ({@code cumsum(mask) − 1}) as in {@link Gpt2}, so
 * left padding leaves real tokens unchanged.
 *
 * <p>Parameter names are HF's ({@code model.embed_tokens.weight}, {@code model.layers.0.self_attn.q_proj.weight},
 * ..., {@code model.norm.weight}, {@code lm_head.weight}), so {@code model.safetensors} (or its shards) loads and
 * saves without renaming; {@code rotary_emb.inv_freq} buffers of older files are ignored. Dropout is not applied.
 */
public final class Llama implements CausalLm {

    /** Prefix of the transformer's tensors in HF {@code *ForCausalLM} state dicts. */
    public static final String PREFIX = "model.";

    /** Name of the untied output projection ({@code [V, d]}). */
    public static final String LM_HEAD = "lm_head.weight";

    /** Name of the token embedding ({@code [V, d]}). */
    public static final String EMBED_TOKENS = PREFIX + "embed_tokens.weight";

    /** Name of the final RMSNorm weight. */
    public static final String NORM = PREFIX + "norm.weight";

    private final LlamaConfig config;
    private final Weights weights;
    private final HfGenerationConfig generation;

    private Llama(LlamaConfig config, Weights weights, HfGenerationConfig generation) {
        this.config = config;
        this.weights = weights;
        this.generation = generation;
    }

    /**
     * Creates a model with Hugging Face's initialisation ({@code PreTrainedModel._init_weights}): embeddings and
     * Linear weights N(0, {@code initializer_range}²), the {@code pad_token_id} row of the embedding 0, biases 0,
     * RMSNorm weights 1. Values come from a seeded Java RNG, so the same seed gives the same model on every device.
     *
     * @param config the configuration
     * @param parent the parent manager (device)
     * @param seed the seed
     * @return the model
     */
    public static Llama random(LlamaConfig config, NDManager parent, long seed) {
        Weights w = new Weights(parent);
        SplittableRandom rng = new SplittableRandom(seed);
        initTransformer(w, config, rng);
        if (!config.tieWordEmbeddings()) {
            w.put(LM_HEAD, Weights.normal(w.manager(), new Shape(config.vocabSize(), config.hiddenSize()),
                    config.initializerRange(), rng));
        }
        return new Llama(config, w, null);
    }

    /**
     * Wraps existing weights (transformer names with the {@code model.} prefix, plus {@code lm_head.weight} unless the
     * embeddings are tied).
     *
     * @param config the configuration
     * @param weights the weights; ownership moves to the model
     * @return the model
     * @throws IllegalArgumentException naming a missing or mis-shaped parameter
     */
    public static Llama of(LlamaConfig config, Weights weights) {
        TransformerOps.checkShapes(lmShapes(config), weights);
        return new Llama(config, weights, null);
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
    public static Llama load(Path dir, NDManager parent) throws IOException {
        return load(dir, LlamaConfig.read(dir.resolve("config.json")), parent);
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
    static Llama load(Path dir, LlamaConfig config, NDManager parent) throws IOException {
        HfGenerationConfig generation = HfGenerationConfig.readIfPresent(dir).orElse(null);
        Weights w = new Weights(parent);
        try (ModelTensors st = ModelTensors.open(dir)) {
            Set<String> used = new HashSet<>();
            loadTransformer(st, config, w, used);
            if (!config.tieWordEmbeddings()) {
                Map<String, Shape> head = new LinkedHashMap<>();
                head.put(LM_HEAD, new Shape(config.vocabSize(), config.hiddenSize()));
                TransformerOps.loadTensors(st, head, PREFIX, EMBED_TOKENS, w, used);
            }
            TransformerOps.warnUnused(st, used, config.tieWordEmbeddings() ? Set.of(LM_HEAD) : Set.of());
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return new Llama(config, w, generation);
    }

    static void initTransformer(Weights w, LlamaConfig c, SplittableRandom rng) {
        NDManager m = w.manager();
        for (Map.Entry<String, Shape> e : expectedShapes(c).entrySet()) {
            String name = e.getKey();
            Shape shape = e.getValue();
            NDArray a;
            if (name.endsWith("norm.weight")) {
                a = m.ones(shape, DataType.FLOAT32);
            } else if (name.endsWith(".bias")) {
                a = Weights.zeros(m, shape);
            } else {
                a = Weights.normal(m, shape, c.initializerRange(), rng);
            }
            w.put(name, a);
        }
        if (c.pad().isPresent()) { // nn.Embedding(padding_idx): _init_weights zeroes that row
            NDArray emb = w.get(EMBED_TOKENS);
            float[] v = emb.toFloatArray();
            int d = c.hiddenSize();
            Arrays.fill(v, c.pad().getAsInt() * d, (c.pad().getAsInt() + 1) * d, 0f);
            emb.set(v);
        }
    }

    /**
     * Returns the HF names and shapes of the transformer's tensors (no output projection), in state-dict order.
     *
     * @param c the configuration
     * @return name to shape
     */
    public static Map<String, Shape> expectedShapes(LlamaConfig c) {
        Map<String, Shape> s = new LinkedHashMap<>();
        long d = c.hiddenSize();
        long f = c.intermediateSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        s.put(EMBED_TOKENS, new Shape(c.vocabSize(), d));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = PREFIX + "layers." + l + ".";
            String a = p + "self_attn.";
            s.put(a + "q_proj.weight", new Shape(q, d));
            if (c.qkvBias()) {
                s.put(a + "q_proj.bias", new Shape(q));
            }
            s.put(a + "k_proj.weight", new Shape(kv, d));
            if (c.qkvBias()) {
                s.put(a + "k_proj.bias", new Shape(kv));
            }
            s.put(a + "v_proj.weight", new Shape(kv, d));
            if (c.qkvBias()) {
                s.put(a + "v_proj.bias", new Shape(kv));
            }
            s.put(a + "o_proj.weight", new Shape(d, q));
            if (c.outputBias()) {
                s.put(a + "o_proj.bias", new Shape(d));
            }
            if (c.qkNorm()) {
                s.put(a + "q_norm.weight", new Shape(c.headDim()));
                s.put(a + "k_norm.weight", new Shape(c.headDim()));
            }
            for (String proj : new String[] {"gate_proj", "up_proj"}) {
                s.put(p + "mlp." + proj + ".weight", new Shape(f, d));
                if (c.mlpBias()) {
                    s.put(p + "mlp." + proj + ".bias", new Shape(f));
                }
            }
            s.put(p + "mlp.down_proj.weight", new Shape(d, f));
            if (c.mlpBias()) {
                s.put(p + "mlp.down_proj.bias", new Shape(d));
            }
            s.put(p + "input_layernorm.weight", new Shape(d));
            s.put(p + "post_attention_layernorm.weight", new Shape(d));
        }
        s.put(NORM, new Shape(d));
        return s;
    }

    /** The transformer's shapes plus the untied output projection. */
    private static Map<String, Shape> lmShapes(LlamaConfig c) {
        Map<String, Shape> s = expectedShapes(c);
        if (!c.tieWordEmbeddings()) {
            s.put(LM_HEAD, new Shape(c.vocabSize(), c.hiddenSize()));
        }
        return s;
    }

    /**
     * Loads the transformer tensors of a model's weights into {@code into}, accepting both the {@code model.}-prefixed
     * layout of {@code *ForCausalLM} / {@code *ForSequenceClassification} and the unprefixed layout of a bare
     * {@code LlamaModel}; {@code rotary_emb.inv_freq} buffers are skipped.
     *
     * @param st the weights (one file or shards)
     * @param c the configuration its shapes must match
     * @param into the target weights (names are stored with the prefix)
     * @param used receives the file names consumed (buffers included)
     * @throws ModelFormatException when a tensor is missing or has the wrong shape
     */
    static void loadTransformer(ModelTensors st, LlamaConfig c, Weights into, Set<String> used)
            throws ModelFormatException {
        for (String name : st.entries().keySet()) {
            if (name.endsWith("rotary_emb.inv_freq")) {
                used.add(name);
            }
        }
        TransformerOps.loadTensors(st, expectedShapes(c), PREFIX, EMBED_TOKENS, into, used);
    }

    /** {@inheritDoc} */
    @Override
    public LlamaConfig config() {
        return config;
    }

    /** {@inheritDoc} */
    @Override
    public Weights weights() {
        return weights;
    }

    /** {@inheritDoc} */
    @Override
    public Llama copy(NDManager parent) {
        return new Llama(config, weights.copy(parent), generation);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray hidden(NDArray ids, NDArray mask, KvCache cache, ForwardHook hook) {
        return transformer(weights, config, ids, mask, cache, hook);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logits(NDArray hidden, ForwardHook hook) {
        String head = config.tieWordEmbeddings() ? EMBED_TOKENS : LM_HEAD;
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
     * The Llama-family transformer as a pure function of its weights (shared by {@link Llama} and
     * {@link ScalarModel}).
     *
     * @param w weights with {@code model.}-prefixed names
     * @param c configuration
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask, 1 for real tokens
     * @param cache past keys/values or null
     * @return {@code [B, T, d]} hidden states after the final RMSNorm
     */
    static NDArray transformer(Weights weights, LlamaConfig c, NDArray ids, NDArray mask, KvCache cache,
            ForwardHook hook) {
        Params w = new Params(weights, hook);
        // dynamic NTK exists to run past max_position_embeddings; HF sets no limit at all
        long limit = c.ropeScaling() instanceof RopeScaling.Dynamic ? Long.MAX_VALUE : c.maxPositionEmbeddings();
        TransformerOps.AttentionInputs in = TransformerOps.attentionInputs(ids, mask, cache, limit,
                "max_position_embeddings");
        NDManager m = ids.getManager();
        long batch = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        long past = cache == null ? 0 : cache.length();
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd)); // LlamaAttention.scaling = head_dim ** -0.5
        float eps = (float) c.rmsNormEps();
        NDArray[] cosSin = rotaryCosSin(in.positions(), c);
        // the query's 1/√d_head folded into its rotary factors once per pass, (q·cos + rotate_half(q)·sin)/√d_head =
        // q·(cos/√d_head) + rotate_half(q)·(sin/√d_head): one [B, 1, T, d_head] op each instead of a full-size
        // multiply of q in every layer (the rotary covers the whole head here, unlike GPT-NeoX's partial one)
        NDArray cosQ = TensorOps.mul(cosSin[0], scale);
        NDArray sinQ = TensorOps.mul(cosSin[1], scale);

        // per-layer biases: the causal/padding one, plus a window where the layer has one
        Map<Integer, NDArray> windowed = new LinkedHashMap<>();
        NDArray h = Embedding.embedding(ids.toType(DataType.INT64, false), w.get(EMBED_TOKENS), SparseFormat.DENSE)
                .singletonOrThrow();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
          NDScope scope = TransformerOps.layerScope(cache, hook);
          try {
            String b = PREFIX + "layers." + l + ".";
            String a = b + "self_attn.";
            OptionalInt win = c.window(l);
            NDArray bias = win.isEmpty()
                    ? in.bias()
                    : windowed.computeIfAbsent(win.getAsInt(), size -> {
                        NDArray wb = in.bias().add(TransformerOps.windowBias(m, past, t, size));
                        TransformerOps.keep(scope, wb); // reused by later layers with this window
                        return wb;
                    });
            NDArray x = rmsNorm(h, w.get(b + "input_layernorm.weight"), eps);
            NDArray q = w.linear(x, a + "q_proj", c.qkvBias()).reshape(batch, t, heads, hd);
            NDArray k = w.linear(x, a + "k_proj", c.qkvBias()).reshape(batch, t, kvHeads, hd);
            NDArray v = w.linear(x, a + "v_proj", c.qkvBias()).reshape(batch, t, kvHeads, hd);
            if (c.qkNorm()) { // Qwen3Attention: q_norm / k_norm over head_dim, before rotary
                q = rmsNorm(q, w.get(a + "q_norm.weight"), eps);
                k = rmsNorm(k, w.get(a + "k_norm.weight"), eps);
            }
            q = applyRotary(q.transpose(0, 2, 1, 3), cosQ, sinQ); // rotated and scaled
            k = applyRotary(k.transpose(0, 2, 1, 3), cosSin[0], cosSin[1]);
            v = v.transpose(0, 2, 1, 3);
            NDArray o = TransformerOps.attend(q, k, v, bias, cache, l, c.kvGroups())
                    .transpose(0, 2, 1, 3)
                    .reshape(batch, t, (long) heads * hd);
            h = h.add(w.linear(o, a + "o_proj", c.outputBias()));
            NDArray u = rmsNorm(h, w.get(b + "post_attention_layernorm.weight"), eps);
            h = h.add(mlp(u, w, b + "mlp.", c.mlpBias()));
            TransformerOps.keep(scope, h);
          } finally {
            TransformerOps.endLayer(scope);
          }
        }
        in.commit(cache);
        return rmsNorm(h, w.get(NORM), eps);
    }

    /** LlamaRMSNorm: x / √(mean(x²) + ε) · w over the last axis (float32 throughout, as rlhf4j computes). */
    static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        x = Params.cast(x, DataType.FLOAT32); // HF LlamaRMSNorm: hidden_states.to(torch.float32) (fp16 q/k of Qwen3)
        NDArray variance = x.mul(x).mean(new int[] {-1}, true);
        return x.div(TensorOps.add(variance, eps).sqrt()).mul(weight);
    }

    /** LlamaMLP: down(silu(gate(u)) ⊙ up(u)), silu(z) = z·σ(z). */
    private static NDArray mlp(NDArray u, Params w, String p, boolean bias) {
        NDArray act = silu(w.linear(u, p + "gate_proj", bias));
        return w.linear(act.mul(w.linear(u, p + "up_proj", bias)), p + "down_proj", bias);
    }

    /**
     * silu(z) = z·σ(z) (HF {@code ACT2FN["silu"]} = {@code nn.SiLU}): torch's single op run as TorchScript
     * ({@link FusedOps#silu}, one kernel forward and a fused backward: 20 ms against 31 ms forward + backward at
     * [2048, 1536], decision 0024), or, where that module cannot be loaded, {@link #siluComposed}.
     *
     * @param z input
     * @return the activation
     */
    static NDArray silu(NDArray z) {
        if (FusedOps.available() && z.getName() == null) {
            return FusedOps.silu(z);
        }
        return siluComposed(z);
    }

    /**
     * silu(z) = z·σ(z) as two DJL ops, as rlhf4j computed it before {@link FusedOps#silu}.
     *
     * @param z input
     * @return the activation
     */
    static NDArray siluComposed(NDArray z) {
        return z.mul(Activation.sigmoid(z));
    }

    /**
     * Returns cos and sin of the rotary angles, {@code [B, 1, T, d_head]} each: p·θ_j for the inverse frequencies of
     * the config's {@link RopeScaling} (dynamic NTK from L = max(positions) + 1 of this pass, HF
     * {@code dynamic_rope_update}), repeated over both halves (HF {@code cat(freqs, freqs)}). θ_j are computed in
     * double and rounded to float32; the products p·θ_j are float32 as in HF.
     */
    private static NDArray[] rotaryCosSin(NDArray positions, LlamaConfig c) {
        NDManager m = positions.getManager();
        long seqLen = c.ropeScaling() instanceof RopeScaling.Dynamic ? positions.max().getLong() + 1 : 0;
        double[] inv = c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim(), c.maxPositionEmbeddings(),
                seqLen);
        float[] invF = new float[inv.length];
        for (int j = 0; j < inv.length; j++) {
            invF[j] = (float) inv[j];
        }
        NDArray invFreq = m.create(invF);
        NDArray freqs = positions.toType(DataType.FLOAT32, false).expandDims(-1).mul(invFreq);
        NDArray emb = freqs.concat(freqs, -1).expandDims(1);
        return new NDArray[] {emb.cos(), emb.sin()};
    }

    /** x·cos + rotate_half(x)·sin over the whole head, rotate_half(x) = cat(−x₂, x₁) for the halves x₁, x₂. */
    private static NDArray applyRotary(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        // HF LlamaRotaryEmbedding returns cos/sin .to(x.dtype): float16 q and k stay float16 (no-op in float32)
        return x.mul(Params.cast(cos, x.getDataType())).add(rotated.mul(Params.cast(sin, x.getDataType())));
    }
}
