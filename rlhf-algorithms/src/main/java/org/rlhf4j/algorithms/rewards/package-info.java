/**
 * Reward functions as a first-class type, shared by PPO and the group-based trainers (GRPO, RLOO): a
 * {@link org.rlhf4j.algorithms.rewards.RewardFn} scores a batch of (prompt, completion, row fields, token ids) with one
 * score per completion, {@code null} meaning "not applicable" (TRL's {@code None}); a
 * {@link org.rlhf4j.algorithms.rewards.CompositeReward} combines several with weights, as TRL's
 * {@code reward_funcs}/{@code reward_weights}, and returns the per-function scores for the
 * {@code rewards/<name>/mean} and {@code rewards/<name>/std} metrics; {@link org.rlhf4j.algorithms.rewards.RewardFns}
 * holds the built-ins ({@code length}, {@code ends_with_eos}, {@code no_repetition}, {@code exact_answer},
 * {@code format}), the reward-model adapter, and {@link org.rlhf4j.algorithms.rewards.RewardFns#parse} for the CLI.
 * See docs/rewards.md.
 */
package org.rlhf4j.algorithms.rewards;
