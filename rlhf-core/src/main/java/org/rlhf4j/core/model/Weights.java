package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Named parameter tensors of a model, in a fixed order, owned by one {@link NDManager}.
 *
 * <p>Names are the Hugging Face state-dict names ({@code transformer.h.0.attn.c_attn.weight}, ...), so a
 * {@code Weights} is exactly what {@code model.safetensors} holds. The order is the order of insertion, which the
 * optimizer and checkpoints rely on.
 */
public final class Weights implements AutoCloseable {

    private final NDManager manager;
    private final Map<String, NDArray> arrays = new LinkedHashMap<>();

    /**
     * Creates an empty set of weights owned by a child of {@code parent}.
     *
     * @param parent the parent manager (its device is used)
     */
    public Weights(NDManager parent) {
        this.manager = parent.newSubManager();
        this.manager.setName("weights");
    }

    /**
     * Returns the manager that owns the tensors.
     *
     * @return the manager
     */
    public NDManager manager() {
        return manager;
    }

    /**
     * Adds a tensor, moving it into this set's manager (and device).
     *
     * @param name the HF name
     * @param array the tensor; ownership moves here
     * @return the stored tensor
     */
    public NDArray put(String name, NDArray array) {
        NDArray a = array.getDevice().equals(manager.getDevice()) ? array : array.toDevice(manager.getDevice(), false);
        a.attach(manager);
        a.setName(name);
        NDArray old = arrays.put(name, a);
        if (old != null && old != a) {
            old.close();
        }
        return a;
    }

    /**
     * Returns a tensor by name.
     *
     * @param name the HF name
     * @return the tensor
     * @throws IllegalArgumentException when there is no such tensor
     */
    public NDArray get(String name) {
        NDArray a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'");
        }
        return a;
    }

    /**
     * Returns whether a tensor exists.
     *
     * @param name the HF name
     * @return true when present
     */
    public boolean contains(String name) {
        return arrays.containsKey(name);
    }

    /**
     * Returns the names in order.
     *
     * @return names
     */
    public Set<String> names() {
        return Collections.unmodifiableSet(arrays.keySet());
    }

    /**
     * Returns a read-only ordered view of name to tensor.
     *
     * @return the map
     */
    public Map<String, NDArray> asMap() {
        return Collections.unmodifiableMap(arrays);
    }

    /**
     * Returns the tensors in order.
     *
     * @return tensors
     */
    public List<NDArray> arrays() {
        return List.copyOf(arrays.values());
    }

    /**
     * Returns the total number of scalar parameters.
     *
     * @return parameter count
     */
    public long count() {
        long n = 0;
        for (NDArray a : arrays.values()) {
            n += a.getShape().size();
        }
        return n;
    }

    /**
     * Turns gradient tracking on or off for every tensor.
     *
     * @param requiresGrad whether gradients are needed
     */
    public void setRequiresGradient(boolean requiresGrad) {
        for (NDArray a : arrays.values()) {
            a.setRequiresGradient(requiresGrad);
        }
    }

    /**
     * Returns an independent copy of every tensor, same names and order, owned by a child of {@code parent} (e.g. a
     * frozen reference policy).
     *
     * @param parent the parent manager (its device is used)
     * @return the copy
     */
    public Weights copy(NDManager parent) {
        Weights w = new Weights(parent);
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            w.put(e.getKey(), e.getValue().duplicate());
        }
        return w;
    }

    /**
     * Copies every tensor's values from another set with the same names and shapes (no graph, in place).
     *
     * @param other the source
     */
    public void copyFrom(Weights other) {
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            NDArray src = other.get(e.getKey());
            if (!src.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException(
                        "shape of '" + e.getKey() + "' differs: " + src.getShape() + " vs " + e.getValue().getShape());
            }
            e.getValue().set(src.toDevice(e.getValue().getDevice(), false).toByteBuffer());
        }
    }

    /**
     * Creates a tensor of N(0, std²) values from a seeded Java RNG (identical on every engine and device).
     *
     * @param manager the owner
     * @param shape the shape
     * @param std the standard deviation
     * @param rng the random source
     * @return the tensor
     */
    public static NDArray normal(NDManager manager, Shape shape, double std, SplittableRandom rng) {
        int n = Math.toIntExact(shape.size());
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (gaussian(rng) * std);
        }
        return manager.create(v, shape);
    }

    /**
     * Draws one standard normal value (Marsaglia polar method).
     *
     * @param rng the random source
     * @return a N(0, 1) sample
     */
    static double gaussian(SplittableRandom rng) {
        double u;
        double v;
        double s;
        do {
            u = 2 * rng.nextDouble() - 1;
            v = 2 * rng.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    /**
     * Returns a float32 copy in memory owned by the engine, detached from any file mapping or Java buffer the source
     * views. (DJL's {@code toType(FLOAT32, true)} does not copy when the type is already float32.)
     *
     * @param source the tensor (any float type)
     * @return an independent copy, owned by the source's manager
     */
    public static NDArray ownedFloat32(NDArray source) {
        if (source.getDataType() == DataType.FLOAT32) {
            return source.duplicate();
        }
        NDArray converted = source.toType(DataType.FLOAT32, false);
        NDArray copy = converted.duplicate();
        converted.close();
        return copy;
    }

    /**
     * Creates a tensor of zeros.
     *
     * @param manager the owner
     * @param shape the shape
     * @return zeros (float32)
     */
    static NDArray zeros(NDManager manager, Shape shape) {
        return manager.zeros(shape, DataType.FLOAT32);
    }

    /** Closes every tensor. */
    @Override
    public void close() {
        arrays.clear();
        manager.close();
    }
}
