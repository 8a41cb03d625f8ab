package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.ndarray.types.SparseFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.tensor.TensorOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPT-2 causal language model with exact Hugging Face {@code GPT2LMHeadModel} semantics.
 *
 * <p>For input ids x and positions p (from the attention mask): h⁰ = W_te[x] + W_pe[p]; for each block
 * a = h + Attn(LN₁(h)), h = a + MLP(LN₂(a)) with MLP(u) = gelu_new(u W_fc + b_fc) W_proj + b_proj, where
 * gelu_new(u) = ½u(1 + tanh(√(2/π)(u + 0.044715u³))); the output is LN_f(h) and logits = LN_f(h) W_teᵀ (tied head).
 * Attention is causal softmax(QKᵀ/√d_head + M)V over non-padding keys. Conv1D weights are stored {@code [in, out]}
 * as in HF, so {@code model.safetensors} loads and saves without renaming. Dropout is not applied (RLHF references
 * disable it: it would make rollout and training log-probabilities disagree).
 */
public final class Gpt2 implements CausalLm {

    private static final Logger LOG = LoggerFactory.getLogger(Gpt2.class);

    /** Prefix of the transformer's tensors in HF {@code GPT2LMHeadModel} state dicts. */
    public static final String PREFIX = "transformer.";

    /** Additive attention-mask value for disallowed keys. */
    private static final float MASKED = -1e9f;

    private final Gpt2Config config;
    private final Weights weights;

    private Gpt2(Gpt2Config config, Weights weights) {
        this.config = config;
        this.weights = weights;
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
        return new Gpt2(config, w);
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
        return new Gpt2(config, weights);
    }

    /**
     * Loads {@code config.json} and {@code model.safetensors} from an HF-format directory. Tensors are copied into
     * memory owned by the model (the file can then be overwritten); F16/BF16 are widened to F32.
     *
     * @param dir the directory
     * @param parent the parent manager (device)
     * @return the model
     * @throws IOException when a file is missing or inconsistent; the message names file and tensor
     */
    public static Gpt2 load(Path dir, NDManager parent) throws IOException {
        Gpt2Config config = Gpt2Config.read(dir.resolve("config.json"));
        Weights w = new Weights(parent);
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            Set<String> used = new HashSet<>();
            loadTransformer(st, config, w, used);
            warnUnused(st, used, Set.of("lm_head.weight"));
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return new Gpt2(config, w);
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
     * Loads the transformer tensors of a safetensors file into {@code into}, accepting both the
     * {@code transformer.}-prefixed layout of {@code GPT2LMHeadModel} and the unprefixed layout of the original
     * {@code gpt2} checkpoints; the non-persistent {@code attn.bias}/{@code attn.masked_bias} buffers are skipped.
     *
     * @param st the file
     * @param c the configuration its shapes must match
     * @param into the target weights (names are stored with the prefix)
     * @param used receives the file names consumed
     * @throws ModelFormatException when a tensor is missing or has the wrong shape
     */
    static void loadTransformer(SafeTensors st, Gpt2Config c, Weights into, Set<String> used)
            throws ModelFormatException {
        boolean prefixed = st.entries().containsKey(PREFIX + "wte.weight");
        if (!prefixed && !st.entries().containsKey("wte.weight")) {
            throw new ModelFormatException(st.file(), "missing tensor '" + PREFIX + "wte.weight'");
        }
        for (String name : st.entries().keySet()) {
            if (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                used.add(name);
            }
        }
        for (Map.Entry<String, Shape> e : expectedShapes(c).entrySet()) {
            String fileName = prefixed ? e.getKey() : e.getKey().substring(PREFIX.length());
            SafeTensors.Entry entry = st.entries().get(fileName);
            if (entry == null) {
                throw new ModelFormatException(st.file(), "missing tensor '" + fileName + "'");
            }
            if (!entry.shape().equals(e.getValue())) {
                throw new ModelFormatException(
                        st.file(),
                        "tensor '" + fileName + "' has shape " + entry.shape() + " but config.json implies "
                                + e.getValue());
            }
            if (entry.dtype().loadedAs() != DataType.FLOAT32 && entry.dtype().loadedAs() != DataType.FLOAT64) {
                throw new ModelFormatException(
                        st.file(), "tensor '" + fileName + "' has dtype " + entry.dtype() + ", expected a float type");
            }
            NDArray view = st.load(fileName, into.manager());
            NDArray owned = Weights.ownedFloat32(view);
            view.close();
            into.put(e.getKey(), owned);
            used.add(fileName);
        }
    }

    static void warnUnused(SafeTensors st, Set<String> used, Set<String> ignorable) {
        List<String> unused = new ArrayList<>();
        for (String n : st.entries().keySet()) {
            if (!used.contains(n) && !ignorable.contains(n)) {
                unused.add(n);
            }
        }
        if (!unused.isEmpty()) {
            LOG.warn("{}: {} tensor(s) not used by the model: {}", st.file(), unused.size(), unused);
        }
    }

    static void checkShapes(Gpt2Config c, Weights w) {
        for (Map.Entry<String, Shape> e : expectedShapes(c).entrySet()) {
            if (!w.contains(e.getKey())) {
                throw new IllegalArgumentException("missing parameter '" + e.getKey() + "'");
            }
            Shape s = w.get(e.getKey()).getShape();
            if (!s.equals(e.getValue())) {
                throw new IllegalArgumentException(
                        "parameter '" + e.getKey() + "' has shape " + s + ", expected " + e.getValue());
            }
        }
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
    public Gpt2 copy(NDManager parent) {
        Weights w = new Weights(parent);
        for (Map.Entry<String, NDArray> e : weights.asMap().entrySet()) {
            w.put(e.getKey(), e.getValue().duplicate());
        }
        return new Gpt2(config, w);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray hidden(NDArray ids, NDArray mask, KvCache cache) {
        return transformer(weights, config, ids, mask, cache);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logits(NDArray hidden) {
        // tied head: logits = h W_teᵀ (HF lm_head.weight is wte.weight)
        return Linear.linear(hidden, weights.get(PREFIX + "wte.weight")).singletonOrThrow();
    }

    /** {@inheritDoc} */
    @Override
    public void save(Path dir) throws IOException {
        config.write(dir.resolve("config.json"));
        org.rlhf4j.core.io.SafeTensors.write(dir.resolve("model.safetensors"), weights.asMap(), Map.of());
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
    static NDArray transformer(Weights w, Gpt2Config c, NDArray ids, NDArray mask, KvCache cache) {
        Shape is = ids.getShape();
        if (is.dimension() != 2 || !mask.getShape().equals(is)) {
            throw new IllegalArgumentException(
                    "ids and mask must both be [B, T]; got ids " + is + ", mask " + mask.getShape());
        }
        long batch = is.get(0);
        long t = is.get(1);
        long past = cache == null ? 0 : cache.length();
        if (past + t > c.nPositions()) {
            throw new IllegalArgumentException(
                    "sequence length " + (past + t) + " exceeds n_positions=" + c.nPositions());
        }
        NDManager m = ids.getManager();
        NDArray maskF = mask.toType(DataType.FLOAT32, false);
        // positions from the mask (HF: cumsum(mask) - 1, pads clamped): left padding does not shift real tokens
        NDArray pos = TensorOps.sub(maskF.cumSum(1), 1);
        NDArray fullMask = maskF;
        if (cache != null && cache.mask() != null) {
            pos = pos.add(cache.mask().sum(new int[] {1}, true));
            fullMask = cache.mask().concat(maskF, 1);
        }
        pos = TensorOps.maximum(pos, 0).toType(DataType.INT64, false);
        long keys = past + t;
        // additive mask [B, 1, T, T_k]: 0 where key j <= query position and key j is real, −1e9 elsewhere
        NDArray qPos = m.arange(past, past + t, 1, DataType.FLOAT32).reshape(t, 1);
        NDArray kPos = m.arange(0, keys, 1, DataType.FLOAT32).reshape(1, keys);
        NDArray causal = kPos.lte(qPos).toType(DataType.FLOAT32, false);
        NDArray allowed = causal.expandDims(0).mul(fullMask.expandDims(1));
        NDArray additive = TensorOps.mul(TensorOps.sub(allowed, 1), -MASKED).expandDims(1);

        String p = PREFIX;
        NDArray x = Embedding.embedding(ids.toType(DataType.INT64, false), w.get(p + "wte.weight"), SparseFormat.DENSE)
                .singletonOrThrow();
        NDArray pe = Embedding.embedding(pos, w.get(p + "wpe.weight"), SparseFormat.DENSE).singletonOrThrow();
        NDArray h = x.add(pe);
        int heads = c.nHead();
        long hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float eps = (float) c.layerNormEpsilon();
        Shape dShape = new Shape(c.nEmbd());
        for (int l = 0; l < c.nLayer(); l++) {
            String b = p + "h." + l + ".";
            NDArray a = LayerNorm.layerNorm(h, dShape, w.get(b + "ln_1.weight"), w.get(b + "ln_1.bias"), eps)
                    .singletonOrThrow();
            NDArray qkv = conv1d(a, w.get(b + "attn.c_attn.weight"), w.get(b + "attn.c_attn.bias"));
            NDList parts = qkv.split(3, 2);
            NDArray q = TensorOps.mul(parts.get(0).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3), scale);
            NDArray k = parts.get(1).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3);
            NDArray v = parts.get(2).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3);
            if (cache != null) {
                if (cache.key(l) != null) {
                    k = cache.key(l).concat(k, 2);
                    v = cache.value(l).concat(v, 2);
                }
                cache.set(l, k, v);
            }
            NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).add(additive).softmax(-1);
            NDArray o = att.matMul(v).transpose(0, 2, 1, 3).reshape(batch, t, c.nEmbd());
            h = h.add(conv1d(o, w.get(b + "attn.c_proj.weight"), w.get(b + "attn.c_proj.bias")));
            NDArray u = LayerNorm.layerNorm(h, dShape, w.get(b + "ln_2.weight"), w.get(b + "ln_2.bias"), eps)
                    .singletonOrThrow();
            NDArray f = activation(conv1d(u, w.get(b + "mlp.c_fc.weight"), w.get(b + "mlp.c_fc.bias")), c);
            h = h.add(conv1d(f, w.get(b + "mlp.c_proj.weight"), w.get(b + "mlp.c_proj.bias")));
        }
        if (cache != null) {
            cache.setMask(fullMask == maskF ? maskF.duplicate() : fullMask);
        }
        return LayerNorm.layerNorm(h, dShape, w.get(p + "ln_f.weight"), w.get(p + "ln_f.bias"), eps)
                .singletonOrThrow();
    }

    /** HF Conv1D: x W + b with W stored [in, out]. */
    private static NDArray conv1d(NDArray x, NDArray weight, NDArray bias) {
        return x.matMul(weight).add(bias);
    }

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

    /**
     * The configured activation: {@code gelu_new} = ½u(1 + tanh(√(2/π)(u + 0.044715u³))) or exact erf GELU.
     *
     * @param u input
     * @param c config naming the activation
     * @return activation
     */
    static NDArray activation(NDArray u, Gpt2Config c) {
        if ("gelu".equals(c.activationFunction())) {
            return TensorOps.mul(u, 0.5).mul(TensorOps.add(TensorOps.mul(u, 1 / Math.sqrt(2)).erf(), 1));
        }
        NDArray inner = TensorOps.mul(TensorOps.mul(u.mul(u).mul(u), 0.044715).add(u), SQRT_2_OVER_PI);
        return TensorOps.mul(u, 0.5).mul(TensorOps.add(inner.tanh(), 1));
    }
}
