/**
 * LoRA adapters (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") on the linear layers of every
 * supported architecture, in PEFT's format: {@code adapter_config.json} + {@code adapter_model.safetensors}.
 *
 * <p>A LoRA layer replaces y = x Wᵀ + b by y = x Wᵀ + b + s·(dropout(x) Aᵀ) Bᵀ with A ∈ ℝ^{r×in}, B ∈ ℝ^{out×r},
 * s = α/r (rsLoRA: α/√r); W and b stay frozen and shared, only A and B train. The hook that adds the term is a
 * {@link org.rlhf4j.core.model.ForwardHook}, so the base model's weights are never copied.
 *
 * <p>{@link org.rlhf4j.core.lora.LoraModel} is a causal LM made of a shared frozen base and a
 * {@link org.rlhf4j.core.lora.LoraAdapter}; {@link org.rlhf4j.core.model.ScalarModel#lora} puts a reward/critic head
 * beside an adapter over the same base. {@link org.rlhf4j.core.lora.PeftFiles} reads and writes PEFT's adapter
 * directories; {@link org.rlhf4j.core.lora.LoraPatterns} holds PEFT's per-module ranks and alphas.
 */
package org.rlhf4j.core.lora;
