/**
 * Models with exact Hugging Face semantics: {@link org.rlhf4j.core.model.Gpt2} (GPT-2),
 * {@link org.rlhf4j.core.model.GptNeoX} (GPT-NeoX / Pythia) and {@link org.rlhf4j.core.model.Llama} (Llama, Mistral,
 * Qwen2, Qwen3) causal LMs with KV cache and left padding, {@link org.rlhf4j.core.model.ScalarModel} (reward models
 * and critics on any of these trunks), their configs (the sealed
 * {@link org.rlhf4j.core.model.ModelConfig}) and weights. {@link org.rlhf4j.core.model.CausalLm#load} picks the
 * architecture from {@code config.json}.
 */
package org.rlhf4j.core.model;
