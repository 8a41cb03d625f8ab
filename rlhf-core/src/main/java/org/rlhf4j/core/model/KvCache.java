package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * Keys and values of past positions for incremental decoding, plus the attention mask of those positions.
 *
 * <p>Per layer, keys and values are {@code [B, H, T_past, d_head]}. Each forward with a cache appends the new
 * positions and closes the arrays it replaces, so a cache holds exactly one copy of the past whatever the number of
 * steps. Arrays held here are removed from the current {@link NDScope}, so a per-step scope around a decoding step
 * does not close them; {@link #close()} releases them.
 */
public final class KvCache implements AutoCloseable {

    private final NDArray[] keys;
    private final NDArray[] values;
    private NDArray mask;

    /**
     * Creates an empty cache.
     *
     * @param numLayers the model's number of blocks
     */
    public KvCache(int numLayers) {
        this.keys = new NDArray[numLayers];
        this.values = new NDArray[numLayers];
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
     * Returns the attention mask of the cached positions ({@code [B, T_past]}, float32 0/1), or null when empty.
     *
     * @return the mask
     */
    public NDArray mask() {
        return mask;
    }

    NDArray key(int layer) {
        return keys[layer];
    }

    NDArray value(int layer) {
        return values[layer];
    }

    void setMask(NDArray newMask) {
        NDScope.unregister(newMask);
        if (mask != null && mask != newMask) {
            mask.close();
        }
        mask = newMask;
    }

    void set(int layer, NDArray k, NDArray v) {
        NDScope.unregister(k, v);
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = k;
        values[layer] = v;
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
        }
        if (mask != null) {
            mask.close();
            mask = null;
        }
    }
}
