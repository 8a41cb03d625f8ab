package org.rlhf4j.core.model;

/**
 * The Hugging Face {@code model_type}s that share the Llama decoder ({@link Llama}) and how each departs from
 * {@code modeling_llama.py}.
 *
 * <ul>
 *   <li>{@code llama} (Llama 2/3, TinyLlama, SmolLM2): optional biases on all attention projections
 *       ({@code attention_bias}) and on the MLP ({@code mlp_bias}); no sliding window.
 *   <li>{@code mistral}: no biases; when {@code sliding_window} is set every layer attends to its last
 *       {@code sliding_window} keys ({@code modeling_mistral.py}).
 *   <li>{@code qwen2}: biases on q, k and v always, none on o ({@code modeling_qwen2.py}); a window on the layers
 *       {@code layer_types} marks {@code sliding_attention} (default: index ≥ {@code max_window_layers}) when
 *       {@code use_sliding_window}.
 *   <li>{@code qwen3}: RMSNorm over each head of q and k before rotary ({@code q_norm}, {@code k_norm}), biases per
 *       {@code attention_bias}, the window as Qwen2, {@code head_dim} default 128 ({@code modeling_qwen3.py}).
 * </ul>
 */
public enum LlamaFamily {
    /** {@code model_type: "llama"}. */
    LLAMA("llama", "Llama"),
    /** {@code model_type: "mistral"}. */
    MISTRAL("mistral", "Mistral"),
    /** {@code model_type: "qwen2"}. */
    QWEN2("qwen2", "Qwen2"),
    /** {@code model_type: "qwen3"}. */
    QWEN3("qwen3", "Qwen3");

    private final String modelType;
    private final String classPrefix;

    LlamaFamily(String modelType, String classPrefix) {
        this.modelType = modelType;
        this.classPrefix = classPrefix;
    }

    /**
     * Returns the {@code model_type} string.
     *
     * @return e.g. {@code "qwen2"}
     */
    public String modelType() {
        return modelType;
    }

    /**
     * Returns the {@code transformers} causal-LM class name written to {@code architectures}.
     *
     * @return e.g. {@code "LlamaForCausalLM"}
     */
    public String causalLmArchitecture() {
        return classPrefix + "ForCausalLM";
    }

    /**
     * Returns the {@code transformers} sequence-classification class name (a scalar model's {@code architectures};
     * its head is {@code score.weight}, as rlhf4j's).
     *
     * @return e.g. {@code "LlamaForSequenceClassification"}
     */
    public String classifierArchitecture() {
        return classPrefix + "ForSequenceClassification";
    }

    /**
     * Returns the family of a {@code model_type}, or null when it is not one of the Llama family.
     *
     * @param modelType the {@code model_type}
     * @return the family or null
     */
    public static LlamaFamily ofModelType(String modelType) {
        for (LlamaFamily f : values()) {
            if (f.modelType.equals(modelType)) {
                return f;
            }
        }
        return null;
    }
}
