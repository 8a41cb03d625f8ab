package org.rlhf4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import org.rlhf4j.core.model.Weights;

/** Gradient utilities over a model's {@link Weights}: global norm, clipping, zeroing, finiteness. */
public final class Gradients {

    private Gradients() {}

    /**
     * Returns the global L2 norm of all gradients, ‖g‖ = √(Σ_i ‖g_i‖²), computed in float64.
     *
     * @param weights the parameters
     * @return the norm (NaN or infinite when a gradient is)
     */
    public static double globalNorm(Weights weights) {
        double sq = 0;
        try (NDScope scope = new NDScope()) {
            for (NDArray p : weights.arrays()) {
                NDArray g = p.getGradient();
                NDArray s = g.square().sum();
                sq += s.getFloat();
            }
        }
        return Math.sqrt(sq);
    }

    /**
     * Clips gradients to a maximum global norm (PyTorch {@code clip_grad_norm_}): when ‖g‖ &gt; c every gradient is
     * scaled in place by c/(‖g‖ + 1e-6).
     *
     * @param weights the parameters
     * @param maxNorm c; non-positive or infinite disables clipping
     * @return the norm before clipping
     */
    public static double clipGlobalNorm(Weights weights, double maxNorm) {
        double norm = globalNorm(weights);
        if (maxNorm > 0 && Double.isFinite(maxNorm) && Double.isFinite(norm) && norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            try (NDScope scope = new NDScope()) {
                for (NDArray p : weights.arrays()) {
                    p.getGradient().muli(scale);
                }
            }
        }
        return norm;
    }

    /**
     * Sets every gradient to exactly 0 (also when it holds NaN or infinity, which multiplying by 0 would keep).
     *
     * @param weights the parameters
     */
    public static void zero(Weights weights) {
        try (NDScope scope = new NDScope()) {
            for (NDArray p : weights.arrays()) {
                p.getGradient().set(new NDIndex("..."), 0f);
            }
        }
    }
}
