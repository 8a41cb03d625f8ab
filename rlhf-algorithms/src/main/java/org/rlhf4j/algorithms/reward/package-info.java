/**
 * Reward-model training on human comparisons: Bradley–Terry loss with optional margins and reward centering, and
 * the normalisation that makes reference summaries score 0 on average.
 */
package org.rlhf4j.algorithms.reward;
