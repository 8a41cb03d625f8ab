package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

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

    /** nn.Linear: y = x Wᵀ (+ b) with W stored {@code [out, in]}, then the hook's adapter. */
    NDArray linear(NDArray x, String module, boolean bias) {
        NDArray y = (bias
                        ? Linear.linear(x, get(module + ".weight"), get(module + ".bias"))
                        : Linear.linear(x, get(module + ".weight")))
                .singletonOrThrow();
        return hook.adapt(module, x, y);
    }

    /**
     * HF {@code Conv1D} (GPT-2): y = x W + b with W stored {@code [in, out]}, then the hook's adapter (PEFT adapts a
     * Conv1D exactly as a Linear; only merging transposes, {@code fan_in_fan_out}).
     */
    NDArray conv1d(NDArray x, String module) {
        NDArray y = x.matMul(get(module + ".weight")).add(get(module + ".bias"));
        return hook.adapt(module, x, y);
    }
}
