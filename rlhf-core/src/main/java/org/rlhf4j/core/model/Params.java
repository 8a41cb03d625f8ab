package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import org.rlhf4j.core.tensor.TensorOps;

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
                        ? Linear.linear(xc, castParam(get(module + ".weight"), ct, x),
                                castParam(get(module + ".bias"), ct, x))
                        : Linear.linear(xc, castParam(get(module + ".weight"), ct, x)))
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
        NDArray logits = Linear.linear(cast(hidden, ct), castParam(hook.param(name, stored), ct, hidden))
                .singletonOrThrow();
        return cast(logits, DataType.FLOAT32);
    }

    /** A differentiable cast between float types ({@link TensorOps#cast}); results in {@code a}'s manager. */
    static NDArray cast(NDArray a, DataType t) {
        return TensorOps.cast(a, t, a.getManager());
    }

    /**
     * A differentiable cast of a stored parameter whose result (and intermediates) belong to the manager of the
     * activation it meets, never to the long-lived weights' manager (DESIGN.md §7: an op's result belongs to its first
     * operand's manager; a weight cast there would stay allocated until the model is closed).
     */
    static NDArray castParam(NDArray param, DataType t, NDArray activation) {
        return TensorOps.cast(param, t, activation.getManager());
    }

    /**
     * HF {@code Conv1D} (GPT-2): y = x W + b with W stored {@code [in, out]}, computed in the hook's compute type, then
     * the hook's adapter (PEFT adapts a Conv1D exactly as a Linear; only merging transposes, {@code fan_in_fan_out}).
     *
     * <p>One torch {@code linear} (x (Wᵀ)ᵀ + b: {@code addmm} on the flattened input, bias added by the GEMM) over a
     * transposed view of W instead of a matmul and a separate bias add: the view costs no copy, since Wᵀ's transpose
     * is W's own contiguous {@code [in, out]} layout, and the output is written once instead of twice. The view is
     * owned by the activation's manager (DESIGN.md §7: a view of a stored weight would otherwise live in the weights'
     * manager until the model closes).
     */
    NDArray conv1d(NDArray x, String module) {
        DataType ct = hook.computeType();
        NDArray weight = castParam(get(module + ".weight"), ct, x);
        NDArray outIn = weight.transpose();
        outIn.attach(x.getManager());
        NDArray y = Linear.linear(cast(x, ct), outIn, castParam(get(module + ".bias"), ct, x)).singletonOrThrow();
        return hook.adapt(module, x, y);
    }
}
