package org.rlhf4j.algorithms.ppo;

import org.rlhf4j.algorithms.common.OptimizerConfig;

/**
 * PPO settings (validated, immutable). Defaults ({@link #references()}) follow TRL's PPO trainer and the N+
 * implementation details for TL;DR (Huang et al. 2024): 53-token responses at τ = 0.7 truncated at EOS, score −1 for
 * responses without EOS, β = 0.05 with k1, γ = 1, λ = 0.95, 4 PPO epochs, clip 0.2, value clip 0.2, c_vf = 0.1,
 * AdamW η = 3e-6 (ε = 1e-5) with linear decay.
 *
 * @param seed run seed: prompts, generation, resets and minibatch order derive from (seed, update)
 * @param optimizer AdamW and schedule for the policy and (a separate instance) the critic
 * @param totalEpisodes episodes (rollouts) in the run; updates = ⌈totalEpisodes / batchSize⌉
 * @param batchSize episodes per update (rollout batch), B
 * @param numMiniBatches minibatches per PPO epoch; B must be a multiple
 * @param microBatchSize rows per forward/backward; B / numMiniBatches must be a multiple
 * @param ppoEpochs passes over each rollout batch, K (4)
 * @param responseLength tokens generated per episode, exactly (53 for TL;DR); truncated after the first EOS
 * @param temperature sampling temperature τ (0.7); log-probs are computed from z/τ
 * @param klCoef initial KL coefficient β (0.05)
 * @param adaptiveKl Ziegler's adaptive controller, or null for a fixed β
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
 * @param evalEvery evaluate every n updates (0: only at the end)
 * @param checkpointEvery checkpoint every n updates (0: only at the end)
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
        int evalEvery,
        int checkpointEvery) {

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
        if (evalEvery < 0 || checkpointEvery < 0) {
            throw new IllegalArgumentException("evalEvery and checkpointEvery must be >= 0");
        }
    }

    /**
     * The references' TL;DR settings (TRL PPO / N+ details).
     *
     * @return the config
     */
    public static PpoConfig references() {
        return new PpoConfig(1, OptimizerConfig.references(3e-6, OptimizerConfig.Schedule.LINEAR), 1_000_000, 512, 1,
                64, 4, 53, 0.7, 0.05, null, KlEstimator.K1, false, true, 1.0, 0.95, 0.2, 0.2, 0.1, 0.0, -1.0, 100, 100);
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
        return new PpoConfig(seed, optimizer, episodes, batch, miniBatches, micro, ppoEpochs, responseLength, temperature,
                klCoef, adaptiveKl, klEstimator, whitenRewards, whitenAdvantages, gamma, lambda, clipRange, clipRangeValue,
                vfCoef, entCoef, noEosScore, evalEvery, checkpointEvery);
    }

    /**
     * Returns a copy with another KL coefficient.
     *
     * @param beta β
     * @return the copy
     */
    public PpoConfig withKlCoef(double beta) {
        return new PpoConfig(seed, optimizer, totalEpisodes, batchSize, numMiniBatches, microBatchSize, ppoEpochs,
                responseLength, temperature, beta, adaptiveKl, klEstimator, whitenRewards, whitenAdvantages, gamma, lambda,
                clipRange, clipRangeValue, vfCoef, entCoef, noEosScore, evalEvery, checkpointEvery);
    }

    // TEMPORARY shim until the builder-based configs land (issue 14)
    public int evalSteps() { return evalEvery; }
    public int saveSteps() { return checkpointEvery; }
    public int saveTotalLimit() { return 2; }
    public int loggingSteps() { return 1; }
}
