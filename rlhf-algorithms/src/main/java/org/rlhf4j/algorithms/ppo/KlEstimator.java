package org.rlhf4j.algorithms.ppo;

/**
 * Per-token estimators of KL(π_θ ‖ π_ref) from a sample y_t ~ π_θ (Schulman, "Approximating KL divergence", 2020).
 */
public enum KlEstimator {
    /** k1 = log π_θ(y_t) − log π_ref(y_t): unbiased, can be negative per token (the references' default). */
    K1,
    /** k3 = (ρ − 1) − log ρ with ρ = π_ref(y_t)/π_θ(y_t): unbiased, always ≥ 0, lower variance. */
    K3;

    /**
     * Parses a command-line or config name, case-insensitively ({@code k1}, {@code K3}).
     *
     * @param name the name
     * @return the estimator
     * @throws IllegalArgumentException naming the bad value and listing the valid ones
     */
    public static KlEstimator parse(String name) {
        for (KlEstimator e : values()) {
            if (e.name().equalsIgnoreCase(name == null ? "" : name.strip())) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown KL estimator '" + name + "' (valid: k1, k3)");
    }
}
