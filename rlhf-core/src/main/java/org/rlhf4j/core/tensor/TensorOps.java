package org.rlhf4j.core.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pure static tensor functions. Masks are 0/1 arrays of the same shape as the values they mask; a masked-out
 * position never contributes to a result, whatever value (even NaN-free garbage) it holds.
 */
public final class TensorOps {

    /** Variance floor of {@link #whiten} (TRL {@code masked_whiten}: {@code rsqrt(var + 1e-8)}). */
    public static final double WHITEN_EPS = 1e-8;

    private TensorOps() {}

    // ---- scalar arithmetic that is safe under autograd -------------------------------------------------------
    //
    // DJL 0.36's NDArray.mul(Number) (and add/sub/div/pow/maximum/minimum with a Number) wraps the number in a
    // tensor over a Java direct buffer and closes it right after the op. PyTorch's autograd keeps that tensor for
    // the backward pass (e.g. d(c·x)/dx = c), so once the buffer is garbage-collected the backward reads freed memory:
    // gradients become garbage or NaN, depending on GC timing (reproduced: grad of sum(3·x) read -1.3e38 after a
    // GC). These helpers build the scalar natively (torch.full), owned by PyTorch's refcount. Use them for every
    // scalar op on arrays that may require gradients. See docs/decisions/0004.

    /**
     * Returns a 0-d tensor holding {@code value}, allocated by the engine (not over a Java buffer), with the data
     * type and device of {@code like}.
     *
     * @param like an array giving manager, device and data type
     * @param value the value
     * @return the scalar tensor
     */
    public static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new ai.djl.ndarray.types.Shape(), (float) value, like.getDataType());
    }

    /**
     * x · c, autograd-safe.
     *
     * @param x array
     * @param c scalar
     * @return the product
     */
    public static NDArray mul(NDArray x, double c) {
        return x.mul(scalar(x, c));
    }

    /**
     * x + c, autograd-safe.
     *
     * @param x array
     * @param c scalar
     * @return the sum
     */
    public static NDArray add(NDArray x, double c) {
        return x.add(scalar(x, c));
    }

    /**
     * x − c, autograd-safe.
     *
     * @param x array
     * @param c scalar
     * @return the difference
     */
    public static NDArray sub(NDArray x, double c) {
        return x.sub(scalar(x, c));
    }

    /**
     * x / c, autograd-safe.
     *
     * @param x array
     * @param c scalar
     * @return the quotient
     */
    public static NDArray div(NDArray x, double c) {
        return x.div(scalar(x, c));
    }

    /**
     * x^c, autograd-safe.
     *
     * @param x array
     * @param c exponent
     * @return the power
     */
    public static NDArray pow(NDArray x, double c) {
        return x.pow(scalar(x, c));
    }

    /**
     * max(x, c) elementwise, autograd-safe.
     *
     * @param x array
     * @param c scalar
     * @return the maximum
     */
    public static NDArray maximum(NDArray x, double c) {
        return x.maximum(scalar(x, c));
    }

    /**
     * min(x, c) elementwise, autograd-safe.
     *
     * @param x array
     * @param c scalar
     * @return the minimum
     */
    public static NDArray minimum(NDArray x, double c) {
        return x.minimum(scalar(x, c));
    }

    /**
     * Log-probabilities of given labels: {@code log_softmax(logits)[..., label]}.
     *
     * @param logits {@code [..., V]}
     * @param labels {@code [...]} integer ids
     * @return {@code [...]} float32
     */
    public static NDArray tokenLogprobs(NDArray logits, NDArray labels) {
        NDArray idx = labels.toType(DataType.INT64, false).expandDims(-1);
        return logits.logSoftmax(-1).gather(idx, -1).squeeze(-1);
    }

    /**
     * Next-token log-probabilities of a sequence: {@code out[b, i] = log p(ids[b, i+1] | ids[b, 0..i])}.
     *
     * @param logits {@code [B, T, V]} logits of a forward over {@code ids}
     * @param ids {@code [B, T]} the same ids
     * @return {@code [B, T-1]}
     */
    public static NDArray sequenceLogprobs(NDArray logits, NDArray ids) {
        return tokenLogprobs(logits.get(new NDIndex(":, :-1, :")), ids.get(new NDIndex(":, 1:")));
    }

    /**
     * Entropy of the categorical distribution of each logits row: H = logsumexp(z) − Σ softmax(z)·z.
     *
     * @param logits {@code [..., V]}
     * @return {@code [...]}
     */
    public static NDArray entropy(NDArray logits) {
        NDArray logp = logits.logSoftmax(-1);
        return logp.exp().mul(logp).sum(new int[] {-1}).neg();
    }

    /**
     * Sum of values where the mask is 1.
     *
     * @param values values
     * @param mask 0/1 mask of the same shape
     * @return scalar
     */
    public static NDArray maskedSum(NDArray values, NDArray mask) {
        return where(mask, values).sum();
    }

    /**
     * Masked mean over all elements: Σ m·x / Σ m (TRL {@code masked_mean}).
     *
     * @param values values
     * @param mask 0/1 mask
     * @return scalar
     */
    public static NDArray maskedMean(NDArray values, NDArray mask) {
        NDArray m = mask.toType(values.getDataType(), false);
        return where(mask, values).sum().div(m.sum());
    }

    /**
     * Masked mean along one axis: Σ_axis m·x / Σ_axis m.
     *
     * @param values values
     * @param mask 0/1 mask
     * @param axis the axis reduced
     * @return values with {@code axis} removed
     */
    public static NDArray maskedMean(NDArray values, NDArray mask, int axis) {
        NDArray m = mask.toType(values.getDataType(), false);
        return where(mask, values).sum(new int[] {axis}).div(m.sum(new int[] {axis}));
    }

    /**
     * Masked variance over all elements, unbiased by default (TRL {@code masked_var}): mean of squared deviations
     * times n/(n−1), n = Σ m.
     *
     * @param values values
     * @param mask 0/1 mask
     * @param unbiased whether to apply Bessel's correction
     * @return scalar
     * @throws IllegalArgumentException when {@code unbiased} and fewer than 2 positions are real
     */
    public static NDArray maskedVar(NDArray values, NDArray mask, boolean unbiased) {
        NDArray mean = maskedMean(values, mask);
        NDArray centered = values.sub(mean);
        NDArray var = maskedMean(centered.mul(centered), mask);
        if (unbiased) {
            double n = mask.toType(DataType.FLOAT64, false).sum().getDouble();
            if (n < 2) {
                throw new IllegalArgumentException(
                        "unbiased masked variance needs at least 2 real positions, mask has " + n);
            }
            var = mul(var, n / (n - 1));
        }
        return var;
    }

    /**
     * Masked whitening (TRL {@code masked_whiten}): (x − μ)/√(σ² + 1e-8) with μ, σ² the masked mean and unbiased
     * variance; with {@code shiftMean = false} the mean is added back. Masked positions are set to 0.
     *
     * @param values values
     * @param mask 0/1 mask
     * @param shiftMean whether the result has mean 0 (true) or keeps the original mean (false)
     * @return whitened values, same shape
     */
    public static NDArray whiten(NDArray values, NDArray mask, boolean shiftMean) {
        NDArray mean = maskedMean(values, mask);
        NDArray var = maskedVar(values, mask, true);
        NDArray w = values.sub(mean).div(add(var, WHITEN_EPS).sqrt());
        if (!shiftMean) {
            w = w.add(mean);
        }
        return where(mask, w);
    }

    /**
     * Returns {@code values} where {@code mask} is 1 and 0 elsewhere; unlike multiplying by the mask this never
     * turns a NaN or infinity at a masked position into NaN.
     *
     * @param mask 0/1 mask
     * @param values values
     * @return masked values
     */
    public static NDArray where(NDArray mask, NDArray values) {
        NDArray cond = mask.toType(DataType.BOOLEAN, false);
        return values.getNDArrayInternal().where(cond, values.zerosLike());
    }

    /**
     * Returns the name of the first floating-point tensor that holds a NaN or an infinity, or null when all are
     * finite. Integer and empty tensors are skipped; the arrays are only read.
     *
     * <p>Cost: one sum per tensor (a NaN or an infinity makes the sum non-finite), stacked into one vector that is
     * copied to Java once, so there is a single device synchronisation however many tensors there are. Only a tensor
     * whose sum is not finite is looked at again, with a max and a min (NaN propagates through both, +∞ shows in the
     * max, −∞ in the min), so huge but finite values whose sum overflows are never reported.
     *
     * @param tensors name to tensor, in the order to report
     * @return the first non-finite tensor's name, or null
     */
    public static String firstNonFinite(Map<String, NDArray> tensors) {
        List<String> names = new ArrayList<>();
        List<NDArray> arrays = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            NDList sums = new NDList();
            DataType common = null;
            boolean mixed = false;
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                NDArray a = e.getValue();
                DataType t = a.getDataType();
                if (!t.isFloating() || a.getShape().size() == 0) {
                    continue;
                }
                names.add(e.getKey());
                arrays.add(a);
                mixed |= common != null && common != t;
                common = t;
                sums.add(a.sum());
            }
            if (names.isEmpty()) {
                return null;
            }
            // widened to float64 (exact) after stacking when all tensors share a type (one cast, not one per tensor);
            // 0-d sums of mixed types are widened one by one, so that they stack
            NDArray stacked = mixed
                    ? NDArrays.stack(new NDList(sums.stream().map(x -> x.toType(DataType.FLOAT64, false)).toList()))
                    : NDArrays.stack(sums).toType(DataType.FLOAT64, false);
            double[] v = stacked.toDoubleArray();
            for (int i = 0; i < names.size(); i++) {
                if (!Double.isFinite(v[i]) && !allFinite(arrays.get(i))) {
                    return names.get(i);
                }
            }
            return null;
        }
    }

    private static boolean allFinite(NDArray a) {
        return Double.isFinite(a.max().toType(DataType.FLOAT64, false).getDouble())
                && Double.isFinite(a.min().toType(DataType.FLOAT64, false).getDouble());
    }

    /**
     * A differentiable cast between float types: {@code a} itself when it already has type {@code t} (the fp32 path
     * stays bit-identical), else the cast with gradients flowing back to {@code a}; the result and its intermediates
     * belong to {@code into}.
     *
     * <p>DJL 0.36's {@code toType} runs {@code Tensor.to} under a {@code NoGradGuard} (JNI {@code torchTo}), so its
     * result has no autograd history and a cast master weight (fp16 compute) or LoRA factor would get no gradient.
     * {@code torch.cumprod(x, dim, dtype)} casts its input to {@code dtype} first and is differentiable; over an axis
     * of length 1 it is the identity, and its backward ({@code cumprod_backward}) returns the incoming gradient, cast
     * to the input's type, unchanged for a dimension of size 1 (checked: the gradients of a cast equal the upstream
     * gradient exactly). The cumprod costs ~9x a plain cast on CPU, so it is used only where autograd records
     * (torch's grad mode, on inside a DJL {@code GradientCollector}); elsewhere (generation, reference and evaluation
     * forwards) the plain cast gives the same values. (DJL's {@code JniUtils.requiresGrad} cannot narrow it further:
     * it answers false for intermediate results that do carry autograd history.)
     *
     * <p>Ownership: an op's result belongs to its first operand's manager, so casting a stored parameter would leave
     * the copy in the long-lived weights' manager until the model closes; {@code into} (the step's manager, e.g. the
     * activation's) owns the result and the intermediates instead.
     *
     * @param a the array
     * @param t the float type
     * @param into the manager that owns the result
     * @return {@code a} as {@code t}
     */
    public static NDArray cast(NDArray a, DataType t, NDManager into) {
        if (a.getDataType() == t) {
            return a;
        }
        if (a instanceof PtNDArray && JniUtils.isGradMode()) {
            NDArray e = a.expandDims(-1);
            e.attach(into);
            NDArray c = e.cumProd(-1, t);
            c.attach(into);
            NDArray r = c.squeeze(-1);
            r.attach(into);
            return r;
        }
        NDArray r = a.toType(t, false);
        r.attach(into);
        return r;
    }
}
