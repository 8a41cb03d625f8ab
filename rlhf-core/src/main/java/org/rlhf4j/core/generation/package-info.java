/**
 * Batched sampling with a KV cache over left-padded prompts: temperature, top-k, top-p, greedy, min/max new tokens,
 * EOS handling, per-sample forced prefixes (DR-PO resets), seeded.
 */
package org.rlhf4j.core.generation;
