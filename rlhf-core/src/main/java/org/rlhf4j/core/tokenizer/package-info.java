/**
 * Tokenizers: the {@link org.rlhf4j.core.tokenizer.Tokenizer} interface, its implementation over Hugging Face
 * {@code tokenizer.json} (DJL's native tokenizers) with the special tokens of {@code tokenizer_config.json}
 * ({@link org.rlhf4j.core.tokenizer.TokenizerConfig}), the bundled GPT-2 byte-level BPE, and chat templates
 * ({@link org.rlhf4j.core.tokenizer.ChatTemplate}, a reimplementation of the jinja2 environment transformers renders
 * them with).
 */
package org.rlhf4j.core.tokenizer;
