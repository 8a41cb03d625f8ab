package org.rlhf4j.core.train;

import ai.djl.ndarray.types.DataType;
import org.rlhf4j.core.model.ForwardHook;

/**
 * fp16 mixed precision: float32 master weights, float16 compute in the linear layers and attention matmuls, float32
 * everywhere numerics need it (norms, softmax, residual stream, logits, losses), and dynamic loss scaling
 * ({@link LossScaler}) so that small float16 gradients do not flush to zero.
 *
 * <p>{@link #FP16} is the forward hook; pass it to {@code CausalLm.hidden/logits} or {@code ScalarModel.hidden} (or
 * compose it with an adapter hook, {@link ForwardHook#andThen}). What it changes is described at
 * {@link ForwardHook#computeType()}. bfloat16 is not offered: DJL 0.36 cannot represent it (any BFLOAT16 NDArray
 * aborts the JVM; {@code docs/decisions/0023-fp16-mixed-precision-no-bf16.md}).
 */
public final class MixedPrecision {

    /** The fp16 forward: linear layers compute in float16 (see {@link ForwardHook#computeType()}). */
    public static final ForwardHook FP16 = new ForwardHook() {
        @Override
        public DataType computeType() {
            return DataType.FLOAT16;
        }

        @Override
        public String toString() {
            return "MixedPrecision.FP16";
        }
    };

    private MixedPrecision() {}

    /**
     * Returns the forward hook of a precision choice.
     *
     * @param fp16 whether fp16 mixed precision is on
     * @return {@link #FP16} or {@link ForwardHook#NONE}
     */
    public static ForwardHook hook(boolean fp16) {
        return fp16 ? FP16 : ForwardHook.NONE;
    }
}
