package org.rlhf4j.examples.cli;

/**
 * A command that leaves a result after it ran: the object whose JSON it printed (the pipeline: the object it wrote
 * as {@code pipeline.json}). {@link Rlhf4jCli#runExample(String...)} returns it.
 */
interface ResultCommand {

    /**
     * Returns the result of the last run.
     *
     * @return the result, or null before a successful run
     */
    Object result();
}
