/**
 * Pure tensor functions used by every trainer: per-token log-probabilities and entropy, masked statistics and
 * whitening. Each is unit-tested against hand-computed values.
 */
package org.rlhf4j.core.tensor;
