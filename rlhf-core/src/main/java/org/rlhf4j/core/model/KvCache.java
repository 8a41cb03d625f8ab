package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.OptionalInt;

/**
 * Keys and values of past positions for incremental decoding, plus the attention mask of those positions.
 *
 * <p>Per layer, keys and values are {@code [B, H_kv, T_past, d_head]}. A cache works in one of two ways:
 *
 * <ul>
 *   <li><b>Preallocated</b> ({@link #KvCache(int, int)}, what the generator uses): at a layer's first write, keys and
 *       values of {@code [B, H_kv, capacity, d_head]} are allocated with the dtype, device and shape of the first
 *       keys and values; every write then copies only the new positions into the slice
 *       {@code [:, :, T_past : T_past + T]} in place (torch {@code index_put_} on a slice, i.e. a {@code copy_} into a
 *       view), and attention reads the view {@code [:, :, : T_past + T]} (a slice sharing storage, no copy). A decoding
 *       step therefore writes {@code 2·L·B·H_kv·d_head} numbers instead of copying the whole past. This is the idea of
 *       transformers' {@code StaticCache} ({@code cache_utils.py}, {@code StaticLayer.lazy_initialization} and
 *       {@code update}: lazily allocated {@code [B, H, max_cache_len, d]} tensors written with {@code index_copy_}),
 *       except that attention here sees only the written prefix rather than all {@code max_cache_len} positions.
 *       Writing past the capacity is an {@link IllegalStateException}.
 *   <li><b>Unbounded</b> ({@link #KvCache(int)}): each write concatenates the new positions to the past and closes
 *       the arrays it replaces (one copy of the past per write; for callers that do not know the final length).
 * </ul>
 *
 * <p>The mask ({@code [B, T_past]}) is small and is concatenated in both modes. Arrays held here are removed from the
 * current {@link NDScope}, so a per-step scope around a decoding step does not close them; {@link #close()} releases
 * them.
 */
public final class KvCache implements AutoCloseable {

    private final NDArray[] keys;
    private final NDArray[] values;
    /** Positions written per layer (preallocated mode; the arrays' length in unbounded mode). */
    private final long[] written;
    /** Positions per layer, or −1 for an unbounded cache. */
    private final int capacity;
    private NDArray mask;

    /**
     * Creates an empty unbounded cache, which concatenates at every write.
     *
     * @param numLayers the model's number of blocks
     * @throws IllegalArgumentException when {@code numLayers < 1}
     */
    public KvCache(int numLayers) {
        this(numLayers, -1, true);
    }

    /**
     * Creates an empty preallocated cache of {@code capacity} positions per layer, written in place.
     *
     * @param numLayers the model's number of blocks
     * @param capacity the most positions the cache will hold (prompt + new tokens)
     * @throws IllegalArgumentException when {@code numLayers < 1} or {@code capacity < 1}
     */
    public KvCache(int numLayers, int capacity) {
        this(numLayers, capacity, false);
        if (capacity < 1) {
            throw new IllegalArgumentException("KV cache capacity must be >= 1, got " + capacity);
        }
    }

    private KvCache(int numLayers, int capacity, boolean unbounded) {
        if (numLayers < 1) {
            throw new IllegalArgumentException("numLayers must be >= 1, got " + numLayers);
        }
        this.keys = new NDArray[numLayers];
        this.values = new NDArray[numLayers];
        this.written = new long[numLayers];
        this.capacity = unbounded ? -1 : capacity;
    }

    /**
     * Returns the number of cached positions.
     *
     * @return T_past (0 when empty)
     */
    public long length() {
        return mask == null ? 0 : mask.getShape().get(1);
    }

    /**
     * Returns the capacity of a preallocated cache.
     *
     * @return positions per layer, or empty for an unbounded cache
     */
    public OptionalInt capacity() {
        return capacity < 0 ? OptionalInt.empty() : OptionalInt.of(capacity);
    }

    /**
     * Returns the attention mask of the cached positions ({@code [B, T_past]}, float32 0/1), or null when empty.
     *
     * @return the mask
     */
    public NDArray mask() {
        return mask;
    }

    /** The keys held for a layer (preallocated: the whole buffer; unbounded: the concatenation), or null; for tests. */
    NDArray keyBuffer(int layer) {
        return keys[layer];
    }

    void setMask(NDArray newMask) {
        NDScope.unregister(newMask);
        if (mask != null && mask != newMask) {
            mask.close();
        }
        mask = newMask;
    }

    /**
     * Appends one layer's new keys and values and returns the keys and values of every position, past and new.
     * Preallocated: the new positions are copied into the buffers in place and the result is a view
     * {@code [:, :, :T_past + T]} of them, owned by {@code k}'s manager (a step's scope closes the view, never the
     * buffers). Unbounded: the result is the concatenation, which the cache keeps.
     *
     * @param layer the layer index
     * @param k {@code [B, H_kv, T, d_head]} keys of the new positions
     * @param v {@code [B, H_kv, T, d_head]} values of the new positions
     * @return keys and values, each {@code [B, H_kv, T_past + T, d_head]}
     * @throws IllegalStateException when a preallocated cache would exceed its capacity, or the new keys do not match
     *     the buffers' batch, heads, head size or dtype
     */
    NDList append(int layer, NDArray k, NDArray v) {
        long t = k.getShape().get(2);
        if (capacity < 0) {
            if (keys[layer] != null) {
                k = keys[layer].concat(k, 2);
                v = values[layer].concat(v, 2);
            }
            NDScope.unregister(k, v);
            if (keys[layer] != null) {
                keys[layer].close();
                values[layer].close();
            }
            keys[layer] = k;
            values[layer] = v;
            written[layer] += t;
            return new NDList(k, v);
        }
        long past = written[layer];
        if (past + t > capacity) {
            throw new IllegalStateException("KV cache of capacity " + capacity + " cannot take " + t
                    + " new position(s) after " + past + " at layer " + layer);
        }
        if (keys[layer] == null) {
            keys[layer] = allocate(k);
            values[layer] = allocate(v);
        } else {
            checkMatches("keys", keys[layer], k, layer);
            checkMatches("values", values[layer], v, layer);
        }
        NDIndex slot = new NDIndex(":, :, {}:{}", past, past + t);
        keys[layer].set(slot, k); // in place: index_put_ on a slice = copy_ into a view of the buffer
        values[layer].set(slot, v);
        written[layer] = past + t;
        NDIndex prefix = new NDIndex(":, :, :{}", past + t);
        NDManager owner = k.getManager();
        return new NDList(keys[layer].get(owner, prefix), values[layer].get(owner, prefix));
    }

    private NDArray allocate(NDArray like) {
        Shape s = like.getShape();
        if (s.dimension() != 4) {
            throw new IllegalStateException("KV cache expects [B, H, T, d_head] keys and values, got " + s);
        }
        NDArray buf = like.getManager().zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), like.getDataType(),
                like.getDevice());
        NDScope.unregister(buf);
        return buf;
    }

    private static void checkMatches(String what, NDArray buffer, NDArray x, int layer) {
        Shape b = buffer.getShape();
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(0) != b.get(0) || s.get(1) != b.get(1) || s.get(3) != b.get(3)
                || x.getDataType() != buffer.getDataType()) {
            throw new IllegalStateException("KV cache layer " + layer + " holds " + what + " " + b + " "
                    + buffer.getDataType() + " but got new " + what + " " + s + " " + x.getDataType());
        }
    }

    /** Releases every cached array. */
    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                keys[i].close();
                values[i].close();
                keys[i] = null;
                values[i] = null;
            }
            written[i] = 0;
        }
        if (mask != null) {
            mask.close();
            mask = null;
        }
    }
}
