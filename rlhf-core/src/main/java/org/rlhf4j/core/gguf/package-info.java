/**
 * Importing llama.cpp GGUF files into trainable Hugging Face model directories: a validating memory-mapped
 * {@link org.rlhf4j.core.gguf.GgufFile} reader, bit-exact fp32 {@link org.rlhf4j.core.gguf.GgmlDequantizer
 * dequantization} of the common ggml types, the llama/mistral/qwen2/qwen3 tensor-name and config mapping, and a
 * {@code tokenizer.json} rebuilt from the {@code tokenizer.ggml.*} metadata ({@link org.rlhf4j.core.gguf.GgufImporter}).
 */
package org.rlhf4j.core.gguf;
