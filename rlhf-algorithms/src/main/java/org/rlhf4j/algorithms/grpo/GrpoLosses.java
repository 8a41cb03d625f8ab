package org.rlhf4j.algorithms.grpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * GRPO's advantages and loss as pure functions, with the semantics of TRL's {@code GRPOTrainer} (trl 1.13.0,
 * {@code _generate_and_score_completions} and {@code _compute_loss}, token-level importance sampling, one reward
 * function or weighted rewards already summed).
 *
 * <p>Notation: B completions laid out as {@code B/G} prompts × G generations (the G completions of a prompt are
 * consecutive), completion length T, mask m_{i,t} (1 for real completion tokens that get a gradient).
 *
 * <p>Advantages (one per completion): A_i = (r_i − mean_{group(i)} r) / (σ + 10⁻⁴), σ the <em>unbiased</em> std of
 * the group ({@link ScaleRewards#GROUP}) or of the whole batch ({@link ScaleRewards#BATCH}, the mean is still the
 * group's); with {@link ScaleRewards#NONE} A_i = r_i − mean_{group(i)} r.
 *
 * <p>Loss: ρ_{i,t} = exp(log π_θ(y_{i,t}) − log π_old(y_{i,t})), with π_old = π_θ detached when the caller passes no
 * old log-probs (μ = 1: ρ = 1 in value, ∇ρ = ρ ∇log π_θ);
 * ℓ_{i,t} = −min(ρ A_i, clip(ρ, 1 − ε_low, 1 + ε_high) A_i) + β · k3_{i,t} · ρ_{i,t},
 * k3 = exp(log π_ref − log π_θ) − (log π_ref − log π_θ) − 1 (Schulman's estimator, ≥ 0), the ρ factor being TRL's
 * {@code use_bias_correction_kl} (default on); then aggregated per {@link GrpoLossType}, and optionally minus an
 * entropy bonus c · Σ m H / max(Σ m, 1).
 *
 * <p>Gradient accumulation: TRL divides the grpo, bnpo and dr_grpo losses by the number of accumulation steps; these
 * functions return the loss of one micro-batch without that division (the trainer divides; TRL divides the entropy
 * bonus by it too). For dapo TRL divides by
 * N = (active tokens of the whole generation batch over all processes) / processes × accumulation steps /
 * steps_per_generation, which with the defaults (steps_per_generation = accumulation steps) is the active-token count
 * of the whole accumulation window on one process: pass it as {@code dapoNormalizer}; the overload without it uses
 * max(Σ m, 1), which is what one process with one micro-batch per generation gets.
 */
public final class GrpoLosses {

    /** TRL's floor added to the std before dividing: {@code advantages / (std_rewards + 1e-4)}. */
    public static final double STD_EPS = 1e-4;

    private GrpoLosses() {}

    /**
     * Loss settings (TRL's GRPOConfig fields of the same meaning).
     *
     * @param lossType {@code loss_type}
     * @param epsilon ε_low ({@code epsilon})
     * @param epsilonHigh ε_high ({@code epsilon_high}; TRL uses ε_low when unset)
     * @param beta KL coefficient β ({@code beta}; 0 = no reference model)
     * @param biasCorrectionKl multiply the k3 term by ρ ({@code use_bias_correction_kl})
     * @param maxCompletionLength the dr_grpo constant ({@code max_completion_length})
     * @param entropyCoef entropy bonus coefficient ({@code entropy_coef}, static control only)
     */
    public record Config(GrpoLossType lossType, double epsilon, double epsilonHigh, double beta,
            boolean biasCorrectionKl, int maxCompletionLength, double entropyCoef) {

        /**
         * Validates the settings.
         *
         * @param lossType {@code loss_type}
         * @param epsilon ε_low
         * @param epsilonHigh ε_high
         * @param beta β
         * @param biasCorrectionKl multiply the k3 term by ρ
         * @param maxCompletionLength the dr_grpo constant
         * @param entropyCoef entropy bonus coefficient
         * @throws IllegalArgumentException on a null loss type, negative ε or β, or a non-positive length
         */
        public Config {
            if (lossType == null) {
                throw new IllegalArgumentException("lossType is required");
            }
            if (!(epsilon >= 0) || !(epsilonHigh >= 0)) {
                throw new IllegalArgumentException("epsilon and epsilonHigh must be >= 0, got " + epsilon + ", "
                        + epsilonHigh);
            }
            if (!(beta >= 0)) {
                throw new IllegalArgumentException("beta must be >= 0, got " + beta);
            }
            if (maxCompletionLength <= 0) {
                throw new IllegalArgumentException("maxCompletionLength must be > 0, got " + maxCompletionLength);
            }
        }

        /**
         * TRL 1.13.0's defaults: dapo, ε = 0.2 both sides, β = 0, bias-corrected KL, max_completion_length 512, no
         * entropy bonus.
         *
         * @return the defaults
         */
        public static Config trlDefaults() {
            return new Config(GrpoLossType.DAPO, 0.2, 0.2, 0.0, true, 512, 0.0);
        }

        /**
         * Returns a copy with another loss type.
         *
         * @param type the loss type
         * @return the copy
         */
        public Config withLossType(GrpoLossType type) {
            return new Config(type, epsilon, epsilonHigh, beta, biasCorrectionKl, maxCompletionLength, entropyCoef);
        }

        /**
         * Returns a copy with other clip bounds.
         *
         * @param low ε_low
         * @param high ε_high
         * @return the copy
         */
        public Config withEpsilon(double low, double high) {
            return new Config(lossType, low, high, beta, biasCorrectionKl, maxCompletionLength, entropyCoef);
        }

        /**
         * Returns a copy with another KL coefficient.
         *
         * @param b β
         * @return the copy
         */
        public Config withBeta(double b) {
            return new Config(lossType, epsilon, epsilonHigh, b, biasCorrectionKl, maxCompletionLength, entropyCoef);
        }
    }

    /**
     * Advantages and the logged share of completions whose reward std is zero.
     *
     * @param advantages {@code [B]} A_i (0 for a completion whose reward is NaN, i.e. unscorable)
     * @param fracRewardZeroStd share of completions whose σ is 0 (TRL's {@code frac_reward_zero_std}; with
     *     {@link ScaleRewards#NONE} the group σ)
     */
    public record GroupAdvantages(double[] advantages, double fracRewardZeroStd) {}

    /**
     * Group-normalised advantages (TRL, {@code multi_objective_aggregation = "sum_then_normalize"}):
     * A_i = (r_i − mean_{group(i)} r) / (σ + 10⁻⁴) with σ the unbiased std per {@code scale}; NaN rewards
     * (unscorable completions) are left out of means and stds and get A = 0.
     *
     * @param rewards {@code [B]} rewards, prompt-major: completions {@code g·G .. g·G + G − 1} share prompt g
     * @param numGenerations G
     * @param scale the std used
     * @return the advantages and the zero-std share
     * @throws IllegalArgumentException when B is not a positive multiple of G
     */
    public static GroupAdvantages advantages(double[] rewards, int numGenerations, ScaleRewards scale) {
        int n = rewards.length;
        int g = numGenerations;
        if (g <= 0 || n == 0 || n % g != 0) {
            throw new IllegalArgumentException(
                    "rewards length " + n + " must be a positive multiple of numGenerations " + g);
        }
        double[] std = new double[n];
        double[] mean = new double[n];
        double batchStd = n > 1 ? nanStd(rewards, 0, n) : 0.0; // TRL: zeros when numel == 1
        for (int start = 0; start < n; start += g) {
            double m = nanMean(rewards, start, start + g);
            // TRL: group (and none, for logging) std is nanstd over the group, zeros when G == 1
            double s = scale == ScaleRewards.BATCH ? batchStd : (g > 1 ? nanStd(rewards, start, start + g) : 0.0);
            for (int i = start; i < start + g; i++) {
                mean[i] = m;
                std[i] = s;
            }
        }
        double[] adv = new double[n];
        int zero = 0;
        for (int i = 0; i < n; i++) {
            double a = rewards[i] - mean[i];
            if (scale != ScaleRewards.NONE) {
                a = a / (std[i] + STD_EPS);
            }
            adv[i] = Double.isNaN(a) ? 0.0 : a; // TRL: torch.nan_to_num(advantages, nan=0.0)
            if (Math.abs(std[i]) <= 1e-8) { // TRL: torch.isclose(std, 0) (atol 1e-8); NaN is not close
                zero++;
            }
        }
        return new GroupAdvantages(adv, (double) zero / n);
    }

    /**
     * Which completions are truncated (TRL's {@code mask_truncated_completions}): the last id is neither EOS nor
     * padding, i.e. generation hit {@code max_completion_length} before EOS.
     *
     * @param completionIds {@code [B][T]} completion ids, right-padded
     * @param eosId EOS id
     * @param padId padding id
     * @return {@code [B]} truncated flags
     */
    public static boolean[] truncated(int[][] completionIds, int eosId, int padId) {
        boolean[] t = new boolean[completionIds.length];
        for (int b = 0; b < t.length; b++) {
            int[] ids = completionIds[b];
            int last = ids[ids.length - 1];
            t[b] = last != eosId && last != padId;
        }
        return t;
    }

    /**
     * Zeroes the mask rows of truncated completions (TRL: {@code completion_mask * (~is_truncated)}), so they enter
     * neither the loss nor its token counts (dapo's N included) nor the metrics; their advantages still come from
     * their rewards.
     *
     * @param completionMask {@code [B, T]} 0/1
     * @param truncated {@code [B]} flags
     * @return the new mask, same data type
     */
    public static NDArray maskTruncated(NDArray completionMask, boolean[] truncated) {
        float[] keep = new float[truncated.length];
        for (int b = 0; b < keep.length; b++) {
            keep[b] = truncated[b] ? 0f : 1f;
        }
        NDArray k = completionMask.getManager().create(keep, new Shape(keep.length, 1))
                .toType(completionMask.getDataType(), false);
        return completionMask.mul(k);
    }

    /**
     * The metrics TRL logs from {@code _compute_loss}, token-weighted over the masked tokens.
     *
     * @param kl masked mean of β's per-token term k3·ρ (k3 without ρ when bias correction is off); NaN when β = 0
     *     (TRL logs no {@code kl} then)
     * @param entropy masked mean of the given per-token entropies; NaN when none were given
     * @param clipLowMean share of tokens with ρ &lt; 1 − ε_low and A &lt; 0 ({@code clip_ratio/low_mean})
     * @param clipLowMin the least per-sequence share of those ({@code clip_ratio/low_min}; sequences with no active
     *     token are skipped, NaN when all are)
     * @param clipHighMean share of tokens with ρ &gt; 1 + ε_high and A &gt; 0 ({@code clip_ratio/high_mean})
     * @param clipHighMax the largest per-sequence share of those ({@code clip_ratio/high_max})
     * @param clipRegionMean share of tokens in either ({@code clip_ratio/region_mean})
     */
    public record Metrics(double kl, double entropy, double clipLowMean, double clipLowMin, double clipHighMean,
            double clipHighMax, double clipRegionMean) {}

    /**
     * The loss and its metrics.
     *
     * @param loss the scalar loss (with gradient)
     * @param metrics the logged metrics
     */
    public record Terms(NDArray loss, Metrics metrics) {}

    /**
     * GRPO's loss with dapo's normaliser N = max(Σ m, 1) (one process, one micro-batch per generation batch).
     *
     * @param logp {@code [B, T]} log π_θ of the completion tokens (with gradient)
     * @param oldLogp {@code [B, T]} log π_old from generation time, or null for μ = 1 (π_θ detached)
     * @param refLogp {@code [B, T]} log π_ref, or null when β = 0
     * @param advantages {@code [B]} (or {@code [B, T]}) advantages
     * @param mask {@code [B, T]} 0/1 completion mask (after {@link #maskTruncated})
     * @param entropies {@code [B, T]} per-token entropies of π_θ for the metric and the bonus, or null
     * @param config settings
     * @return the loss and metrics
     */
    public static Terms loss(NDArray logp, NDArray oldLogp, NDArray refLogp, NDArray advantages, NDArray mask,
            NDArray entropies, Config config) {
        return loss(logp, oldLogp, refLogp, advantages, mask, entropies, config, Double.NaN);
    }

    /**
     * GRPO's loss (see the class comment for the formula).
     *
     * @param logp {@code [B, T]} log π_θ of the completion tokens (with gradient)
     * @param oldLogp {@code [B, T]} log π_old from generation time, or null for μ = 1 (π_θ detached)
     * @param refLogp {@code [B, T]} log π_ref, or null when β = 0
     * @param advantages {@code [B]} (or {@code [B, T]}) advantages
     * @param mask {@code [B, T]} 0/1 completion mask (after {@link #maskTruncated})
     * @param entropies {@code [B, T]} per-token entropies of π_θ for the metric and the bonus, or null
     * @param config settings
     * @param dapoNormalizer dapo's N (see the class comment); NaN for max(Σ m, 1); ignored by other loss types
     * @return the loss and metrics
     * @throws IllegalArgumentException when β &gt; 0 without reference log-probs, or an entropy bonus without
     *     entropies
     */
    public static Terms loss(NDArray logp, NDArray oldLogp, NDArray refLogp, NDArray advantages, NDArray mask,
            NDArray entropies, Config config, double dapoNormalizer) {
        if (config.beta() != 0 && refLogp == null) {
            throw new IllegalArgumentException("beta = " + config.beta() + " needs reference log-probs");
        }
        if (config.entropyCoef() != 0 && entropies == null) {
            throw new IllegalArgumentException("entropyCoef = " + config.entropyCoef() + " needs entropies");
        }
        Shape shape = logp.getShape();
        long batch = shape.get(0);
        // TRL: old_per_token_logps = per_token_logps.detach() when none was computed (μ = 1)
        NDArray old = oldLogp == null ? logp.stopGradient() : oldLogp;
        NDArray adv = advantages.toType(logp.getDataType(), false);
        if (adv.getShape().dimension() == 1) {
            adv = adv.reshape(batch, 1).broadcast(shape); // TRL: advantages.unsqueeze(1)
        }
        NDArray ratio = logp.sub(old).exp(); // TRL: coef_1
        NDArray clipped = ratio.clip(1 - config.epsilon(), 1 + config.epsilonHigh()); // TRL: coef_2
        NDArray perToken = ratio.mul(adv).minimum(clipped.mul(adv)).neg();
        NDArray kl = null;
        if (config.beta() != 0) {
            NDArray d = refLogp.sub(logp);
            kl = TensorOps.sub(d.exp().sub(d), 1); // TRL: exp(ref − logp) − (ref − logp) − 1
            if (config.biasCorrectionKl()) {
                kl = kl.mul(ratio); // TRL: per_token_kl * coef_1 (use_bias_correction_kl, default True)
            }
            perToken = perToken.add(TensorOps.mul(kl, config.beta()));
        }
        NDArray m = mask.toType(logp.getDataType(), false);
        NDArray maskedSum = TensorOps.maskedSum(perToken, mask);
        NDArray loss = switch (config.lossType()) {
            // TRL: ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
            case GRPO -> TensorOps.where(mask, perToken).sum(new int[] {1})
                    .div(TensorOps.maximum(m.sum(new int[] {1}), 1.0)).mean();
            // TRL: (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
            case BNPO -> maskedSum.div(TensorOps.maximum(m.sum(), 1.0));
            // TRL: (per_token_loss * mask).sum() / (per_token_loss.size(0) * self.max_completion_length)
            case DR_GRPO -> TensorOps.div(maskedSum, (double) batch * config.maxCompletionLength());
            // TRL: (per_token_loss * mask).sum() / (num_items_in_batch.clamp(min=1) / processes · GA / spg)
            case DAPO -> Double.isNaN(dapoNormalizer)
                    ? maskedSum.div(TensorOps.maximum(m.sum(), 1.0))
                    : TensorOps.div(maskedSum, dapoNormalizer);
        };
        if (config.entropyCoef() != 0) {
            // TRL: loss − coef · (entropies * mask).sum() / mask.sum().clamp(min=1) (before the GA division)
            NDArray h = TensorOps.maskedSum(entropies, mask).div(TensorOps.maximum(m.sum(), 1.0));
            loss = loss.sub(TensorOps.mul(h, config.entropyCoef()));
        }
        Metrics metrics = metrics(ratio, adv, mask, kl, entropies, config);
        return new Terms(loss, metrics);
    }

    private static Metrics metrics(NDArray ratio, NDArray adv, NDArray mask, NDArray kl, NDArray entropies,
            Config config) {
        int batch = (int) ratio.getShape().get(0);
        int len = (int) ratio.getShape().get(1);
        float[] r = ratio.stopGradient().toType(DataType.FLOAT32, false).toFloatArray();
        float[] a = adv.toType(DataType.FLOAT32, false).toFloatArray();
        float[] mk = mask.toType(DataType.FLOAT32, false).toFloatArray();
        float[] k = kl == null ? null : kl.stopGradient().toType(DataType.FLOAT32, false).toFloatArray();
        float[] h = entropies == null ? null : entropies.stopGradient().toType(DataType.FLOAT32, false).toFloatArray();
        // TRL compares float32 ratios with the bounds cast to float32
        float lowBound = (float) (1 - config.epsilon());
        float highBound = (float) (1 + config.epsilonHigh());
        double count = 0;
        double low = 0;
        double high = 0;
        double region = 0;
        double klSum = 0;
        double hSum = 0;
        double lowMin = Double.NaN;
        double highMax = Double.NaN;
        for (int b = 0; b < batch; b++) {
            double seqCount = 0;
            double seqLow = 0;
            double seqHigh = 0;
            for (int t = 0; t < len; t++) {
                int i = b * len + t;
                if (mk[i] == 0f) {
                    continue;
                }
                boolean isLow = r[i] < lowBound && a[i] < 0;
                boolean isHigh = r[i] > highBound && a[i] > 0;
                seqCount += mk[i];
                seqLow += isLow ? mk[i] : 0;
                seqHigh += isHigh ? mk[i] : 0;
                region += (isLow || isHigh) ? mk[i] : 0;
                klSum += k == null ? 0 : k[i] * mk[i];
                hSum += h == null ? 0 : h[i] * mk[i];
            }
            count += seqCount;
            low += seqLow;
            high += seqHigh;
            if (seqCount > 0) { // TRL: masked_seq_mean is NaN for an empty row; nanmin/nanmax skip it
                lowMin = Double.isNaN(lowMin) ? seqLow / seqCount : Math.min(lowMin, seqLow / seqCount);
                highMax = Double.isNaN(highMax) ? seqHigh / seqCount : Math.max(highMax, seqHigh / seqCount);
            }
        }
        double denom = Math.max(count, 1.0); // TRL: global_masked_mean clamps the count at 1
        return new Metrics(k == null ? Double.NaN : klSum / denom, h == null ? Double.NaN : hSum / denom,
                low / denom, lowMin, high / denom, highMax, region / denom);
    }

    static double nanMean(double[] x, int from, int to) {
        double s = 0;
        int c = 0;
        for (int i = from; i < to; i++) {
            if (!Double.isNaN(x[i])) {
                s += x[i];
                c++;
            }
        }
        return c == 0 ? Double.NaN : s / c;
    }

    /** TRL's {@code nanstd}: the Bessel-corrected std of the non-NaN values; NaN with fewer than two. */
    static double nanStd(double[] x, int from, int to) {
        double mean = nanMean(x, from, to);
        double s = 0;
        int c = 0;
        for (int i = from; i < to; i++) {
            if (!Double.isNaN(x[i])) {
                double d = x[i] - mean;
                s += d * d;
                c++;
            }
        }
        return c > 1 ? Math.sqrt(s / c * c / (c - 1)) : Double.NaN;
    }
}
