package org.rlhf4j.algorithms.ppo;

import java.util.SplittableRandom;
import org.rlhf4j.datasets.task.Encoded;

/**
 * Chooses, per rollout sample, a prefix of response tokens to teacher-force before sampling (DR-PO's dataset reset).
 * Plain PPO uses {@link #NONE}. Forced tokens are part of the response (scored, KL-penalised, valued) but carry no
 * policy gradient.
 */
@FunctionalInterface
public interface ResetStrategy {

    /** No resets: plain PPO. */
    ResetStrategy NONE = (prompt, rng) -> new int[0];

    /**
     * Returns the tokens to force for one sample (empty for no reset).
     *
     * @param prompt the sample's prompt row (its reference, if any, is the usual reset source)
     * @param rng this sample's random stream (derived from the run seed, the update and the sample index)
     * @return the forced prefix
     */
    int[] prefix(Encoded.PromptOnly prompt, SplittableRandom rng);
}
