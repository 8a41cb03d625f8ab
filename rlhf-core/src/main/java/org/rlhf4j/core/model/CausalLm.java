package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.io.SaveOptions;

/**
 * A causal language model: token ids in, hidden states and next-token logits out.
 *
 * <p>Inputs are {@code [B, T]} int64 token ids and a {@code [B, T]} attention mask (1 = real token, 0 = padding;
 * left padding for prompts). Position ids are derived from the mask (HF: {@code cumsum(mask) - 1}), so padding never
 * shifts a sequence's positions and left padding leaves every real token's logits unchanged. Results belong to the
 * manager of the {@code ids} array; parameters never become the first operand of an op, so nothing is attached to
 * the long-lived weight manager.
 */
public interface CausalLm extends AutoCloseable {

    /**
     * Loads an HF-format directory ({@code config.json} + {@code model.safetensors}, or sharded weights
     * {@code model.safetensors.index.json} + {@code model-0000i-of-0000N.safetensors}, in float32, bfloat16 or
     * float16; see {@link ModelTensors}) of any supported architecture: {@code config.json} is read with
     * {@link ModelConfig#read}, and its {@code model_type} picks the implementation ({@code gpt2} gives {@link Gpt2},
     * {@code gpt_neox} gives {@link GptNeoX}, {@code llama}, {@code mistral}, {@code qwen2} and {@code qwen3} give
     * {@link Llama}). Weights are held in float32 whatever the file stores. A
     * {@code generation_config.json} is kept ({@link #generationConfig()}) and written again by {@link #save}.
     *
     * <p>A PEFT LoRA adapter directory ({@code adapter_config.json} and no {@code config.json}) loads as a
     * {@link org.rlhf4j.core.lora.LoraModel} over the base model its {@code base_model_name_or_path} names (absolute,
     * or relative to the adapter directory; {@link org.rlhf4j.core.lora.LoraModel#loadWithBase}); the returned model
     * owns that base. A hub id there is refused with a hint to pass the base explicitly.
     *
     * <p>Only reads: while a trainer is replacing the directory, the last complete version is read
     * ({@link AtomicReads}). A tensor holding NaN or infinity is refused.
     *
     * @param dir the directory
     * @param parent the parent manager (device)
     * @return the model
     * @throws org.rlhf4j.core.io.NonFiniteTensorException when a weight holds NaN or infinity (names file and
     *     tensor)
     * @throws IOException when a file is missing or inconsistent, or the architecture is not supported; the message
     *     names the file and the field or tensor
     */
    static CausalLm load(Path dir, NDManager parent) throws IOException {
        Path resolved = AtomicReads.resolve(dir);
        if (org.rlhf4j.core.lora.LoraModel.isAdapterDir(resolved)
                && !java.nio.file.Files.exists(resolved.resolve("config.json"))) {
            return org.rlhf4j.core.lora.LoraModel.loadWithBase(dir, parent);
        }
        return AtomicReads.read(dir, d -> {
            ModelConfig config = ModelConfig.read(d.resolve("config.json"));
            if (config instanceof Gpt2Config c) {
                return Gpt2.load(d, c, parent);
            } else if (config instanceof GptNeoXConfig c) {
                return GptNeoX.load(d, c, parent);
            } else if (config instanceof LlamaConfig c) {
                return Llama.load(d, c, parent);
            }
            throw new AssertionError("unhandled ModelConfig " + config.getClass());
        });
    }

    /**
     * Creates a randomly initialised model of the configuration's architecture, with that architecture's Hugging
     * Face initialisation ({@link Gpt2#random}, {@link GptNeoX#random}, {@link Llama#random}).
     *
     * @param config the configuration
     * @param parent the parent manager (device)
     * @param seed the seed
     * @return the model
     */
    static CausalLm random(ModelConfig config, NDManager parent, long seed) {
        if (config instanceof Gpt2Config c) {
            return Gpt2.random(c, parent, seed);
        } else if (config instanceof GptNeoXConfig c) {
            return GptNeoX.random(c, parent, seed);
        } else if (config instanceof LlamaConfig c) {
            return Llama.random(c, parent, seed);
        }
        throw new AssertionError("unhandled ModelConfig " + config.getClass());
    }

    /**
     * Returns the configuration.
     *
     * @return the config
     */
    ModelConfig config();

    /**
     * Returns the trainable parameters, in state-dict order.
     *
     * @return the weights
     */
    Weights weights();

    /**
     * Runs the transformer and returns the final hidden states (after the last LayerNorm or RMSNorm).
     *
     * @param ids {@code [B, T]} int64 token ids
     * @param mask {@code [B, T]} attention mask (any numeric type, 0/1)
     * @param cache past keys/values, updated in place; null for a full forward
     * @return {@code [B, T, d_model]}
     */
    default NDArray hidden(NDArray ids, NDArray mask, KvCache cache) {
        return hidden(ids, mask, cache, ForwardHook.NONE);
    }

    /**
     * Runs the transformer with a {@link ForwardHook} (adapters, compute dtype) and returns the final hidden states.
     * A model that carries its own hook (a LoRA model) applies it first, then {@code hook}.
     *
     * @param ids {@code [B, T]} int64 token ids
     * @param mask {@code [B, T]} attention mask (any numeric type, 0/1)
     * @param cache past keys/values, updated in place; null for a full forward
     * @param hook what the forward applies to the parameters; {@link ForwardHook#NONE} for the plain forward
     * @return {@code [B, T, d_model]}
     */
    NDArray hidden(NDArray ids, NDArray mask, KvCache cache, ForwardHook hook);

    /**
     * Projects hidden states to next-token logits (GPT-2: the tied token embedding; GPT-NeoX: {@code embed_out};
     * Llama: {@code lm_head} or the tied {@code embed_tokens}).
     *
     * @param hidden {@code [..., d_model]}
     * @return {@code [..., V]}
     */
    default NDArray logits(NDArray hidden) {
        return logits(hidden, ForwardHook.NONE);
    }

    /**
     * Projects hidden states to next-token logits, the output projection read through {@code hook}'s
     * {@link ForwardHook#param}.
     *
     * @param hidden {@code [..., d_model]}
     * @param hook what the forward applies to the parameters
     * @return {@code [..., V]}
     */
    NDArray logits(NDArray hidden, ForwardHook hook);

    /**
     * Full forward: logits for every position.
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @return {@code [B, T, V]} logits
     */
    default NDArray forward(NDArray ids, NDArray mask) {
        return logits(hidden(ids, mask, null));
    }

    /**
     * Next-token log-probabilities of the given sequences: {@code out[b, i] = log p(ids[b, i+1] | ids[b, 0..i])}.
     * The last position's hidden state is dropped before the vocabulary projection, so no {@code [B, T, V]} slice
     * copy is made (the projection and log-softmax dominate a small model's step).
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @return {@code [B, T-1]}
     */
    default NDArray nextTokenLogprobs(NDArray ids, NDArray mask) {
        NDArray h = hidden(ids, mask, null).get(new ai.djl.ndarray.index.NDIndex(":, :-1, :"));
        return org.rlhf4j.core.tensor.TensorOps.tokenLogprobs(logits(h), ids.get(new ai.djl.ndarray.index.NDIndex(":, 1:")));
    }

    /**
     * Returns an independent copy of this model (e.g. the frozen reference policy).
     *
     * @param parent the parent manager of the copy
     * @return the copy, of the same class
     */
    CausalLm copy(NDManager parent);

    /**
     * Saves the model in Hugging Face layout with the defaults ({@link SaveOptions#DEFAULTS}: float32, one
     * {@code model.safetensors} up to 5 GB): {@code config.json}, the weights, and {@code generation_config.json}
     * when the model has one.
     *
     * @param dir the target directory (must exist)
     * @throws IOException on write failure
     */
    default void save(Path dir) throws IOException {
        save(dir, SaveOptions.DEFAULTS);
    }

    /**
     * Saves the model in Hugging Face layout ({@link ModelFiles#save}): weights stored as {@code options.dtype()}
     * (narrowed from float32 with round-to-nearest-even, exactly as torch's {@code .to(dtype)}), split into shards of
     * at most {@code options.maxShardSize()} bytes with transformers' names and index; {@code config.json} records the
     * dtype; {@code generation_config.json} is written when the model has one.
     *
     * @param dir the target directory (must exist)
     * @param options dtype and shard limit
     * @throws org.rlhf4j.core.io.NonFiniteTensorException when a weight holds NaN or infinity, or overflows the dtype
     *     (fp16: |w| ≥ 65520); nothing is written then
     * @throws IOException on write failure
     */
    default void save(Path dir, SaveOptions options) throws IOException {
        ModelFiles.save(dir, config(), weights(), options, generationConfig().orElse(null));
    }

    /**
     * Returns the {@code generation_config.json} the model was loaded with (decoding defaults of its authors, e.g.
     * the list of EOS ids); empty for a model created in Java or loaded from a directory without one.
     *
     * @return the generation config, or empty
     */
    default Optional<HfGenerationConfig> generationConfig() {
        return Optional.empty();
    }

    /**
     * Returns the manager that owns the weights (use {@link NDManager#newSubManager()} for per-step work).
     *
     * @return the manager
     */
    default NDManager manager() {
        return weights().manager();
    }

    /** Releases the weights. */
    @Override
    void close();
}
