package org.rlhf4j.algorithms.ppo;

/**
 * Ziegler et al. (2019) adaptive KL controller: after each rollout batch of n episodes with mean KL K,
 * β ← β · (1 + clip(K/K_target − 1, −0.2, 0.2) · n / horizon).
 *
 * @param targetKl K_target (Ziegler: 6.0 nats)
 * @param horizon H (Ziegler: 10,000 episodes)
 */
public record AdaptiveKl(double targetKl, double horizon) {

    /** Validates. */
    public AdaptiveKl {
        if (!(targetKl > 0) || !(horizon > 0)) {
            throw new IllegalArgumentException("targetKl and horizon must be > 0, got " + targetKl + ", " + horizon);
        }
    }

    /**
     * Returns the next β.
     *
     * @param beta current β
     * @param meanKl K of the batch
     * @param episodes n
     * @return the updated β
     */
    public double update(double beta, double meanKl, int episodes) {
        double error = Math.max(-0.2, Math.min(0.2, meanKl / targetKl - 1));
        return beta * (1 + error * episodes / horizon);
    }
}
