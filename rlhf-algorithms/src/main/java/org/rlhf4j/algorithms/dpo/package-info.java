/**
 * Direct Preference Optimization (Rafailov et al. 2023) and its variants (cDPO label smoothing, IPO, hinge/SLiC,
 * robust DPO): a policy trained directly on preference pairs against a frozen reference policy, with no reward model
 * and no sampling ({@link org.rlhf4j.algorithms.dpo.DpoConfig}, {@link org.rlhf4j.algorithms.dpo.DpoTrainer},
 * {@link org.rlhf4j.algorithms.dpo.DpoLosses}, {@link org.rlhf4j.algorithms.dpo.DpoLossType}).
 */
package org.rlhf4j.algorithms.dpo;
