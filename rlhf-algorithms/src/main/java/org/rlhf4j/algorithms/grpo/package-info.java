/**
 * Group Relative Policy Optimization (Shao et al. 2024) with the semantics of TRL's {@code GRPOTrainer} (trl 1.13.0):
 * group-normalised advantages ({@link org.rlhf4j.algorithms.grpo.GrpoLosses#advantages}), the clipped token-level
 * loss with asymmetric clipping and an optional k3 KL term, aggregated per
 * {@link org.rlhf4j.algorithms.grpo.GrpoLossType}.
 */
package org.rlhf4j.algorithms.grpo;
