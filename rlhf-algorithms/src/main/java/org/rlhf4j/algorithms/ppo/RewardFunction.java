package org.rlhf4j.algorithms.ppo;

import java.util.List;
import java.util.function.BiFunction;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * A programmatic reward: scores for (query, response) pairs, as an alternative or complement to a reward model
 * (rule-based rewards: format checks, lengths, exact answers, unit tests...).
 */
@FunctionalInterface
public interface RewardFunction {

    /**
     * Scores a batch.
     *
     * @param queries query token ids (unpadded)
     * @param responses response token ids (unpadded, truncated after EOS, EOS included when present)
     * @return one score per pair
     */
    double[] score(List<int[]> queries, List<int[]> responses);

    /**
     * Builds a reward function over decoded text.
     *
     * @param tokenizer decodes ids (special tokens skipped)
     * @param fn (query text, response text) to score
     * @return the reward function
     */
    static RewardFunction ofText(Tokenizer tokenizer, BiFunction<String, String, Double> fn) {
        return (queries, responses) -> {
            double[] out = new double[queries.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = fn.apply(tokenizer.decode(queries.get(i), true), tokenizer.decode(responses.get(i), true));
            }
            return out;
        };
    }
}
