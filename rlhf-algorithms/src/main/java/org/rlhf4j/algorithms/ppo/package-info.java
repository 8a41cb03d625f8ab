/**
 * PPO for language models with the TL;DR implementation details (Huang et al. 2024; TRL's PPO trainer): fixed-length
 * generation truncated at EOS, reward-model scores with the missing-EOS penalty, per-token KL rewards, GAE, clipped
 * policy and value losses. {@link org.rlhf4j.algorithms.ppo.PpoTrainer} also runs DR-PO's resets through a
 * {@link org.rlhf4j.algorithms.ppo.ResetStrategy}. {@link org.rlhf4j.algorithms.ppo.PpoModels} loads the four models
 * (policy, reference, reward model, and the critic initialised from the reward model).
 */
package org.rlhf4j.algorithms.ppo;
