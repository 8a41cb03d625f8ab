package org.rlhf4j.algorithms.drpo;

import org.rlhf4j.algorithms.ppo.PpoConfig;

/**
 * DR-PO settings (validated, immutable): the PPO settings plus the reset distribution. Per rollout sample, with
 * probability β_mix the response starts from a reset state: the first k tokens of the sample's reset response y* (of
 * L tokens, EOS included) are teacher-forced, with k ~ Uniform{1, …, L−1}; otherwise the sample starts from the prompt
 * exactly as in PPO.
 *
 * @param ppo the PPO settings (generation, KL, GAE, clipping, optimizer, batch sizes, seed; see {@link PpoConfig}).
 *     Default: {@link #references()}.
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
     * DR-PO on PPO settings with the default reset distribution (β_mix = 1, reference summaries).
     *
     * @param ppo the PPO settings
     * @return the config
     */
    public static DrpoConfig of(PpoConfig ppo) {
        return new DrpoConfig(ppo, DEFAULT_BETA_MIX, ResetSource.REFERENCE_SUMMARY);
    }

    /**
     * The paper's TL;DR settings where its code states them (Cornell-RL/drpo {@code src/tldr/drpo.py}): β_mix = 1.0,
     * resets to the reference summary, and PPO as in {@link PpoConfig#references()} (53 tokens at τ = 0.7, score −1
     * without EOS, β = 0.05 fixed with k1, γ = 1, λ = 0.95, 4 epochs, 1 minibatch, clip 0.2, value clip 0.2,
     * c_vf = 0.1, AdamW η = 3e-6, ε = 1e-5, linear decay, 512 episodes per update, 10⁶ episodes) except
     * {@code whiten_rewards = True}, which DR-PO's script sets where TRL's PPO default is false.
     *
     * @return the config
     */
    public static DrpoConfig references() {
        PpoConfig p = PpoConfig.references();
        PpoConfig whitened = new PpoConfig(p.seed(), p.optimizer(), p.totalEpisodes(), p.batchSize(),
                p.numMiniBatches(), p.microBatchSize(), p.ppoEpochs(), p.responseLength(), p.temperature(), p.klCoef(),
                p.adaptiveKl(), p.klEstimator(), true, p.whitenAdvantages(), p.gamma(), p.lambda(), p.clipRange(), p.clipRangeValue(),
                p.vfCoef(), p.entCoef(), p.noEosScore(), p.evalEvery(), p.checkpointEvery());
        return new DrpoConfig(whitened, DEFAULT_BETA_MIX, ResetSource.REFERENCE_SUMMARY);
    }

    /**
     * Returns a copy with another β_mix.
     *
     * @param beta β_mix in [0, 1]
     * @return the copy
     */
    public DrpoConfig withBetaMix(double beta) {
        return new DrpoConfig(ppo, beta, resetSource);
    }

    /**
     * Returns a copy with other PPO settings.
     *
     * @param p the PPO settings
     * @return the copy
     */
    public DrpoConfig withPpo(PpoConfig p) {
        return new DrpoConfig(p, betaMix, resetSource);
    }
}
