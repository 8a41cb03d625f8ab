package org.rlhf4j.algorithms.common;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wall-clock seconds an online-RL update spends in each phase, logged under stable names by PPO (and DR-PO), GRPO
 * and RLOO: {@code time/generate} (sampling), {@code time/score} (reward model or reward functions),
 * {@code time/forward} (the no-gradient forwards: rollout log-probs, reference log-probs, critic values),
 * {@code time/train} (the epochs of minibatch gradient steps, optimizer steps included) and {@code time/update} (the
 * whole update). The phases do not overlap, so generate + score + forward + train ≤ update; the rest is host-side
 * bookkeeping (advantages, metrics).
 *
 * <p>Not thread-safe: one instance per update.
 */
public final class PhaseTimes {

    /** The timed phases, each with its metric name. */
    public enum Phase {
        /** Sampling ({@code Generator.generate}). */
        GENERATE("time/generate"),
        /** The reward model or the reward functions. */
        SCORE("time/score"),
        /** No-gradient forwards: rollout and reference log-probs, critic values. */
        FORWARD("time/forward"),
        /** Minibatch forward/backward passes and optimizer steps. */
        TRAIN("time/train");

        private final String metric;

        Phase(String metric) {
            this.metric = metric;
        }

        /**
         * Returns the metric name.
         *
         * @return e.g. {@code time/generate}
         */
        public String metric() {
            return metric;
        }
    }

    /** Metric name of the whole update's seconds. */
    public static final String UPDATE = "time/update";

    private final long start = System.nanoTime();
    private final Map<Phase, Long> nanos = new EnumMap<>(Phase.class);

    /**
     * Starts timing an update now.
     */
    public PhaseTimes() {
        for (Phase p : Phase.values()) {
            nanos.put(p, 0L);
        }
    }

    /**
     * Adds the time since {@code startNanos} (a {@link System#nanoTime()} reading) to a phase.
     *
     * @param phase the phase
     * @param startNanos when the phase started
     * @return the current {@link System#nanoTime()}, to start the next phase with
     */
    public long add(Phase phase, long startNanos) {
        long now = System.nanoTime();
        nanos.merge(phase, now - startNanos, Long::sum);
        return now;
    }

    /**
     * Returns the seconds of one phase so far.
     *
     * @param phase the phase
     * @return seconds
     */
    public double seconds(Phase phase) {
        return nanos.get(phase) / 1e9;
    }

    /**
     * Returns the metrics: each phase's seconds and {@code time/update}, the seconds since construction.
     *
     * @return name to seconds, phases first in declaration order
     */
    public Map<String, Double> metrics() {
        Map<String, Double> row = new LinkedHashMap<>();
        for (Phase p : Phase.values()) {
            row.put(p.metric(), seconds(p));
        }
        row.put(UPDATE, (System.nanoTime() - start) / 1e9);
        return row;
    }
}
