/**
 * Models with exact Hugging Face semantics: {@link org.rlhf4j.core.model.Gpt2} (causal LM with tied head, KV cache,
 * left padding), {@link org.rlhf4j.core.model.ScalarModel} (reward models and critics), their configs and weights.
 */
package org.rlhf4j.core.model;
