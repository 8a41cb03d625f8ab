/**
 * Tokenizers: the {@link org.rlhf4j.core.tokenizer.Tokenizer} interface, its implementation over Hugging Face
 * {@code tokenizer.json} (DJL's native tokenizers), and the bundled GPT-2 byte-level BPE.
 */
package org.rlhf4j.core.tokenizer;
