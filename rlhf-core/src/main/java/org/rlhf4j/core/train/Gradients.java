package org.rlhf4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tensor.FusedOps;
import org.rlhf4j.core.tensor.TensorOps;

/** Gradient utilities over a model's {@link Weights}: global norm, clipping, zeroing, finiteness. */
public final class Gradients {

    private Gradients() {}

    /**
     * Returns the global L2 norm of all gradients, ‖g‖ = √(Σ_i ‖g_i‖²): the per-tensor norms (or squared sums) in
     * the gradients' type, their sum and root in float64.
     *
     * @param weights the parameters
     * @return the norm (NaN or infinite when a gradient is)
     */
    public static double globalNorm(Weights weights) {
        if (FusedOps.optimizerApplies(weights.arrays())) {
            // torch's _foreach_norm in one call (FusedOps.norms): per-tensor float32 norms without a squared
            // temporary per tensor, one host copy; squared and added here in float64
            try (NDScope scope = new NDScope()) {
                List<NDArray> grads = new ArrayList<>();
                for (NDArray p : weights.arrays()) {
                    grads.add(p.getGradient());
                }
                double sq = 0;
                for (float n : FusedOps.norms(grads)) {
                    sq += (double) n * n;
                }
                return Math.sqrt(sq);
            }
        }
        // One device synchronisation for all tensors: the per-tensor float32 sums ‖g_i‖² are stacked and copied to
        // Java once (a getFloat per tensor was one sync and one host copy each), then added in float64 in the same
        // order as before, so the result is bit-identical.
        try (NDScope scope = new NDScope()) {
            NDList sums = new NDList();
            for (NDArray p : weights.arrays()) {
                NDArray s = p.getGradient().square().sum();
                // a gradient has its parameter's type (cached on the long-lived parameter, no JNI query)
                sums.add(p.getDataType() == DataType.FLOAT32 ? s : s.toType(DataType.FLOAT32, false));
            }
            if (sums.isEmpty()) {
                return 0;
            }
            double sq = 0;
            for (float s : NDArrays.stack(sums).toFloatArray()) {
                sq += s;
            }
            return Math.sqrt(sq);
        }
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
                NDArray s = null;
                for (NDArray p : weights.arrays()) {
                    NDArray g = p.getGradient();
                    if (s == null || s.getDataType() != p.getDataType()) {
                        // one engine-owned scalar, not one over a Java buffer per muli(Number) (same float value)
                        s = TensorOps.scalar(p, scale);
                    }
                    g.muli(s);
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
                if (p instanceof PtNDArray pt) {
                    // one JNI call, no Java array: grad().zero_() (a fill, so NaN becomes 0 too); nothing to do when
                    // the parameter has no gradient yet (getGradient() would then answer zeros)
                    JniUtils.zeroGrad(pt);
                } else {
                    p.getGradient().set(new NDIndex("..."), 0f);
                }
            }
        }
    }
}
