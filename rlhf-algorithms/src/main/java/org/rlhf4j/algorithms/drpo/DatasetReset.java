package org.rlhf4j.algorithms.drpo;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.ppo.ResetStrategy;
import org.rlhf4j.datasets.task.Encoded;

/**
 * DR-PO's reset distribution: for one rollout sample with reset response y* = (y*_1, …, y*_L) (the prompt row's
 * reference, EOS included),
 *
 * <pre>
 *   reset ~ Bernoulli(β_mix)
 *   k     ~ Uniform{1, …, K},   K = min(L − 1, T − 1)
 *   prefix = (y*_1, …, y*_k)     (empty when not reset or K &lt; 1)
 * </pre>
 *
 * where T is the response length of generation. So the full reference is never forced (the policy always generates
 * at least the final EOS of a reset sample), a reference with L &lt; 2 never resets, and at least one response token
 * is always sampled; for TL;DR (L ≤ 53 = T) K = L − 1 as in the paper.
 *
 * <p>Randomness: the decision and k come only from the per-sample stream passed in (PPO derives it from
 * (seed, update, sample), independently of the generation stream). With β_mix = 0 or 1 the Bernoulli draw is
 * skipped; β_mix = 0 draws nothing at all. The result is a deterministic function of the prompt and the stream state.
 */
public final class DatasetReset implements ResetStrategy {

    private static final int[] NONE = new int[0];

    private final double betaMix;
    private final int maxPrefix;

    /**
     * Creates the strategy.
     *
     * @param betaMix β_mix in [0, 1], the reset probability
     * @param responseLength T, tokens generated per sample (PPO's {@code responseLength}); k ≤ T − 1
     */
    public DatasetReset(double betaMix, int responseLength) {
        if (!(betaMix >= 0 && betaMix <= 1)) {
            throw new IllegalArgumentException("betaMix (β_mix) must be in [0, 1], got " + betaMix);
        }
        if (responseLength < 1) {
            throw new IllegalArgumentException("responseLength must be >= 1, got " + responseLength);
        }
        this.betaMix = betaMix;
        this.maxPrefix = responseLength - 1;
    }

    /**
     * Returns β_mix.
     *
     * @return the reset probability
     */
    public double betaMix() {
        return betaMix;
    }

    /**
     * Returns the largest prefix this strategy forces for a reference of {@code referenceLength} tokens.
     *
     * @param referenceLength L, EOS included
     * @return K = min(L − 1, T − 1), or 0 when no reset is possible
     */
    public int maxPrefixLength(int referenceLength) {
        return Math.max(0, Math.min(referenceLength - 1, maxPrefix));
    }

    /**
     * Returns the forced prefix of one sample: the first k reference tokens with probability β_mix, else empty.
     *
     * @param prompt the sample's prompt row; its reference (may be null: no reset) is the reset response
     * @param rng the sample's reset stream
     * @return the prefix (a copy; empty for no reset)
     */
    @Override
    public int[] prefix(Encoded.PromptOnly prompt, SplittableRandom rng) {
        if (betaMix == 0) {
            return NONE;
        }
        if (betaMix < 1 && !(rng.nextDouble() < betaMix)) {
            return NONE;
        }
        int[] ref = prompt.reference();
        int kMax = ref == null ? 0 : maxPrefixLength(ref.length);
        if (kMax < 1) {
            return NONE;
        }
        int k = 1 + rng.nextInt(kMax);
        return Arrays.copyOf(ref, k);
    }

    @Override
    public String toString() {
        return "DatasetReset[betaMix=" + betaMix + ", maxPrefix=" + maxPrefix + "]";
    }
}
