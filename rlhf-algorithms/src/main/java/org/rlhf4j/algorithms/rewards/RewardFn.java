package org.rlhf4j.algorithms.rewards;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A reward function: one score per completion of a batch, {@code null} where the function does not apply to that
 * completion (TRL's {@code None}; a {@link Double#NaN} counts the same).
 *
 * <p>Its {@link #name()} keys the {@code rewards/<name>/mean} and {@code rewards/<name>/std} metrics; a lambda gets
 * the name {@value #DEFAULT_NAME}, so give it one with {@link #named}.
 */
@FunctionalInterface
public interface RewardFn {

    /** The name of a reward function that does not override {@link #name()}. */
    String DEFAULT_NAME = "reward_fn";

    /**
     * Scores a batch.
     *
     * @param batch the completions to score
     * @return one score per completion, in order; {@code null} (or NaN) where not applicable
     */
    List<Double> score(List<RewardInput> batch);

    /**
     * Returns the name used in metric keys.
     *
     * @return the name
     */
    default String name() {
        return DEFAULT_NAME;
    }

    /**
     * Gives a reward function a name.
     *
     * @param name the name: letters, digits, {@code _ . -}
     * @param fn the function
     * @return the named function
     */
    static RewardFn named(String name, RewardFn fn) {
        return new Named(name, fn);
    }

    /**
     * Builds a named reward function scoring each completion on its own.
     *
     * @param name the name
     * @param fn the score of one completion ({@code null}: not applicable)
     * @return the reward function
     */
    static RewardFn perSample(String name, Function<RewardInput, Double> fn) {
        Objects.requireNonNull(fn, "fn");
        return named(name, batch -> {
            List<Double> out = new ArrayList<>(batch.size());
            for (RewardInput in : batch) {
                out.add(fn.apply(in));
            }
            return out;
        });
    }

    /**
     * Checks a reward function name.
     *
     * @param name the name
     * @return the name
     */
    static String checkName(String name) {
        if (name == null || !Pattern.matches("[A-Za-z0-9_.\\-]+", name)) {
            throw new IllegalArgumentException(
                    "reward function name must be letters, digits, '_', '.' or '-', got '" + name + "'");
        }
        return name;
    }

    /**
     * A reward function with a name.
     *
     * @param name the name
     * @param fn the function
     */
    record Named(String name, RewardFn fn) implements RewardFn {
        /** Validates. */
        public Named {
            checkName(name);
            Objects.requireNonNull(fn, "fn");
        }

        @Override
        public List<Double> score(List<RewardInput> batch) {
            return fn.score(batch);
        }
    }
}
