package org.rlhf4j.algorithms.common;

/**
 * When a run evaluates, checkpoints and logs (validated, immutable), shared by every trainer config
 * ({@code SftConfig}, {@code RewardConfig}, {@code DpoConfig}, {@code PpoConfig} and, through its PPO settings,
 * {@code DrpoConfig}). None of these settings changes what a run trains: a run may be resumed with another schedule
 * ({@link RunConfig#TRAJECTORY_NEUTRAL}). Build one with {@link #builder()} (the defaults below) or
 * {@link #of(int, int)}; {@link TrainingLoop.Schedule#of} turns it into the loop's schedule.
 *
 * @param evalSteps evaluate every n updates (&gt;= 0; 0: only at the end); the last update is always evaluated.
 *     Default 100 (SFT and reward model: 200).
 * @param saveSteps write a {@code checkpoint-<step>} directory every n updates (&gt;= 0; 0: only at the end, or where
 *     a run stops early). Default 100 (SFT and reward model: 200).
 * @param saveTotalLimit how many {@code checkpoint-<step>} directories to keep, deleting the oldest (&gt;= 0; 0: all).
 *     Default 2.
 * @param loggingSteps log metrics every n updates (&gt;= 1); the last update and evaluation updates are always
 *     logged. Default 1.
 */
public record TrainingSchedule(int evalSteps, int saveSteps, int saveTotalLimit, int loggingSteps) {

    /** Validates. */
    public TrainingSchedule {
        if (evalSteps < 0) {
            throw new IllegalArgumentException("evalSteps must be >= 0 (0: only at the end), got " + evalSteps);
        }
        if (saveSteps < 0) {
            throw new IllegalArgumentException("saveSteps must be >= 0 (0: only at the end), got " + saveSteps);
        }
        if (saveTotalLimit < 0) {
            throw new IllegalArgumentException("saveTotalLimit must be >= 0 (0: keep all), got " + saveTotalLimit);
        }
        if (loggingSteps < 1) {
            throw new IllegalArgumentException("loggingSteps must be >= 1, got " + loggingSteps);
        }
    }

    /**
     * Returns a builder with the defaults (see the class description).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder initialised from this schedule.
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder()
                .setEvalSteps(evalSteps)
                .setSaveSteps(saveSteps)
                .setSaveTotalLimit(saveTotalLimit)
                .setLoggingSteps(loggingSteps);
    }

    /**
     * Returns the schedule with these evaluation and checkpoint periods and the default limit and logging.
     *
     * @param evalSteps updates between evaluations (0: at the end)
     * @param saveSteps updates between checkpoints (0: at the end)
     * @return {@code builder().setEvalSteps(evalSteps).setSaveSteps(saveSteps).build()}
     */
    public static TrainingSchedule of(int evalSteps, int saveSteps) {
        return builder().setEvalSteps(evalSteps).setSaveSteps(saveSteps).build();
    }

    /** Builder of {@link TrainingSchedule}; each setter names a record component, documented there. */
    public static final class Builder {
        private int evalSteps = 100;
        private int saveSteps = 100;
        private int saveTotalLimit = 2;
        private int loggingSteps = 1;

        private Builder() {}

        /**
         * Sets {@link TrainingSchedule#evalSteps()}.
         *
         * @param v updates between evaluations (0: at the end)
         * @return this
         */
        public Builder setEvalSteps(int v) {
            evalSteps = v;
            return this;
        }

        /**
         * Sets {@link TrainingSchedule#saveSteps()}.
         *
         * @param v updates between checkpoints (0: at the end)
         * @return this
         */
        public Builder setSaveSteps(int v) {
            saveSteps = v;
            return this;
        }

        /**
         * Sets {@link TrainingSchedule#saveTotalLimit()}.
         *
         * @param v checkpoints kept (0: all)
         * @return this
         */
        public Builder setSaveTotalLimit(int v) {
            saveTotalLimit = v;
            return this;
        }

        /**
         * Sets {@link TrainingSchedule#loggingSteps()}.
         *
         * @param v updates between logged rows
         * @return this
         */
        public Builder setLoggingSteps(int v) {
            loggingSteps = v;
            return this;
        }

        /**
         * Builds the schedule.
         *
         * @return the schedule
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public TrainingSchedule build() {
            return new TrainingSchedule(evalSteps, saveSteps, saveTotalLimit, loggingSteps);
        }
    }
}
