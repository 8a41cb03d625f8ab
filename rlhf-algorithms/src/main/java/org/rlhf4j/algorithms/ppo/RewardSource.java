package org.rlhf4j.algorithms.ppo;

import java.util.List;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.core.model.ScalarModel;

/**
 * Where PPO's sequence-level score comes from: a reward model, a {@link RewardFunction}, a weighted sum of several
 * (score = Σ_k w_k · s_k), or a {@link CompositeReward} of {@link org.rlhf4j.algorithms.rewards.RewardFn}s.
 */
public sealed interface RewardSource
        permits RewardSource.Model, RewardSource.Function, RewardSource.Weighted, RewardSource.Functions {

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
     * Reward functions over text, row fields and ids (shared with GRPO and RLOO), combined as
     * {@link CompositeReward} does. PPO decodes prompts and responses (special tokens skipped) and passes no row
     * fields; every response needs a score, so a response no function applies to is an error. Adds the
     * {@code rewards/<name>/mean} and {@code rewards/<name>/std} metrics.
     *
     * @param reward the functions and weights
     */
    record Functions(CompositeReward reward) implements RewardSource {
        /** Validates. */
        public Functions {
            java.util.Objects.requireNonNull(reward, "reward");
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

    /**
     * Bridge: reward functions as a source.
     *
     * @param reward the functions and weights
     * @return the source
     */
    static RewardSource of(CompositeReward reward) {
        return new Functions(reward);
    }
}
