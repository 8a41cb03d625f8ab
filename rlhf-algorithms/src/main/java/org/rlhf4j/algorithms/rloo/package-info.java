/**
 * REINFORCE Leave-One-Out (Ahmadian et al. 2024) with the semantics of TRL's {@code RLOOTrainer} (trl 1.13.0):
 * KL-penalised sequence rewards, leave-one-out baselines and the clipped sequence-level policy loss
 * ({@link org.rlhf4j.algorithms.rloo.RlooLosses}).
 */
package org.rlhf4j.algorithms.rloo;
