package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * What a forward pass does to a model's stored parameters beyond reading them: a low-rank adapter added to the output
 * of linear layers (LoRA, {@code org.rlhf4j.core.lora}) and a compute dtype for the weights (fp16 mixed precision).
 *
 * <p>The Gpt2, GptNeoX and Llama transformers read every parameter through {@link #param} and pass every linear
 * layer's output through {@link #adapt}; {@link #NONE} leaves both unchanged, which is the plain forward. Both methods
 * must be differentiable functions of their inputs (gradients flow through them to the stored fp32 parameters and
 * to the adapter's own parameters).
 *
 * <p>Module names are Hugging Face module paths without the {@code .weight} suffix, exactly as PEFT's
 * {@code target_modules} matches them: {@code model.layers.0.self_attn.q_proj} (Llama family),
 * {@code transformer.h.0.attn.c_attn} (GPT-2, a {@code Conv1D}), {@code gpt_neox.layers.0.attention.query_key_value}
 * (GPT-NeoX).
 */
public interface ForwardHook {

    /** The plain forward: parameters as stored, no adapter. */
    ForwardHook NONE = new ForwardHook() {};

    /**
     * Returns the tensor the forward uses for a stored parameter (e.g. a float16 cast of the fp32 master weight).
     *
     * @param name the parameter's HF name ({@code model.layers.0.self_attn.q_proj.weight})
     * @param stored the stored tensor
     * @return the tensor to compute with; {@code stored} itself when unchanged
     */
    default NDArray param(String name, NDArray stored) {
        return stored;
    }

    /**
     * Returns a linear layer's output after the hook: LoRA returns y + s·B(A(dropout(x))).
     *
     * @param module the HF module path ({@code model.layers.0.self_attn.q_proj})
     * @param input the layer's input x, {@code [..., in]}
     * @param output the base layer's output y = x Wᵀ + b, {@code [..., out]}
     * @return the output to use; {@code output} itself when the module is not adapted
     */
    default NDArray adapt(String module, NDArray input, NDArray output) {
        return output;
    }

    /**
     * Returns the floating type the linear layers compute in: {@link DataType#FLOAT32} (the plain forward) or
     * {@link DataType#FLOAT16} (mixed precision, {@code org.rlhf4j.core.train.MixedPrecision}).
     *
     * <p>With FLOAT16 the forward follows torch autocast's op lists ({@code torch/amp/autocast_mode.py}, CUDA
     * "lower precision" and "fp32" lists): each linear layer (and the language-model head) casts its input, weight
     * and bias to float16 and returns a float16 output; attention scores q·kᵀ and the attention-weighted values are
     * float16 matmuls; the softmax of the attention, every LayerNorm and RMSNorm, the residual stream (the embeddings
     * stay float32 and float32 + float16 promotes to float32), the logits and everything after them are float32.
     * The stored parameters stay float32 (the master weights): the casts are differentiable, so their gradients are
     * float32.
     *
     * @return the compute type of linear layers
     */
    default DataType computeType() {
        return DataType.FLOAT32;
    }

    /**
     * Returns the hook that applies this hook, then {@code next}: parameters pass through this hook's
     * {@link #param} then {@code next}'s, outputs through this hook's {@link #adapt} then {@code next}'s.
     *
     * @param next the hook applied second
     * @return the composition ({@code this} when {@code next} is {@link #NONE}, {@code next} when this is); its
     *     {@link #computeType()} is the first non-FLOAT32 compute type of the two
     */
    default ForwardHook andThen(ForwardHook next) {
        if (next == NONE) {
            return this;
        }
        if (this == NONE) {
            return next;
        }
        ForwardHook first = this;
        return new ForwardHook() {
            @Override
            public NDArray param(String name, NDArray stored) {
                return next.param(name, first.param(name, stored));
            }

            @Override
            public NDArray adapt(String module, NDArray input, NDArray output) {
                return next.adapt(module, input, first.adapt(module, input, output));
            }

            @Override
            public DataType computeType() {
                DataType t = first.computeType();
                return t == DataType.FLOAT32 ? next.computeType() : t;
            }
        };
    }
}
