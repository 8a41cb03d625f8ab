/**
 * LoRA adapters (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") on the linear layers of every
 * supported architecture, in PEFT's format: {@code adapter_config.json} + {@code adapter_model.safetensors}.
 *
 * <p>A LoRA layer replaces y = x Wᵀ + b by y = x Wᵀ + b + s·(dropout(x) Aᵀ) Bᵀ with A ∈ ℝ^{r×in}, B ∈ ℝ^{out×r},
 * s = α/r (rsLoRA: α/√r); W and b stay frozen and shared, only A and B train. The hook that adds the term is a
 * {@link org.rlhf4j.core.model.ForwardHook}, so the base model's weights are never copied.
 */
package org.rlhf4j.core.lora;
