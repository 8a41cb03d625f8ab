package org.rlhf4j.algorithms.drpo;

import org.rlhf4j.algorithms.ppo.PpoConfig;

/**
 * DR-PO settings (validated, immutable): the PPO settings plus the reset distribution. Per rollout sample, with
 * probability β_mix the response starts from a reset state: the first k tokens of the sample's reset response y* (of
 * L tokens, EOS included) are teacher-forced, with k ~ Uniform{1, …, L−1}; otherwise the sample starts from the prompt
 * exactly as in PPO. Build one with {@link #builder()} (defaults: {@link #references()}).
 *
 * @param ppo the PPO settings (generation, KL, GAE, clipping, optimizer, batch sizes, seed; see {@link PpoConfig}).
 *     Default: {@link PpoConfig#references()} with {@code whitenRewards = true} (see {@link #references()}).
 * @param betaMix β_mix in [0, 1], the probability that a sample is reset (the paper's mixing weight; Cornell-RL/drpo
 *     {@code Args.beta}). 0 is exactly PPO; 1 resets every sample. Default 1.0.
 * @param resetSource which offline response the prompt rows carry as their reference (the reset states).
 *     Default {@link ResetSource#REFERENCE_SUMMARY}.
 */
public record DrpoConfig(PpoConfig ppo, double betaMix, ResetSource resetSource) {

    /** Default β_mix (Cornell-RL/drpo {@code src/tldr/drpo.py}: {@code Args.beta = 1.0}). */
    public static final double DEFAULT_BETA_MIX = 1.0;

    /** Validates: β_mix must be in [0, 1]; the PPO config and the source must not be null. */
    public DrpoConfig {
        if (ppo == null) {
            throw new IllegalArgumentException("ppo config must not be null");
        }
        if (!(betaMix >= 0 && betaMix <= 1)) {
            throw new IllegalArgumentException("betaMix (β_mix) must be in [0, 1], got " + betaMix);
        }
        if (resetSource == null) {
            throw new IllegalArgumentException("resetSource must not be null");
        }
    }

    /**
     * Returns a builder with the defaults ({@link #references()}).
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
        return new Builder().setPpo(ppo).setBetaMix(betaMix).setResetSource(resetSource);
    }

    /**
     * DR-PO on PPO settings with the default reset distribution (β_mix = 1, reference summaries).
     *
     * @param ppo the PPO settings
     * @return the config
     */
    public static DrpoConfig of(PpoConfig ppo) {
        return builder().setPpo(ppo).build();
    }

    /**
     * The paper's TL;DR settings where its code states them (Cornell-RL/drpo {@code src/tldr/drpo.py}): β_mix = 1.0,
     * resets to the reference summary, and PPO as in {@link PpoConfig#references()} (53 tokens at τ = 0.7, score −1
     * without EOS, β = 0.05 fixed with k1, γ = 1, λ = 0.95, 4 epochs, 1 minibatch, clip 0.2, value clip 0.2,
     * c_vf = 0.1, AdamW η = 3e-6, ε = 1e-5, linear decay, 512 episodes per update, 10⁶ episodes) except
     * {@code whiten_rewards = True}, which DR-PO's script sets where TRL's PPO default is false. Equal to
     * {@code builder().build()}.
     *
     * @return the config
     */
    public static DrpoConfig references() {
        return builder().build();
    }

    /**
     * Returns a copy with another β_mix.
     *
     * @param beta β_mix in [0, 1]
     * @return the copy
     */
    public DrpoConfig withBetaMix(double beta) {
        return toBuilder().setBetaMix(beta).build();
    }

    /**
     * Returns a copy with other PPO settings.
     *
     * @param p the PPO settings
     * @return the copy
     */
    public DrpoConfig withPpo(PpoConfig p) {
        return toBuilder().setPpo(p).build();
    }

    /** Builder of {@link DrpoConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private PpoConfig ppo = PpoConfig.references().toBuilder().setWhitenRewards(true).build();
        private double betaMix = DEFAULT_BETA_MIX;
        private ResetSource resetSource = ResetSource.REFERENCE_SUMMARY;

        private Builder() {}

        /**
         * Sets {@link DrpoConfig#ppo()}.
         *
         * @param v the PPO settings
         * @return this
         */
        public Builder setPpo(PpoConfig v) {
            ppo = v;
            return this;
        }

        /**
         * Sets {@link DrpoConfig#betaMix()}.
         *
         * @param v β_mix
         * @return this
         */
        public Builder setBetaMix(double v) {
            betaMix = v;
            return this;
        }

        /**
         * Sets {@link DrpoConfig#resetSource()}.
         *
         * @param v the reset states' source
         * @return this
         */
        public Builder setResetSource(ResetSource v) {
            resetSource = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public DrpoConfig build() {
            return new DrpoConfig(ppo, betaMix, resetSource);
        }
    }
}
