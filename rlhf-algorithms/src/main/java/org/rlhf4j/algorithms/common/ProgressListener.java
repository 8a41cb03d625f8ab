package org.rlhf4j.algorithms.common;

import java.util.Map;

/** Receives training progress (the CLI draws a progress bar with ETA from it). */
@FunctionalInterface
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = (stage, step, total, metrics) -> {};

    /**
     * Called after every optimizer step.
     *
     * @param stage what is running (e.g. {@code sft})
     * @param step completed steps
     * @param total total steps
     * @param metrics the step's metrics
     */
    void onStep(String stage, long step, long total, Map<String, Double> metrics);
}
