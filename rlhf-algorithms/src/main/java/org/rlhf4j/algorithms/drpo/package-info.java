/**
 * Dataset Reset Policy Optimization (DR-PO; Chang et al. 2024, arXiv 2404.08495): PPO whose rollouts start, with
 * probability β_mix, from a prefix of an offline response (the human reference summary, or the preferred response of
 * a comparison) instead of from the bare prompt. The prefix is teacher-forced during generation and excluded from the
 * policy loss; everything else is PPO ({@link org.rlhf4j.algorithms.ppo.PpoTrainer}, which this package drives through
 * its {@link org.rlhf4j.algorithms.ppo.ResetStrategy} hook). Types: {@link org.rlhf4j.algorithms.drpo.DrpoConfig},
 * {@link org.rlhf4j.algorithms.drpo.ResetSource}, {@link org.rlhf4j.algorithms.drpo.DatasetReset},
 * {@link org.rlhf4j.algorithms.drpo.DrpoTrainer}.
 */
package org.rlhf4j.algorithms.drpo;
