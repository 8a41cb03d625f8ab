package org.rlhf4j.algorithms.ppo;

import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;

/**
 * PPO settings (validated, immutable). Build one with {@link #builder()}; the defaults ({@link #references()})
 * follow TRL's PPO trainer and the N+ implementation details for TL;DR (Huang et al. 2024): 53-token responses at
 * τ = 0.7 truncated at EOS, score −1 for responses without EOS, β = 0.05 with k1, γ = 1, λ = 0.95, 4 PPO epochs,
 * clip 0.2, value clip 0.2, c_vf = 0.1, AdamW η = 3e-6 (ε = 1e-5) with linear decay, 512 episodes per update,
 * 10⁶ episodes. Defaults are in parentheses.
 *
 * @param seed run seed: prompts, generation, resets and minibatch order derive from (seed, update) (1)
 * @param optimizer AdamW and schedule for the policy and (a separate instance) the critic (η 3e-6, linear decay,
 *     ε 1e-5, clip 1.0)
 * @param totalEpisodes episodes (rollouts) in the run; updates = ⌈totalEpisodes / batchSize⌉ (1,000,000)
 * @param batchSize episodes per update (rollout batch), B (512)
 * @param numMiniBatches minibatches per PPO epoch; B must be a multiple (1)
 * @param microBatchSize rows per forward/backward; B / numMiniBatches must be a multiple (64)
 * @param ppoEpochs passes over each rollout batch, K (4)
 * @param responseLength tokens generated per episode, exactly (53 for TL;DR); truncated after the first EOS
 * @param temperature sampling temperature τ (0.7); log-probs are computed from z/τ
 * @param klCoef initial KL coefficient β (0.05)
 * @param adaptiveKl Ziegler's adaptive controller, or null for a fixed β (null)
 * @param klEstimator per-token KL estimator (k1)
 * @param whitenRewards whiten per-token rewards before GAE (false)
 * @param whitenAdvantages whiten advantages over the batch's real tokens before the policy loss (true, as in TRL;
 *     turn off for sparse 0/1 rewards, where a batch of equal rewards would turn critic noise into unit-scale
 *     advantages)
 * @param gamma discount γ (1.0)
 * @param lambda GAE λ (0.95)
 * @param clipRange policy ratio clip ε (0.2)
 * @param clipRangeValue value clip ε_v around the rollout values (0.2)
 * @param vfCoef value-loss coefficient c_vf (0.1)
 * @param entCoef entropy bonus c_ent (0: none)
 * @param noEosScore score given to responses that contain no EOS (−1.0; null leaves the score unchanged)
 * @param schedule when to evaluate, checkpoint and log; cannot change the trajectory (see {@link TrainingSchedule}).
 *     (evaluation and checkpoint every 100 updates, 2 checkpoints kept, metrics every update)
 */
public record PpoConfig(
        long seed,
        OptimizerConfig optimizer,
        long totalEpisodes,
        int batchSize,
        int numMiniBatches,
        int microBatchSize,
        int ppoEpochs,
        int responseLength,
        double temperature,
        double klCoef,
        AdaptiveKl adaptiveKl,
        KlEstimator klEstimator,
        boolean whitenRewards,
        boolean whitenAdvantages,
        double gamma,
        double lambda,
        double clipRange,
        double clipRangeValue,
        double vfCoef,
        double entCoef,
        Double noEosScore,
        TrainingSchedule schedule) {

    /** Validates; the batch-size family must divide exactly. */
    public PpoConfig {
        if (optimizer == null || klEstimator == null) {
            throw new IllegalArgumentException("optimizer and klEstimator must not be null");
        }
        if (totalEpisodes < 1) {
            throw new IllegalArgumentException("totalEpisodes must be >= 1, got " + totalEpisodes);
        }
        if (batchSize < 1 || numMiniBatches < 1 || batchSize % numMiniBatches != 0) {
            throw new IllegalArgumentException(
                    "batchSize (" + batchSize + ") must be a positive multiple of numMiniBatches (" + numMiniBatches + ")");
        }
        int mini = batchSize / numMiniBatches;
        if (microBatchSize < 1 || mini % microBatchSize != 0) {
            throw new IllegalArgumentException("minibatch size " + mini + " (batchSize/numMiniBatches) must be a multiple of "
                    + "microBatchSize (" + microBatchSize + ")");
        }
        if (ppoEpochs < 1 || responseLength < 1) {
            throw new IllegalArgumentException(
                    "ppoEpochs and responseLength must be >= 1, got " + ppoEpochs + ", " + responseLength);
        }
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be > 0 (PPO needs a sampling policy), got " + temperature);
        }
        if (!(klCoef >= 0)) {
            throw new IllegalArgumentException("klCoef must be >= 0, got " + klCoef);
        }
        if (!(gamma >= 0 && gamma <= 1) || !(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("gamma and lambda must be in [0, 1], got " + gamma + ", " + lambda);
        }
        if (!(clipRange > 0) || !(clipRangeValue > 0)) {
            throw new IllegalArgumentException("clip ranges must be > 0, got " + clipRange + ", " + clipRangeValue);
        }
        if (!(vfCoef >= 0) || !(entCoef >= 0)) {
            throw new IllegalArgumentException("vfCoef and entCoef must be >= 0, got " + vfCoef + ", " + entCoef);
        }
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must not be null");
        }
    }

    /**
     * Returns a builder with the references' settings (see the class description).
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
                .setSeed(seed)
                .setOptimizer(optimizer)
                .setTotalEpisodes(totalEpisodes)
                .setBatchSize(batchSize)
                .setNumMiniBatches(numMiniBatches)
                .setMicroBatchSize(microBatchSize)
                .setPpoEpochs(ppoEpochs)
                .setResponseLength(responseLength)
                .setTemperature(temperature)
                .setKlCoef(klCoef)
                .setAdaptiveKl(adaptiveKl)
                .setKlEstimator(klEstimator)
                .setWhitenRewards(whitenRewards)
                .setWhitenAdvantages(whitenAdvantages)
                .setGamma(gamma)
                .setLambda(lambda)
                .setClipRange(clipRange)
                .setClipRangeValue(clipRangeValue)
                .setVfCoef(vfCoef)
                .setEntCoef(entCoef)
                .setNoEosScore(noEosScore)
                .setSchedule(schedule);
    }

    /**
     * The references' TL;DR settings (TRL PPO / N+ details): {@code builder().build()}.
     *
     * @return the config
     */
    public static PpoConfig references() {
        return builder().build();
    }

    /**
     * Returns the number of updates.
     *
     * @return ⌈totalEpisodes / batchSize⌉
     */
    public long numUpdates() {
        return (totalEpisodes + batchSize - 1) / batchSize;
    }

    /**
     * Returns the minibatch size.
     *
     * @return batchSize / numMiniBatches
     */
    public int miniBatchSize() {
        return batchSize / numMiniBatches;
    }

    /**
     * Returns a copy with other run-length settings.
     *
     * @param episodes total episodes
     * @param batch episodes per update
     * @param miniBatches minibatches per epoch
     * @param micro micro-batch size
     * @return the copy
     */
    public PpoConfig withBatches(long episodes, int batch, int miniBatches, int micro) {
        return toBuilder().setTotalEpisodes(episodes).setBatchSize(batch).setNumMiniBatches(miniBatches)
                .setMicroBatchSize(micro).build();
    }

    /** Builder of {@link PpoConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private long seed = 1;
        private OptimizerConfig optimizer = OptimizerConfig.references(3e-6, OptimizerConfig.Schedule.LINEAR);
        private long totalEpisodes = 1_000_000;
        private int batchSize = 512;
        private int numMiniBatches = 1;
        private int microBatchSize = 64;
        private int ppoEpochs = 4;
        private int responseLength = 53;
        private double temperature = 0.7;
        private double klCoef = 0.05;
        private AdaptiveKl adaptiveKl = null;
        private KlEstimator klEstimator = KlEstimator.K1;
        private boolean whitenRewards = false;
        private boolean whitenAdvantages = true;
        private double gamma = 1.0;
        private double lambda = 0.95;
        private double clipRange = 0.2;
        private double clipRangeValue = 0.2;
        private double vfCoef = 0.1;
        private double entCoef = 0.0;
        private Double noEosScore = -1.0;
        private TrainingSchedule schedule = TrainingSchedule.builder().build();

        private Builder() {}

        /**
         * Sets {@link PpoConfig#seed()}.
         *
         * @param v the seed
         * @return this
         */
        public Builder setSeed(long v) {
            seed = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#optimizer()}.
         *
         * @param v the optimizer settings
         * @return this
         */
        public Builder setOptimizer(OptimizerConfig v) {
            optimizer = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#totalEpisodes()}.
         *
         * @param v episodes in the run
         * @return this
         */
        public Builder setTotalEpisodes(long v) {
            totalEpisodes = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#batchSize()}.
         *
         * @param v B
         * @return this
         */
        public Builder setBatchSize(int v) {
            batchSize = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#numMiniBatches()}.
         *
         * @param v minibatches per PPO epoch
         * @return this
         */
        public Builder setNumMiniBatches(int v) {
            numMiniBatches = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#microBatchSize()}.
         *
         * @param v rows per forward/backward
         * @return this
         */
        public Builder setMicroBatchSize(int v) {
            microBatchSize = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#ppoEpochs()}.
         *
         * @param v K
         * @return this
         */
        public Builder setPpoEpochs(int v) {
            ppoEpochs = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#responseLength()}.
         *
         * @param v tokens per response
         * @return this
         */
        public Builder setResponseLength(int v) {
            responseLength = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#temperature()}.
         *
         * @param v τ
         * @return this
         */
        public Builder setTemperature(double v) {
            temperature = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#klCoef()}.
         *
         * @param v β
         * @return this
         */
        public Builder setKlCoef(double v) {
            klCoef = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#adaptiveKl()}.
         *
         * @param v the controller, or null for a fixed β
         * @return this
         */
        public Builder setAdaptiveKl(AdaptiveKl v) {
            adaptiveKl = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#klEstimator()}.
         *
         * @param v the estimator
         * @return this
         */
        public Builder setKlEstimator(KlEstimator v) {
            klEstimator = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#whitenRewards()}.
         *
         * @param v whether to whiten rewards
         * @return this
         */
        public Builder setWhitenRewards(boolean v) {
            whitenRewards = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#whitenAdvantages()}.
         *
         * @param v whether to whiten advantages
         * @return this
         */
        public Builder setWhitenAdvantages(boolean v) {
            whitenAdvantages = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#gamma()}.
         *
         * @param v γ
         * @return this
         */
        public Builder setGamma(double v) {
            gamma = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#lambda()}.
         *
         * @param v λ
         * @return this
         */
        public Builder setLambda(double v) {
            lambda = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#clipRange()}.
         *
         * @param v ε
         * @return this
         */
        public Builder setClipRange(double v) {
            clipRange = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#clipRangeValue()}.
         *
         * @param v ε_v
         * @return this
         */
        public Builder setClipRangeValue(double v) {
            clipRangeValue = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#vfCoef()}.
         *
         * @param v c_vf
         * @return this
         */
        public Builder setVfCoef(double v) {
            vfCoef = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#entCoef()}.
         *
         * @param v c_ent
         * @return this
         */
        public Builder setEntCoef(double v) {
            entCoef = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#noEosScore()}.
         *
         * @param v the score, or null
         * @return this
         */
        public Builder setNoEosScore(Double v) {
            noEosScore = v;
            return this;
        }

        /**
         * Sets {@link PpoConfig#schedule()}.
         *
         * @param v when to evaluate, checkpoint and log
         * @return this
         */
        public Builder setSchedule(TrainingSchedule v) {
            schedule = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public PpoConfig build() {
            return new PpoConfig(seed, optimizer, totalEpisodes, batchSize, numMiniBatches, microBatchSize, ppoEpochs,
                    responseLength, temperature, klCoef, adaptiveKl, klEstimator, whitenRewards, whitenAdvantages, gamma,
                    lambda, clipRange, clipRangeValue, vfCoef, entCoef, noEosScore, schedule);
        }
    }
}
