/**
 * Models with exact Hugging Face semantics: {@link org.rlhf4j.core.model.Gpt2} (GPT-2) and
 * {@link org.rlhf4j.core.model.GptNeoX} (GPT-NeoX / Pythia) causal LMs with KV cache and left padding,
 * {@link org.rlhf4j.core.model.ScalarModel} (reward models and critics on either trunk), their configs (the sealed
 * {@link org.rlhf4j.core.model.ModelConfig}) and weights. {@link org.rlhf4j.core.model.CausalLm#load} picks the
 * architecture from {@code config.json}.
 */
package org.rlhf4j.core.model;
