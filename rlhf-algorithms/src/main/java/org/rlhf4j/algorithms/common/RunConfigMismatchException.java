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

    /**
     * Creates the exception.
     *
     * @param runDir the run directory
     * @param differences the differing fields (not empty)
     * @param mode what was asked for
     */
    public RunConfigMismatchException(Path runDir, List<RunConfig.Difference> differences, ExistingRun mode) {
        super(message(runDir, differences, mode));
        this.runDir = runDir;
        this.differences = List.copyOf(differences);
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
