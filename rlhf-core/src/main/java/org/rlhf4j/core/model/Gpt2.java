package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.ndarray.types.SparseFormat;
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
 * GPT-2 causal language model with exact Hugging Face {@code GPT2LMHeadModel} semantics.
 *
 * <p>For input ids x and positions p (from the attention mask): h⁰ = W_te[x] + W_pe[p]; for each block
 * a = h + Attn(LN₁(h)), h = a + MLP(LN₂(a)) with MLP(u) = gelu_new(u W_fc + b_fc) W_proj + b_proj, where
 * gelu_new(u) = ½u(1 + tanh(√(2/π)(u + 0.044715u³))); the output is LN_f(h) and logits = LN_f(h) W_teᵀ (tied head).
 * Attention is causal softmax(QKᵀ/√d_head + M)V over non-padding keys. Conv1D weights are stored {@code [in, out]}
 * as in HF, so {@code model.safetensors} (or its shards) loads and saves without renaming. Dropout is not applied
 * (RLHF references disable it: it would make rollout and training log-probabilities disagree).
 */
public final class Gpt2 implements CausalLm {

    /** Prefix of the transformer's tensors in HF {@code GPT2LMHeadModel} state dicts. */
    public static final String PREFIX = "transformer.";

    private final Gpt2Config config;
    private final Weights weights;
    private final HfGenerationConfig generation;

    private Gpt2(Gpt2Config config, Weights weights, HfGenerationConfig generation) {
        this.config = config;
        this.weights = weights;
        this.generation = generation;
    }

    /**
     * Creates a model with Hugging Face's initialisation: every weight N(0, 0.02²), residual projections
     * ({@code attn.c_proj}, {@code mlp.c_proj}) N(0, (0.02/√(2·n_layer))²), biases 0, LayerNorm γ = 1, β = 0.
     * Values come from a seeded Java RNG, so the same seed gives the same model on every device.
     *
     * @param config the configuration
     * @param parent the parent manager (device)
     * @param seed the seed
     * @return the model
     */
    public static Gpt2 random(Gpt2Config config, NDManager parent, long seed) {
        Weights w = new Weights(parent);
        initTransformer(w, config, new SplittableRandom(seed));
        return new Gpt2(config, w, null);
    }

    /**
     * Wraps existing weights (names with the {@code transformer.} prefix).
     *
     * @param config the configuration
     * @param weights the weights; ownership moves to the model
     * @return the model
     */
    public static Gpt2 of(Gpt2Config config, Weights weights) {
        checkShapes(config, weights);
        return new Gpt2(config, weights, null);
    }

    /**
     * Loads {@code config.json} and the weights ({@code model.safetensors}, or shards with
     * {@code model.safetensors.index.json}: {@link ModelTensors}) from an HF-format directory, with its
     * {@code generation_config.json} when there is one. Tensors are copied into memory owned by the model (the files
     * can then be overwritten); F16/BF16 are widened to F32.
     *
     * @param dir the directory
     * @param parent the parent manager (device)
     * @return the model
     * @throws IOException when a file is missing or inconsistent; the message names file and tensor
     */
    public static Gpt2 load(Path dir, NDManager parent) throws IOException {
        return load(dir, Gpt2Config.read(dir.resolve("config.json")), parent);
    }

    /**
     * Loads the weights (one file or shards) and {@code generation_config.json} from a directory whose
     * {@code config.json} was already read.
     *
     * @param dir the directory
     * @param config its configuration
     * @param parent the parent manager (device)
     * @return the model
     * @throws IOException when the file is missing or inconsistent; the message names file and tensor
     */
    static Gpt2 load(Path dir, Gpt2Config config, NDManager parent) throws IOException {
        HfGenerationConfig generation = HfGenerationConfig.readIfPresent(dir).orElse(null);
        Weights w = new Weights(parent);
        try (ModelTensors st = ModelTensors.open(dir)) {
            Set<String> used = new HashSet<>();
            loadTransformer(st, config, w, used);
            TransformerOps.warnUnused(st, used, Set.of("lm_head.weight"));
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return new Gpt2(config, w, generation);
    }

    static void initTransformer(Weights w, Gpt2Config c, SplittableRandom rng) {
        NDManager m = w.manager();
        double std = 0.02;
        double projStd = 0.02 / Math.sqrt(2.0 * c.nLayer());
        for (Map.Entry<String, Shape> e : expectedShapes(c).entrySet()) {
            String name = e.getKey();
            Shape shape = e.getValue();
            NDArray a;
            if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.endsWith("ln_f.weight")) {
                a = m.ones(shape, DataType.FLOAT32);
            } else if (name.endsWith(".bias")) {
                a = Weights.zeros(m, shape);
            } else if (name.endsWith("c_proj.weight")) {
                a = Weights.normal(m, shape, projStd, rng);
            } else {
                a = Weights.normal(m, shape, std, rng);
            }
            w.put(name, a);
        }
    }

    /**
     * Returns the HF names and shapes of the transformer's tensors, in state-dict order.
     *
     * @param c the configuration
     * @return name to shape
     */
    public static Map<String, Shape> expectedShapes(Gpt2Config c) {
        Map<String, Shape> s = new LinkedHashMap<>();
        long d = c.nEmbd();
        s.put(PREFIX + "wte.weight", new Shape(c.vocabSize(), d));
        s.put(PREFIX + "wpe.weight", new Shape(c.nPositions(), d));
        for (int l = 0; l < c.nLayer(); l++) {
            String p = PREFIX + "h." + l + ".";
            s.put(p + "ln_1.weight", new Shape(d));
            s.put(p + "ln_1.bias", new Shape(d));
            s.put(p + "attn.c_attn.weight", new Shape(d, 3 * d));
            s.put(p + "attn.c_attn.bias", new Shape(3 * d));
            s.put(p + "attn.c_proj.weight", new Shape(d, d));
            s.put(p + "attn.c_proj.bias", new Shape(d));
            s.put(p + "ln_2.weight", new Shape(d));
            s.put(p + "ln_2.bias", new Shape(d));
            s.put(p + "mlp.c_fc.weight", new Shape(d, c.nInner()));
            s.put(p + "mlp.c_fc.bias", new Shape(c.nInner()));
            s.put(p + "mlp.c_proj.weight", new Shape(c.nInner(), d));
            s.put(p + "mlp.c_proj.bias", new Shape(d));
        }
        s.put(PREFIX + "ln_f.weight", new Shape(d));
        s.put(PREFIX + "ln_f.bias", new Shape(d));
        return s;
    }

    /**
     * Loads the transformer tensors of a model's weights into {@code into}, accepting both the
     * {@code transformer.}-prefixed layout of {@code GPT2LMHeadModel} and the unprefixed layout of the original
     * {@code gpt2} checkpoints; the non-persistent {@code attn.bias}/{@code attn.masked_bias} buffers are skipped.
     *
     * @param st the weights (one file or shards)
     * @param c the configuration its shapes must match
     * @param into the target weights (names are stored with the prefix)
     * @param used receives the file names consumed
     * @throws ModelFormatException when a tensor is missing or has the wrong shape
     */
    static void loadTransformer(ModelTensors st, Gpt2Config c, Weights into, Set<String> used)
            throws ModelFormatException {
        for (String name : st.entries().keySet()) {
            if (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                used.add(name);
            }
        }
        TransformerOps.loadTensors(st, expectedShapes(c), PREFIX, PREFIX + "wte.weight", into, used);
    }

    static void checkShapes(Gpt2Config c, Weights w) {
        TransformerOps.checkShapes(expectedShapes(c), w);
    }

    /** {@inheritDoc} */
    @Override
    public Gpt2Config config() {
        return config;
    }

    /** {@inheritDoc} */
    @Override
    public Weights weights() {
        return weights;
    }

    /**
     * Returns an independent copy of this model (e.g. the frozen reference policy).
     *
     * @param parent the parent manager of the copy
     * @return the copy
     */
    @Override
    public Gpt2 copy(NDManager parent) {
        return new Gpt2(config, weights.copy(parent), generation);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray hidden(NDArray ids, NDArray mask, KvCache cache, ForwardHook hook) {
        return transformer(weights, config, ids, mask, cache, hook);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logits(NDArray hidden, ForwardHook hook) {
        // tied head: logits = h W_teᵀ (HF lm_head.weight is wte.weight)
        String head = PREFIX + "wte.weight";
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
     * The GPT-2 transformer as a pure function of its weights (shared by {@link Gpt2} and {@link ScalarModel}).
     *
     * @param w weights with {@code transformer.}-prefixed names
     * @param c configuration
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask, 1 for real tokens
     * @param cache past keys/values or null
     * @return {@code [B, T, d]} hidden states after {@code ln_f}
     */
    static NDArray transformer(Weights weights, Gpt2Config c, NDArray ids, NDArray mask, KvCache cache,
            ForwardHook hook) {
        Params w = new Params(weights, hook);
        TransformerOps.AttentionInputs in = TransformerOps.attentionInputs(ids, mask, cache, c);
        long batch = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        String p = PREFIX;
        NDArray x = Embedding.embedding(ids.toType(DataType.INT64, false), w.get(p + "wte.weight"), SparseFormat.DENSE)
                .singletonOrThrow();
        NDArray pe = Embedding.embedding(in.positions(), w.get(p + "wpe.weight"), SparseFormat.DENSE)
                .singletonOrThrow();
        NDArray h = x.add(pe);
        int heads = c.nHead();
        long hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float eps = (float) c.layerNormEpsilon();
        boolean exactGelu = "gelu".equals(c.activationFunction());
        Shape dShape = new Shape(c.nEmbd());
        NDArray scaleArray = null; // 1/√d_head as one scalar of q's type for every layer
        for (int l = 0; l < c.nLayer(); l++) {
          NDScope scope = TransformerOps.layerScope(cache, hook);
          try {
            String b = p + "h." + l + ".";
            NDArray a = LayerNorm.layerNorm(h, dShape, w.get(b + "ln_1.weight"), w.get(b + "ln_1.bias"), eps)
                    .singletonOrThrow();
            NDArray qkv = w.conv1d(a, b + "attn.c_attn");
            NDList parts = qkv.split(3, 2);
            NDArray q = parts.get(0).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3);
            if (scaleArray == null) {
                scaleArray = TensorOps.scalar(q, scale);
                TransformerOps.keep(scope, scaleArray);
            }
            q = q.mul(scaleArray);
            NDArray k = parts.get(1).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3);
            NDArray v = parts.get(2).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3);
            NDArray o = TransformerOps.attend(q, k, v, in.bias(), cache, l)
                    .transpose(0, 2, 1, 3)
                    .reshape(batch, t, c.nEmbd());
            h = h.add(w.conv1d(o, b + "attn.c_proj"));
            NDArray u = LayerNorm.layerNorm(h, dShape, w.get(b + "ln_2.weight"), w.get(b + "ln_2.bias"), eps)
                    .singletonOrThrow();
            NDArray f = TransformerOps.gelu(w.conv1d(u, b + "mlp.c_fc"), exactGelu);
            h = h.add(w.conv1d(f, b + "mlp.c_proj"));
            TransformerOps.keep(scope, h);
          } finally {
            TransformerOps.endLayer(scope);
          }
        }
        in.commit(cache);
        return LayerNorm.layerNorm(h, dShape, w.get(p + "ln_f.weight"), w.get(p + "ln_f.bias"), eps)
                .singletonOrThrow();
    }
}
