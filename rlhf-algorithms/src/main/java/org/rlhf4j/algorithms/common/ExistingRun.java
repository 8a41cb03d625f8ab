package org.rlhf4j.algorithms.common;

/**
 * What a trainer does when its run directory already holds a run (a {@code run_config.json} or a checkpoint).
 */
public enum ExistingRun {
    /**
     * Continue the saved run when its configuration equals this one; fail naming the fields that differ otherwise
     * (the default: a re-run with other settings never silently resumes, nor overwrites, the old run).
     */
    CONTINUE_IF_SAME,
    /**
     * Continue the saved run; only settings that cannot change the trajectory ({@link RunConfig#isTrajectoryNeutral}:
     * the config's {@link TrainingSchedule} of evaluations, logging and checkpoints, and sample counts) may differ.
     * The CLI's {@code --resume}.
     */
    RESUME,
    /** Delete the run directory and start fresh. The CLI's {@code --overwrite}. */
    OVERWRITE
}
