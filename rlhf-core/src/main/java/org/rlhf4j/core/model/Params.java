package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A model's weights as one forward pass sees them: each parameter through {@link ForwardHook#param}, each linear
 * layer's output through {@link ForwardHook#adapt}. Used by the Gpt2, GptNeoX and Llama transformers.
 */
final class Params {

    private final Weights weights;
    private final ForwardHook hook;

    Params(Weights weights, ForwardHook hook) {
        this.weights = weights;
        this.hook = hook == null ? ForwardHook.NONE : hook;
    }

    /** The parameter as the forward uses it. */
    NDArray get(String name) {
        return hook.param(name, weights.get(name));
    }

    /**
     * nn.Linear: y = x Wᵀ (+ b) with W stored {@code [out, in]}, computed in the hook's
     * {@link ForwardHook#computeType()}, then the hook's adapter (which sees the input as it came).
     */
    NDArray linear(NDArray x, String module, boolean bias) {
        DataType ct = hook.computeType();
        NDArray xc = cast(x, ct);
        NDArray y = (bias
                        ? Linear.linear(xc, cast(get(module + ".weight"), ct), cast(get(module + ".bias"), ct))
                        : Linear.linear(xc, cast(get(module + ".weight"), ct)))
                .singletonOrThrow();
        return hook.adapt(module, x, y);
    }

    /**
     * A language-model head: logits = h Wᵀ computed in the hook's compute type and returned as float32 (autocast's
     * fp16 {@code lm_head}, then the float32 log-softmax and loss of every caller).
     *
     * @param hidden {@code [..., d]} hidden states
     * @param name the head weight's HF name
     * @param stored the stored head weight {@code [V, d]}
     * @param hook the forward hook
     * @return {@code [..., V]} float32 logits
     */
    static NDArray head(NDArray hidden, String name, NDArray stored, ForwardHook hook) {
        DataType ct = hook.computeType();
        NDArray logits = Linear.linear(cast(hidden, ct), cast(hook.param(name, stored), ct)).singletonOrThrow();
        return cast(logits, DataType.FLOAT32);
    }

    /**
     * A differentiable cast between float types: {@code a} itself when it already has type {@code t} (the fp32 path
     * stays bit-identical), else the cast with gradients flowing back to {@code a}.
     *
     * <p>DJL 0.36's {@code toType} runs {@code Tensor.to} under a {@code NoGradGuard} (JNI {@code torchTo}), so its
     * result has no autograd history and the master weights would get no gradient. {@code torch.cumprod(x, dim,
     * dtype)} casts its input to {@code dtype} first and is differentiable; over an axis of length 1 it is the
     * identity, and its backward ({@code cumprod_backward}) returns the incoming gradient, cast to the input's type,
     * unchanged for a dimension of size 1 (checked: the gradients of a cast equal the upstream gradient exactly).
     * The cumprod costs ~9x a plain cast on CPU, so it is used only where autograd records (torch's grad mode, on
     * inside a DJL {@code GradientCollector}); elsewhere (generation, reference and evaluation forwards) the plain
     * cast gives the same values. (DJL's {@code JniUtils.requiresGrad} cannot narrow it further: it answers false for
     * intermediate results that do carry autograd history.)
     *
     * @param a the array
     * @param t the float type
     * @return {@code a} as {@code t}
     */
    static NDArray cast(NDArray a, DataType t) {
        if (a.getDataType() == t) {
            return a;
        }
        if (a instanceof PtNDArray && JniUtils.isGradMode()) {
            return a.expandDims(-1).cumProd(-1, t).squeeze(-1);
        }
        return a.toType(t, false);
    }

    /**
     * HF {@code Conv1D} (GPT-2): y = x W + b with W stored {@code [in, out]}, computed in the hook's compute type, then the hook's adapter (PEFT adapts a
     * Conv1D exactly as a Linear; only merging transposes, {@code fan_in_fan_out}).
     */
    NDArray conv1d(NDArray x, String module) {
        DataType ct = hook.computeType();
        NDArray y = cast(x, ct).matMul(cast(get(module + ".weight"), ct)).add(cast(get(module + ".bias"), ct));
        return hook.adapt(module, x, y);
    }
}
