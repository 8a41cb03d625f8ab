package org.rlhf4j.algorithms.ppo;

/**
 * Per-token estimators of KL(π_θ ‖ π_ref) from a sample y_t ~ π_θ (Schulman, "Approximating KL divergence", 2020).
 */
public enum KlEstimator {
    /** k1 = log π_θ(y_t) − log π_ref(y_t): unbiased, can be negative per token (the references' default). */
    K1,
    /** k3 = (ρ − 1) − log ρ with ρ = π_ref(y_t)/π_θ(y_t): unbiased, always ≥ 0, lower variance. */
    K3
}
