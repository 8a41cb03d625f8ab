package org.rlhf4j.algorithms.common;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A run directory holds a run whose configuration differs from the one asked for; the message names every field
 * that differs with both values.
 */
public final class RunConfigMismatchException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient Path runDir;
    private final transient List<RunConfig.Difference> differences;
    private final transient RunConfig saved;
    private final transient RunConfig current;
    private final ExistingRun mode;

    /**
     * Creates the exception.
     *
     * @param runDir the run directory
     * @param differences the differing fields (not empty)
     * @param mode what was asked for
     * @param saved the saved run's config, or null
     * @param current this run's config, or null
     */
    public RunConfigMismatchException(Path runDir, List<RunConfig.Difference> differences, ExistingRun mode,
            RunConfig saved, RunConfig current) {
        super(message(runDir, differences, mode));
        this.runDir = runDir;
        this.differences = List.copyOf(differences);
        this.saved = saved;
        this.current = current;
        this.mode = mode;
    }

    /**
     * Returns the saved run's config.
     *
     * @return the config, or null (a run directory from before run configs)
     */
    public RunConfig saved() {
        return saved;
    }

    /**
     * Returns this run's config.
     *
     * @return the config, or null
     */
    public RunConfig current() {
        return current;
    }

    /**
     * Returns what was asked for.
     *
     * @return the mode
     */
    public ExistingRun mode() {
        return mode;
    }

    private static String message(Path runDir, List<RunConfig.Difference> differences, ExistingRun mode) {
        String fields = differences.stream().map(RunConfig.Difference::toString).collect(Collectors.joining(", "));
        String fix = mode == ExistingRun.RESUME
                ? "these settings change the trajectory and cannot differ on resume; start fresh with overwrite "
                        + "(--overwrite) or use another run directory"
                : "continue it with resume (--resume; only schedules of evaluation, logging and checkpoints may "
                        + "differ), start fresh with overwrite (--overwrite), or use another run directory";
        return runDir + " holds a run with another configuration (" + RunConfig.FILE + "): " + fields + "; " + fix;
    }

    /**
     * Returns the run directory.
     *
     * @return the directory
     */
    public Path runDir() {
        return runDir;
    }

    /**
     * Returns the differing fields.
     *
     * @return the differences
     */
    public List<RunConfig.Difference> differences() {
        return differences;
    }
}
