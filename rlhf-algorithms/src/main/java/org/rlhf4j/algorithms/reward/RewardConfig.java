package org.rlhf4j.algorithms.reward;

import org.rlhf4j.algorithms.common.OptimizerConfig;

/**
 * Reward-model training settings (validated, immutable). Defaults follow the TL;DR references (Stiennon et al. 2020
 * §3.4; summarize_from_feedback_details {@code reward.py}): one epoch over the comparisons, AdamW ε = 1e-5, cosine
 * decay, then reward normalisation on the SFT references.
 *
 * @param seed run seed
 * @param optimizer AdamW and schedule
 * @param batchSize comparison pairs per update, B
 * @param microBatchSize pairs per forward/backward (each pair is two sequences); B must be a multiple
 * @param epochs passes over the comparisons
 * @param centerRewardsCoefficient TRL {@code center_rewards_coefficient} c: adds c·mean((r_w + r_l)²) to the loss
 *     (Eisenstein et al. 2023); 0 disables (default)
 * @param evalEvery evaluate every n updates (0: only at the end)
 * @param checkpointEvery checkpoint every n updates (0: only at the end)
 * @param normalizeOnReferences after training, set the head bias so that reference summaries score 0 on average
 *     (N+ details; default true)
 */
public record RewardConfig(
        long seed,
        OptimizerConfig optimizer,
        int batchSize,
        int microBatchSize,
        double epochs,
        double centerRewardsCoefficient,
        int evalEvery,
        int checkpointEvery,
        boolean normalizeOnReferences) {

    /** Validates. */
    public RewardConfig {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        if (batchSize < 1 || microBatchSize < 1 || batchSize % microBatchSize != 0) {
            throw new IllegalArgumentException(
                    "batchSize (" + batchSize + ") must be a positive multiple of microBatchSize (" + microBatchSize + ")");
        }
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
        }
        if (!(centerRewardsCoefficient >= 0)) {
            throw new IllegalArgumentException("centerRewardsCoefficient must be >= 0, got " + centerRewardsCoefficient);
        }
        if (evalEvery < 0 || checkpointEvery < 0) {
            throw new IllegalArgumentException(
                    "evalEvery and checkpointEvery must be >= 0, got " + evalEvery + ", " + checkpointEvery);
        }
    }

    /**
     * The references' settings (Pythia TL;DR reward model).
     *
     * @return the config
     */
    public static RewardConfig references() {
        return new RewardConfig(1, OptimizerConfig.references(3e-6, OptimizerConfig.Schedule.COSINE), 64, 8, 1.0, 0.0,
                200, 200, true);
    }

    /**
     * Returns the number of optimizer updates for a dataset.
     *
     * @param pairs number of training pairs
     * @return ⌈epochs·N/B⌉
     */
    public long totalSteps(int pairs) {
        return Math.max(1, (long) Math.ceil(epochs * pairs / batchSize));
    }

    // TEMPORARY shim until the builder-based configs land (issue 14)
    public int evalSteps() { return evalEvery; }
    public int saveSteps() { return checkpointEvery; }
    public int saveTotalLimit() { return 2; }
    public int loggingSteps() { return 1; }
}
