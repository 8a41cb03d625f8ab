package org.rlhf4j.examples.cli;

/**
 * A training stage's command: besides the printed summary ({@link #result()}, a map), its typed form, which the
 * pipeline reads.
 */
interface StageCommand extends ResultCommand {

    /**
     * Returns the typed result of the last run.
     *
     * @return the result, or null before a successful run
     */
    StageResult stageResult();
}
