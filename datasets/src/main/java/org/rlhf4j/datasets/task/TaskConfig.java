package org.rlhf4j.datasets.task;

/**
 * Token limits of the TL;DR task (defaults from the references: 512-token queries, SFT responses of at most 53
 * tokens, reward-model responses of at most 169; CNN/DM queries 896 and responses 155).
 *
 * @param maxQueryTokens token budget of a TL;DR query; the post is truncated to fit
 * @param maxSftResponseTokens longest SFT / reference response (including EOS)
 * @param maxRmResponseTokens longest preference response (including EOS)
 * @param maxCnnDmQueryTokens token budget of a CNN/DM query; the article is truncated to fit
 * @param maxCnnDmResponseTokens longest CNN/DM preference response (including EOS)
 */
public record TaskConfig(
        int maxQueryTokens,
        int maxSftResponseTokens,
        int maxRmResponseTokens,
        int maxCnnDmQueryTokens,
        int maxCnnDmResponseTokens) {

    /** The references' limits. */
    public static final TaskConfig DEFAULT = builder().build();

    /**
     * Checks that every limit is positive.
     *
     * @param maxQueryTokens query budget
     * @param maxSftResponseTokens SFT response limit
     * @param maxRmResponseTokens RM response limit
     * @param maxCnnDmQueryTokens CNN/DM query budget
     * @param maxCnnDmResponseTokens CNN/DM response limit
     */
    public TaskConfig {
        positive("maxQueryTokens", maxQueryTokens);
        positive("maxSftResponseTokens", maxSftResponseTokens);
        positive("maxRmResponseTokens", maxRmResponseTokens);
        positive("maxCnnDmQueryTokens", maxCnnDmQueryTokens);
        positive("maxCnnDmResponseTokens", maxCnnDmResponseTokens);
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    /**
     * Returns a builder with the references' defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder initialised from this config.
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder()
                .setMaxQueryTokens(maxQueryTokens)
                .setMaxSftResponseTokens(maxSftResponseTokens)
                .setMaxRmResponseTokens(maxRmResponseTokens)
                .setMaxCnnDmQueryTokens(maxCnnDmQueryTokens)
                .setMaxCnnDmResponseTokens(maxCnnDmResponseTokens);
    }

    /** Builder of {@link TaskConfig}. */
    public static final class Builder {
        private int maxQueryTokens = 512;
        private int maxSftResponseTokens = 53;
        private int maxRmResponseTokens = 169;
        private int maxCnnDmQueryTokens = 1024 - 128;
        private int maxCnnDmResponseTokens = 155;

        private Builder() {}

        /**
         * Sets the TL;DR query budget (512 in the references; the tiny preset uses 128-192).
         *
         * @param v tokens
         * @return this
         */
        public Builder setMaxQueryTokens(int v) {
            maxQueryTokens = v;
            return this;
        }

        /**
         * Sets the longest SFT / reference response, EOS included (53).
         *
         * @param v tokens
         * @return this
         */
        public Builder setMaxSftResponseTokens(int v) {
            maxSftResponseTokens = v;
            return this;
        }

        /**
         * Sets the longest preference response, EOS included (169).
         *
         * @param v tokens
         * @return this
         */
        public Builder setMaxRmResponseTokens(int v) {
            maxRmResponseTokens = v;
            return this;
        }

        /**
         * Sets the CNN/DM query budget (896).
         *
         * @param v tokens
         * @return this
         */
        public Builder setMaxCnnDmQueryTokens(int v) {
            maxCnnDmQueryTokens = v;
            return this;
        }

        /**
         * Sets the longest CNN/DM preference response, EOS included (155).
         *
         * @param v tokens
         * @return this
         */
        public Builder setMaxCnnDmResponseTokens(int v) {
            maxCnnDmResponseTokens = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a limit is not positive
         */
        public TaskConfig build() {
            return new TaskConfig(
                    maxQueryTokens, maxSftResponseTokens, maxRmResponseTokens, maxCnnDmQueryTokens,
                    maxCnnDmResponseTokens);
        }
    }
}
