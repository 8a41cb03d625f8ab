/**
 * Pure tensor functions used by every trainer: per-token log-probabilities and entropy, masked statistics and
 * whitening; and {@link org.rlhf4j.core.tensor.FusedOps}, torch ops that DJL lacks run as tiny TorchScript modules.
 * Each is unit-tested against hand-computed values.
 */
package org.rlhf4j.core.tensor;
