package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.tensor.FusedOps;
import org.rlhf4j.core.tensor.TensorOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pieces shared by the decoder-only transformers ({@link Gpt2}, {@link GptNeoX}, {@link Llama}): position ids and the
 * additive attention bias from a left-padded mask and a KV cache, causal softmax attention with the cache (and its
 * grouped-query and sliding-window variants), GELU, and loading a set of expected tensors from a model directory's
 * weights (one safetensors file or shards).
 */
final class TransformerOps {

    /**
     * A scope for one transformer layer of a plain forward without a KV cache (training, scoring), or null: every
     * array the layer makes is closed when its scope closes except what {@link #endLayer} keeps, so that memory the
     * backward pass does not need is freed at once, as Python frees a layer's temporaries (autograd holds its own
     * references to what it saved). DJL otherwise keeps every intermediate of a step until the step's manager
     * closes: at the 107M-parameter Llama, DPO's 16 sequences held 10.8 GB (TRL: 3.2 GB). Forwards with a cache
     * (the cache's arrays are made inside the layer and must outlive it) or with a hook (LoRA, fp16 views, which may
     * keep arrays across layers) are not scoped.
     *
     * @param cache the pass's KV cache, or null
     * @param hook the pass's hook, or null
     * @return the scope, or null when this forward is not scoped
     */
    static NDScope layerScope(KvCache cache, ForwardHook hook) {
        return cache == null && (hook == null || hook == ForwardHook.NONE) ? new NDScope() : null;
    }

    /**
     * Keeps {@code arrays} (the layer's output, or arrays made once and reused by later layers) out of a
     * {@link #layerScope}; a no-op for a null scope.
     *
     * @param scope the layer's scope, or null
     * @param arrays the arrays to keep
     */
    static void keep(NDScope scope, NDArray... arrays) {
        if (scope != null) {
            NDScope.unregister(arrays);
        }
    }

    /**
     * Closes a {@link #layerScope} (null: nothing to do).
     *
     * @param scope the scope, or null
     */
    static void endLayer(NDScope scope) {
        if (scope != null) {
            scope.close();
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(TransformerOps.class);

    /** Additive attention-mask value for disallowed keys. */
    static final float MASKED = -1e9f;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private TransformerOps() {}

    /**
     * What one forward pass needs from the mask and the cache.
     *
     * @param positions {@code [B, T]} int64 position ids of the new tokens
     * @param keyMask {@code [B, T_past + T]} float32 mask of every key (cached and new)
     * @param bias {@code [B, 1, T, T_past + T]} additive attention bias: 0 where allowed, −1e9 elsewhere
     * @param inputMask {@code [B, T]} float32 mask of the new tokens
     */
    record AttentionInputs(NDArray positions, NDArray keyMask, NDArray bias, NDArray inputMask) {

        /**
         * Stores the mask of every key in the cache, after the layers appended their keys and values.
         *
         * @param cache the cache, or null
         */
        void commit(KvCache cache) {
            if (cache != null) {
                cache.setMask(keyMask == inputMask ? inputMask.duplicate() : keyMask);
            }
        }
    }

    /**
     * Derives positions and the attention bias. Positions are HF's {@code cumsum(mask) - 1} (pads clamped to 0)
     * continued from the cached mask, so left padding does not shift real tokens; a key is allowed when it is real
     * and not after the query.
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @param cache past keys/values or null
     * @param config the model's configuration (maximum positions)
     * @return the inputs
     * @throws IllegalArgumentException when shapes disagree or the sequence is longer than the model allows
     */
    static AttentionInputs attentionInputs(NDArray ids, NDArray mask, KvCache cache, ModelConfig config) {
        return attentionInputs(ids, mask, cache, config.maxPositions(), config.maxPositionsField());
    }

    /**
     * Derives positions and the attention bias as {@link #attentionInputs(NDArray, NDArray, KvCache, ModelConfig)}
     * with an explicit length limit (a Llama with dynamic NTK rotary runs beyond {@code max_position_embeddings}).
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @param cache past keys/values or null
     * @param limit the longest allowed cached + new length
     * @param limitField the config field the limit comes from, for the message
     * @return the inputs
     * @throws IllegalArgumentException when shapes disagree or the sequence is longer than the limit
     */
    static AttentionInputs attentionInputs(NDArray ids, NDArray mask, KvCache cache, long limit, String limitField) {
        Shape is = ids.getShape();
        if (is.dimension() != 2 || !mask.getShape().equals(is)) {
            throw new IllegalArgumentException(
                    "ids and mask must both be [B, T]; got ids " + is + ", mask " + mask.getShape());
        }
        long t = is.get(1);
        long past = cache == null ? 0 : cache.length();
        if (past + t > limit) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds " + limitField + "=" + limit);
        }
        NDManager m = ids.getManager();
        NDArray maskF = mask.toType(DataType.FLOAT32, false);
        NDArray pos = TensorOps.sub(maskF.cumSum(1), 1);
        NDArray fullMask = maskF;
        if (cache != null && cache.mask() != null) {
            pos = pos.add(cache.mask().sum(new int[] {1}, true));
            fullMask = cache.mask().concat(maskF, 1);
        }
        pos = TensorOps.maximum(pos, 0).toType(DataType.INT64, false);
        long keys = past + t;
        NDArray qPos = m.arange(past, past + t, 1, DataType.FLOAT32).reshape(t, 1);
        NDArray kPos = m.arange(0, keys, 1, DataType.FLOAT32).reshape(1, keys);
        NDArray causal = kPos.lte(qPos).toType(DataType.FLOAT32, false);
        NDArray allowed = causal.expandDims(0).mul(fullMask.expandDims(1));
        NDArray additive = TensorOps.mul(TensorOps.sub(allowed, 1), -MASKED).expandDims(1);
        return new AttentionInputs(pos, fullMask, additive, maskF);
    }

    /**
     * Causal softmax attention of one layer, appending the new keys and values to the cache: softmax(q kᵀ + bias) v.
     * With a preallocated cache ({@link KvCache#KvCache(int, int)}) k and v here are views of the cache's buffers
     * (the written prefix, no copy) and the new positions are copied into them in place ({@link KvCache#append}).
     * Under fp16 mixed precision ({@link ForwardHook#computeType()}) q and k are cast to v's type, q kᵀ is a float16
     * matmul, adding the float32 bias promotes the scores to float32, the softmax is float32 and is cast back to
     * float16 for the product with v (HF {@code eager_attention_forward}: {@code softmax(..., dtype=float32)
     * .to(query.dtype)}); in float32 nothing is cast.
     *
     * @param q {@code [B, H, T, d_head]} queries, already scaled by 1/√d_head
     * @param k {@code [B, H, T, d_head]} keys of the new positions
     * @param v {@code [B, H, T, d_head]} values of the new positions
     * @param bias the additive bias of {@link #attentionInputs}
     * @param cache the cache or null
     * @param layer the layer index
     * @return {@code [B, H, T, d_head]}
     */
    static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray bias, KvCache cache, int layer) {
        q = Params.cast(q, v.getDataType());
        k = Params.cast(k, v.getDataType());
        if (cache != null) {
            NDList past = cache.append(layer, k, v); // preallocated: views [:, :, :T_past + T] of in-place buffers
            k = past.get(0);
            v = past.get(1);
        }
        NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).add(bias).softmax(-1);
        return Params.cast(att, v.getDataType()).matMul(v);
    }

    /**
     * Grouped-query attention ({@code modeling_llama.py} {@code eager_attention_forward}): keys and values have
     * H/groups heads, are cached that way, and each is repeated for {@code groups} consecutive query heads
     * ({@code repeat_kv}) before softmax(q kᵀ + bias) v. The cache is used as in
     * {@link #attend(NDArray, NDArray, NDArray, NDArray, KvCache, int)} (H_kv heads are cached, the repeat happens
     * after).
     *
     * @param q {@code [B, H, T, d_head]} queries, already scaled
     * @param k {@code [B, H_kv, T, d_head]} keys of the new positions
     * @param v {@code [B, H_kv, T, d_head]} values of the new positions
     * @param bias the additive bias ({@code [B, 1, T, T_past + T]})
     * @param cache the cache or null
     * @param layer the layer index
     * @param groups H / H_kv
     * @return {@code [B, H, T, d_head]}
     */
    static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray bias, KvCache cache, int layer, int groups) {
        q = Params.cast(q, v.getDataType());
        k = Params.cast(k, v.getDataType());
        if (cache != null) {
            NDList past = cache.append(layer, k, v); // preallocated: views [:, :, :T_past + T] of in-place buffers
            k = past.get(0);
            v = past.get(1);
        }
        NDArray kr = repeatKv(k, groups);
        NDArray vr = repeatKv(v, groups);
        NDArray att = q.matMul(kr.transpose(0, 1, 3, 2)).add(bias).softmax(-1);
        return Params.cast(att, vr.getDataType()).matMul(vr);
    }

    /** HF {@code repeat_kv}: {@code [B, H_kv, T, D]} to {@code [B, H_kv·n, T, D]}, head i·n + r = head i. */
    private static NDArray repeatKv(NDArray x, int n) {
        if (n == 1) {
            return x;
        }
        Shape s = x.getShape();
        return x.expandDims(2)
                .broadcast(new Shape(s.get(0), s.get(1), n, s.get(2), s.get(3)))
                .reshape(s.get(0), s.get(1) * n, s.get(2), s.get(3));
    }

    /**
     * The additive bias of a sliding window over cache indices ({@code masking_utils.sliding_window_overlay}): a query
     * at index i (counting cached positions, padding included, as {@code transformers} does) may see keys at
     * indices j &gt; i − W; −1e9 elsewhere.
     *
     * @param m the manager
     * @param past cached positions
     * @param t new positions
     * @param window W
     * @return {@code [T, T_past + T]}
     */
    static NDArray windowBias(NDManager m, long past, long t, int window) {
        long keys = past + t;
        NDArray qPos = m.arange(past, past + t, 1, DataType.FLOAT32).reshape(t, 1);
        NDArray kPos = m.arange(0, keys, 1, DataType.FLOAT32).reshape(1, keys);
        NDArray outside = kPos.lte(TensorOps.sub(qPos, window)).toType(DataType.FLOAT32, false);
        return TensorOps.mul(outside, MASKED);
    }

    /**
     * GELU: exact ½u(1 + erf(u/√2)), or the tanh approximation ½u(1 + tanh(√(2/π)(u + 0.044715u³))) of
     * {@code gelu_new}, {@code gelu_fast} and {@code gelu_pytorch_tanh}.
     *
     * <p>The exact form is torch's own {@code gelu} (HF {@code GELUActivation} is {@code nn.functional.gelu}), one op
     * whose backward is torch's fused {@code gelu_backward} (DJL {@code NDArrayEx.gelu}: JNI {@code torchNNGelu},
     * {@code torch::nn::functional::gelu} with the default {@code approximate="none"}), instead of four elementwise
     * ops and their four backward nodes. DJL exposes no tanh-approximate GELU; that form is torch's own
     * {@code gelu(approximate="tanh")} run as TorchScript ({@link FusedOps#geluTanh}, one op forward and backward),
     * or, where that module cannot be loaded, the composition of {@link #geluTanhComposed}.
     *
     * @param u input
     * @param exact whether to use the erf form
     * @return activation
     */
    static NDArray gelu(NDArray u, boolean exact) {
        if (exact) {
            return u.getNDArrayInternal().gelu();
        }
        if (FusedOps.available() && u.getName() == null) {
            return FusedOps.geluTanh(u);
        }
        return geluTanhComposed(u);
    }

    /**
     * The tanh GELU from DJL ops, where the TorchScript op is unavailable: ½u(1 + tanh(√(2/π)(u + 0.044715u³))) in
     * nine elementwise ops, as rlhf4j computed it before {@link FusedOps}. (The equivalent u·σ(2z) would take six,
     * but its float32 gradient was 1.3e-6 (relative to the largest) off the float64 truth against under 1e-6 here.)
     *
     * @param u input
     * @return the activation
     */
    static NDArray geluTanhComposed(NDArray u) {
        NDArray inner = TensorOps.mul(TensorOps.mul(u.mul(u).mul(u), 0.044715).add(u), SQRT_2_OVER_PI);
        return TensorOps.mul(u, 0.5).mul(TensorOps.add(inner.tanh(), 1));
    }

    /**
     * Loads tensors of expected names and shapes into {@code into}, accepting files whose names carry the prefix
     * (a {@code *ForCausalLM} state dict) and files without it (the bare base model). The file's layout is decided by
     * the presence of the anchor tensor. The weights may be one file or shards ({@link ModelTensors}); F16 and BF16
     * tensors are widened to F32 in Java.
     *
     * @param st the weights
     * @param expected prefixed names to shapes, in state-dict order
     * @param prefix the prefix (e.g. {@code "transformer."}); names in {@code expected} without it are always looked
     *     up as they are
     * @param anchor a prefixed name that every file has (e.g. the token embedding)
     * @param into the target weights (names are stored as in {@code expected})
     * @param used receives the file names consumed
     * @throws ModelFormatException when a tensor is missing or has the wrong shape or type; names the file (the
     *     index for a missing tensor of sharded weights, else the file holding the tensor)
     */
    static void loadTensors(ModelTensors st, Map<String, Shape> expected, String prefix, String anchor, Weights into,
            Set<String> used) throws ModelFormatException {
        boolean prefixed = st.entries().containsKey(anchor);
        if (!prefixed && !st.entries().containsKey(anchor.substring(prefix.length()))) {
            throw new ModelFormatException(st.source(), "missing tensor '" + anchor + "'");
        }
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            String fileName = prefixed || !e.getKey().startsWith(prefix)
                    ? e.getKey()
                    : e.getKey().substring(prefix.length());
            SafeTensors.Entry entry = st.entries().get(fileName);
            if (entry == null) {
                throw new ModelFormatException(st.source(), "missing tensor '" + fileName + "'");
            }
            if (!entry.shape().equals(e.getValue())) {
                throw new ModelFormatException(
                        st.fileOf(fileName),
                        "tensor '" + fileName + "' has shape " + entry.shape() + " but config.json implies "
                                + e.getValue());
            }
            if (entry.dtype().loadedAs() != DataType.FLOAT32 && entry.dtype().loadedAs() != DataType.FLOAT64) {
                throw new ModelFormatException(st.fileOf(fileName),
                        "tensor '" + fileName + "' has dtype " + entry.dtype() + ", expected a float type");
            }
            NDArray view = st.load(fileName, into.manager());
            NDArray owned = Weights.ownedFloat32(view);
            view.close();
            into.put(e.getKey(), owned);
            used.add(fileName);
        }
    }

    /**
     * Loads tensors from one safetensors file ({@link #loadTensors(ModelTensors, Map, String, String, Weights, Set)}
     * over {@link ModelTensors#of}); architectures that read their weights with {@link ModelTensors#open} load
     * sharded directories too.
     *
     * @param st the file (stays open)
     * @param expected prefixed names to shapes, in state-dict order
     * @param prefix the prefix
     * @param anchor a prefixed name that every file has
     * @param into the target weights
     * @param used receives the file names consumed
     * @throws ModelFormatException when a tensor is missing or has the wrong shape or type
     */
    static void loadTensors(SafeTensors st, Map<String, Shape> expected, String prefix, String anchor, Weights into,
            Set<String> used) throws ModelFormatException {
        loadTensors(ModelTensors.of(st), expected, prefix, anchor, into, used);
    }

    /**
     * Logs (at WARN) the tensors of the weights that the model did not use, unless they are known to be ignorable.
     *
     * @param st the weights
     * @param used the names consumed
     * @param ignorable names that are expected and silently dropped (e.g. a tied output projection)
     */
    static void warnUnused(ModelTensors st, Set<String> used, Set<String> ignorable) {
        List<String> unused = new ArrayList<>();
        for (String n : st.entries().keySet()) {
            if (!used.contains(n) && !ignorable.contains(n)) {
                unused.add(n);
            }
        }
        if (!unused.isEmpty()) {
            LOG.warn("{}: {} tensor(s) not used by the model: {}", st.source(), unused.size(), unused);
        }
    }

    /**
     * Logs the unused tensors of one safetensors file ({@link #warnUnused(ModelTensors, Set, Set)}).
     *
     * @param st the file (stays open)
     * @param used the names consumed
     * @param ignorable names that are expected and silently dropped
     */
    static void warnUnused(SafeTensors st, Set<String> used, Set<String> ignorable) {
        warnUnused(ModelTensors.of(st), used, ignorable);
    }

    /**
     * Checks that weights hold every expected tensor with its shape.
     *
     * @param expected names to shapes
     * @param w the weights
     * @throws IllegalArgumentException naming the first missing or mis-shaped parameter
     */
    static void checkShapes(Map<String, Shape> expected, Weights w) {
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
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
}
