package org.rlhf4j.algorithms.ppo;

import java.util.List;
import org.rlhf4j.core.model.ScalarModel;

/**
 * Where PPO's sequence-level score comes from: a reward model, a {@link RewardFunction}, or a weighted sum of several
 * (score = Σ_k w_k · s_k).
 */
public sealed interface RewardSource permits RewardSource.Model, RewardSource.Function, RewardSource.Weighted {

    /**
     * A reward model scored at the response's last real token (frozen, no gradients).
     *
     * @param model the reward model
     */
    record Model(ScalarModel model) implements RewardSource {}

    /**
     * A programmatic reward.
     *
     * @param function the function
     */
    record Function(RewardFunction function) implements RewardSource {}

    /**
     * A weighted sum of sources.
     *
     * @param sources the sources
     * @param weights one weight per source
     */
    record Weighted(List<RewardSource> sources, List<Double> weights) implements RewardSource {
        /** Validates. */
        public Weighted {
            if (sources.isEmpty() || sources.size() != weights.size()) {
                throw new IllegalArgumentException(
                        "need one weight per source (>= 1), got " + sources.size() + " sources and " + weights.size() + " weights");
            }
            sources = List.copyOf(sources);
            weights = List.copyOf(weights);
        }
    }

    /**
     * Convenience: a reward model source.
     *
     * @param rm the model
     * @return the source
     */
    static RewardSource of(ScalarModel rm) {
        return new Model(rm);
    }

    /**
     * Convenience: a function source.
     *
     * @param fn the function
     * @return the source
     */
    static RewardSource of(RewardFunction fn) {
        return new Function(fn);
    }
}
