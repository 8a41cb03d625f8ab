package org.rlhf4j.algorithms.rloo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * RLOO's rewards, advantages and loss as pure functions, with the semantics of TRL's {@code RLOOTrainer} (trl 1.13.0,
 * {@code _generate_and_score_completions} and {@code _compute_loss}).
 *
 * <p>Notation: B completions laid out as {@code B/k} prompts × k generations (consecutive), mask m_{i,t},
 * sequence log-probability log π(y_i) = Σ_t m_{i,t} log π(y_{i,t}).
 *
 * <p>Rewards: r_i ← clip(r_i, lo, hi) when a clip range is set, then r_i ← r_i − β · KL_i with the sequence KL
 * KL_i = Σ_t m_{i,t} (log π_old(y_{i,t}) − log π_ref(y_{i,t})) (k1, summed; π_old the policy at generation time).
 * TRL's default is this KL-in-the-reward form with β = 0.05; there is no KL loss term.
 *
 * <p>Advantages: A_i = r_i − (1/(k−1)) Σ_{j≠i, same prompt} r_j (leave-one-out), optionally whitened over the whole
 * batch: (A − mean A) / (std A + 10⁻⁴), std unbiased.
 *
 * <p>Loss (sequence-level): ρ_i = exp(log π_θ(y_i) − log π_old(y_i)),
 * L = (1/B) Σ_i −min(ρ_i A_i, clip(ρ_i, 1 − ε_low, 1 + ε_high) A_i). TRL returns this unscaled and lets the HF
 * Trainer divide by the accumulation steps.
 *
 * <p>{@code mask_truncated_completions} is the same as GRPO's: zero the mask rows with
 * {@link org.rlhf4j.algorithms.grpo.GrpoLosses#truncated} and
 * {@link org.rlhf4j.algorithms.grpo.GrpoLosses#maskTruncated} before computing log π_old(y_i), the KL and the loss
 * (a masked row then has ρ = 1 and no gradient, but still counts in the mean over B).
 */
public final class RlooLosses {

    /** TRL's floor added to the std when normalising advantages. */
    public static final double STD_EPS = 1e-4;

    private RlooLosses() {}

    /**
     * Per-sequence KL Σ_t m (log π_old − log π_ref) (TRL: {@code ((old_per_token_logps − ref_per_token_logps) *
     * completion_mask).sum(-1)}, the k1 estimator following the RLOO paper). Masked positions are skipped, whatever
     * they hold.
     *
     * @param oldLogp {@code [B][T]} log π at generation time
     * @param refLogp {@code [B][T]} log π_ref
     * @param mask {@code [B][T]} 1 for real completion tokens
     * @return {@code [B]} KL_i
     */
    public static double[] sequenceKl(float[][] oldLogp, float[][] refLogp, int[][] mask) {
        double[] kl = new double[oldLogp.length];
        for (int b = 0; b < kl.length; b++) {
            double s = 0;
            for (int t = 0; t < oldLogp[b].length; t++) {
                if (mask[b][t] != 0) {
                    s += (double) oldLogp[b][t] - refLogp[b][t];
                }
            }
            kl[b] = s;
        }
        return kl;
    }

    /**
     * The logged {@code kl}: Σ m (log π_old − log π_ref) / max(Σ m, 1), a per-token mean.
     *
     * @param oldLogp {@code [B][T]} log π at generation time
     * @param refLogp {@code [B][T]} log π_ref
     * @param mask {@code [B][T]} 1 for real completion tokens
     * @return the mean per-token KL
     */
    public static double meanTokenKl(float[][] oldLogp, float[][] refLogp, int[][] mask) {
        double s = 0;
        double n = 0;
        double[] kl = sequenceKl(oldLogp, refLogp, mask);
        for (int b = 0; b < kl.length; b++) {
            s += kl[b];
            for (int v : mask[b]) {
                n += v != 0 ? 1 : 0;
            }
        }
        return s / Math.max(n, 1);
    }

    /**
     * Rewards with the optional clip and the KL penalty: r_i ← clip(r_i, lo, hi) − β·KL_i (TRL clips first, then
     * subtracts the KL).
     *
     * @param rewards {@code [B]} reward-function outputs (weighted and summed)
     * @param sequenceKl {@code [B]} KL_i from {@link #sequenceKl}, or null when β = 0
     * @param beta β (TRL default 0.05)
     * @param clipRange {lo, hi} ({@code reward_clip_range}), or null
     * @return {@code [B]} the rewards the advantages are computed from
     */
    public static double[] penalisedRewards(double[] rewards, double[] sequenceKl, double beta, double[] clipRange) {
        double[] r = rewards.clone();
        for (int i = 0; i < r.length; i++) {
            if (clipRange != null) {
                r[i] = Math.min(Math.max(r[i], clipRange[0]), clipRange[1]); // TRL: rewards.clamp(min, max)
            }
            if (beta != 0) {
                r[i] -= beta * sequenceKl[i]; // TRL: rewards − beta · kl
            }
        }
        return r;
    }

    /**
     * Leave-one-out advantages A_i = r_i − mean_{j≠i} r_j within each prompt's k completions, then optionally
     * (A − mean A)/(std A + 10⁻⁴) over the batch (unbiased std). NaN rewards (unscorable) are left out of the
     * baselines and statistics and get A = 0; with k = 1 all advantages are 0.
     *
     * @param rewards {@code [B]} rewards (after {@link #penalisedRewards}), prompt-major
     * @param k completions per prompt
     * @param normalize TRL's {@code normalize_advantages} (default false)
     * @return {@code [B]} advantages
     * @throws IllegalArgumentException when B is not a positive multiple of k
     */
    public static double[] advantages(double[] rewards, int k, boolean normalize) {
        int n = rewards.length;
        if (k <= 0 || n == 0 || n % k != 0) {
            throw new IllegalArgumentException("rewards length " + n + " must be a positive multiple of k " + k);
        }
        double[] adv = new double[n];
        for (int start = 0; start < n; start += k) {
            double sum = 0;
            int count = 0;
            for (int i = start; i < start + k; i++) {
                if (!Double.isNaN(rewards[i])) {
                    sum += rewards[i];
                    count++;
                }
            }
            for (int i = start; i < start + k; i++) {
                // TRL: baselines = (grouped_sum − grouped_rewards) / (scorable_counts − 1); zeros when k == 1
                adv[i] = k > 1 ? rewards[i] - (sum - rewards[i]) / (count - 1) : 0.0;
            }
        }
        if (normalize) {
            double mean = nanMean(adv);
            double std = nanStd(adv, mean);
            for (int i = 0; i < n; i++) {
                adv[i] = (adv[i] - mean) / (std + STD_EPS);
            }
        }
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(adv[i])) {
                adv[i] = 0.0; // TRL: torch.nan_to_num(advantages, nan=0.0)
            }
        }
        return adv;
    }

    /**
     * Sequence log-probabilities Σ_t m log π(y_t) (masked positions never enter, even when NaN).
     *
     * @param perTokenLogp {@code [B, T]}
     * @param mask {@code [B, T]} 0/1
     * @return {@code [B]}
     */
    public static NDArray sequenceLogprobs(NDArray perTokenLogp, NDArray mask) {
        return TensorOps.where(mask, perTokenLogp).sum(new int[] {1});
    }

    /**
     * The metrics TRL logs from RLOO's {@code _compute_loss}; the clip shares are over sequences.
     *
     * @param entropy Σ m H / max(Σ m, 1) of the given entropies; NaN when none were given
     * @param clipLowMean share of sequences with ρ &lt; 1 − ε_low and A &lt; 0 ({@code clip_ratio/low_mean})
     * @param clipLowMin min over sequences of that flag ({@code clip_ratio/low_min})
     * @param clipHighMean share of sequences with ρ &gt; 1 + ε_high and A &gt; 0 ({@code clip_ratio/high_mean})
     * @param clipHighMax max over sequences of that flag ({@code clip_ratio/high_max})
     * @param clipRegionMean share in either ({@code clip_ratio/region_mean})
     */
    public record Metrics(double entropy, double clipLowMean, double clipLowMin, double clipHighMean,
            double clipHighMax, double clipRegionMean) {}

    /**
     * The loss and its metrics.
     *
     * @param loss the scalar loss (with gradient)
     * @param metrics the logged metrics
     */
    public record Terms(NDArray loss, Metrics metrics) {}

    /**
     * RLOO's clipped sequence-level policy loss (see the class comment).
     *
     * @param logp {@code [B, T]} log π_θ of the completion tokens (with gradient)
     * @param oldSequenceLogp {@code [B]} Σ_t m log π_old from generation time (TRL computes it in a separate no-grad
     *     forward even when μ = 1)
     * @param advantages {@code [B]} advantages
     * @param mask {@code [B, T]} 0/1 completion mask (truncated completions zeroed when masking them)
     * @param entropies {@code [B, T]} per-token entropies for the metric, or null
     * @param epsilon ε_low (TRL default 0.2)
     * @param epsilonHigh ε_high (TRL: ε_low when unset)
     * @return the loss and metrics
     */
    public static Terms loss(NDArray logp, NDArray oldSequenceLogp, NDArray advantages, NDArray mask,
            NDArray entropies, double epsilon, double epsilonHigh) {
        NDArray seq = sequenceLogprobs(logp, mask); // TRL: (per_token_logps * completion_mask).sum(1)
        NDArray adv = advantages.toType(logp.getDataType(), false);
        NDArray ratio = seq.sub(oldSequenceLogp.toType(logp.getDataType(), false)).exp(); // TRL: coef_1
        NDArray clipped = ratio.clip(1 - epsilon, 1 + epsilonHigh); // TRL: coef_2
        NDArray loss = ratio.mul(adv).minimum(clipped.mul(adv)).neg().mean(); // TRL: per_sequence_loss.mean()

        float[] r = ratio.stopGradient().toType(DataType.FLOAT32, false).toFloatArray();
        float[] a = adv.toType(DataType.FLOAT32, false).toFloatArray();
        float lowBound = (float) (1 - epsilon);
        float highBound = (float) (1 + epsilonHigh);
        double low = 0;
        double high = 0;
        double region = 0;
        double lowMin = Double.POSITIVE_INFINITY;
        double highMax = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < r.length; i++) {
            boolean isLow = r[i] < lowBound && a[i] < 0;
            boolean isHigh = r[i] > highBound && a[i] > 0;
            low += isLow ? 1 : 0;
            high += isHigh ? 1 : 0;
            region += isLow || isHigh ? 1 : 0;
            lowMin = Math.min(lowMin, isLow ? 1 : 0);
            highMax = Math.max(highMax, isHigh ? 1 : 0);
        }
        double entropy = Double.NaN;
        if (entropies != null) {
            NDArray m = mask.toType(DataType.FLOAT32, false);
            double hs = TensorOps.maskedSum(entropies.stopGradient().toType(DataType.FLOAT32, false), mask).getFloat();
            entropy = hs / Math.max(m.sum().getFloat(), 1.0);
        }
        int n = r.length;
        return new Terms(loss, new Metrics(entropy, low / n, lowMin, high / n, highMax, region / n));
    }

    private static double nanMean(double[] x) {
        double s = 0;
        int c = 0;
        for (double v : x) {
            if (!Double.isNaN(v)) {
                s += v;
                c++;
            }
        }
        return c == 0 ? Double.NaN : s / c;
    }

    private static double nanStd(double[] x, double mean) {
        double s = 0;
        int c = 0;
        for (double v : x) {
            if (!Double.isNaN(v)) {
                s += (v - mean) * (v - mean);
                c++;
            }
        }
        return c > 1 ? Math.sqrt(s / (c - 1)) : Double.NaN;
    }
}
