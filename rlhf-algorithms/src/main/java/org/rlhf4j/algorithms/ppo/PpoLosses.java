package org.rlhf4j.algorithms.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * PPO's per-token quantities and losses as pure functions. Rollout-time quantities (KL, rewards, GAE) work on Java
 * arrays {@code [B][T]} (no gradients flow through them); the losses work on tensors and return masked sums, which
 * the trainer divides by the token count of the whole minibatch.
 */
public final class PpoLosses {

    private PpoLosses() {}

    /**
     * One token's KL estimate from log π_θ(y_t) and log π_ref(y_t).
     *
     * @param logp log π_θ(y_t) (rollout policy)
     * @param refLogp log π_ref(y_t)
     * @param estimator k1 or k3
     * @return the estimate
     */
    public static double kl(double logp, double refLogp, KlEstimator estimator) {
        double logRatio = logp - refLogp;
        return switch (estimator) {
            case K1 -> logRatio;
            case K3 -> Math.expm1(-logRatio) + logRatio; // (ρ − 1) − log ρ with log ρ = −logRatio
        };
    }

    /**
     * Per-token rewards (N+ details, TRL): r_t = −β·kl_t on every real response token, plus the sequence score at the
     * last real token. Padding positions get 0.
     *
     * @param kl {@code [B][T]} per-token KL estimates
     * @param scores {@code [B]} sequence scores (after the missing-EOS rule)
     * @param mask {@code [B][T]} 1 for real response tokens
     * @param beta β
     * @return {@code [B][T]} rewards
     */
    public static float[][] rewards(float[][] kl, double[] scores, int[][] mask, double beta) {
        float[][] r = new float[kl.length][];
        for (int b = 0; b < kl.length; b++) {
            r[b] = new float[kl[b].length];
            int last = -1;
            for (int t = 0; t < kl[b].length; t++) {
                if (mask[b][t] == 1) {
                    r[b][t] = (float) (-beta * kl[b][t]);
                    last = t;
                }
            }
            if (last >= 0) {
                // differs from TRL: the score goes to the last real token; TRL adds it one position later (the
                // first padding position, sequence_length + 1, when the response is shorter than the window)
                r[b][last] += (float) scores[b];
            }
        }
        return r;
    }

    /**
     * Advantages and returns.
     *
     * @param advantages {@code [B][T]} A_t
     * @param returns {@code [B][T]} R_t = A_t + V_t
     */
    public record Advantages(float[][] advantages, float[][] returns) {}

    /**
     * Generalised advantage estimation (Schulman et al. 2016) over response positions:
     * δ_t = r_t + γ V_{t+1} − V_t, A_t = δ_t + γλ A_{t+1}, with V and r taken as 0 at padding and after the end, so
     * the last real token's advantage is r_T − V_T. Returns R_t = A_t + V_t (the value targets).
     *
     * @param rewards {@code [B][T]} per-token rewards (0 at padding)
     * @param values {@code [B][T]} rollout values
     * @param mask {@code [B][T]} 1 for real response tokens
     * @param gamma γ
     * @param lambda λ
     * @return advantages and returns (0 at padding)
     */
    public static Advantages gae(float[][] rewards, float[][] values, int[][] mask, double gamma, double lambda) {
        int batch = rewards.length;
        float[][] adv = new float[batch][];
        float[][] ret = new float[batch][];
        for (int b = 0; b < batch; b++) {
            int len = rewards[b].length;
            adv[b] = new float[len];
            ret[b] = new float[len];
            double next = 0;
            double lastGae = 0;
            for (int t = len - 1; t >= 0; t--) {
                double v = mask[b][t] == 1 ? values[b][t] : 0;
                double r = mask[b][t] == 1 ? rewards[b][t] : 0;
                double delta = r + gamma * next - v;
                lastGae = delta + gamma * lambda * lastGae;
                adv[b][t] = mask[b][t] == 1 ? (float) lastGae : 0f;
                ret[b][t] = mask[b][t] == 1 ? (float) (lastGae + v) : 0f;
                next = v;
            }
        }
        return new Advantages(adv, ret);
    }

    /**
     * Masked sums of the clipped policy loss and its diagnostics.
     *
     * @param loss Σ m·max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε))
     * @param clipFrac Σ m·[−A·clip(ρ, 1−ε, 1+ε) &gt; −A·ρ]: tokens where clipping binds, i.e. the clipped term is the
     *     one the loss takes (TRL's {@code pg_clipfrac}, {@code pg_losses2 > pg_losses})
     * @param ratioOutsideClip Σ m·[|ρ − 1| &gt; ε]: tokens whose ratio left the clip range, whether or not the clip
     *     bound the loss (it does not when A pushes ρ back towards 1, nor when A = 0)
     * @param approxKl Σ m·½(log π_new − log π_old)²
     * @param ratio Σ m·ρ
     */
    public record PolicyTerms(NDArray loss, NDArray clipFrac, NDArray ratioOutsideClip, NDArray approxKl,
            NDArray ratio) {}

    /**
     * The clipped surrogate (Schulman et al. 2017), summed over masked tokens: ρ = exp(log π_new − log π_old),
     * L = Σ_t m_t · max(−A_t ρ_t, −A_t clip(ρ_t, 1−ε, 1+ε)).
     *
     * @param newLogp {@code [B, T]} current log-probs (with gradient)
     * @param oldLogp {@code [B, T]} rollout log-probs
     * @param advantages {@code [B, T]} (whitened) advantages
     * @param mask {@code [B, T]} tokens that get a policy gradient
     * @param clip ε
     * @return the masked sums
     */
    public static PolicyTerms policy(NDArray newLogp, NDArray oldLogp, NDArray advantages, NDArray mask, double clip) {
        NDArray logRatio = newLogp.sub(oldLogp);
        NDArray ratio = logRatio.exp();
        NDArray unclipped = advantages.neg().mul(ratio); // TRL: pg_losses
        NDArray clipped = advantages.neg().mul(ratio.clip(1 - clip, 1 + clip)); // TRL: pg_losses2
        NDArray loss = unclipped.maximum(clipped);
        NDArray binds = clipped.gt(unclipped).toType(DataType.FLOAT32, false);
        NDArray outside = TensorOps.sub(ratio, 1).abs().gt(clip).toType(DataType.FLOAT32, false);
        NDArray approxKl = TensorOps.mul(logRatio.mul(logRatio), 0.5);
        return new PolicyTerms(TensorOps.maskedSum(loss, mask), TensorOps.maskedSum(binds, mask),
                TensorOps.maskedSum(outside, mask), TensorOps.maskedSum(approxKl, mask), TensorOps.maskedSum(ratio, mask));
    }

    /**
     * Masked sums of the clipped value loss and its clip fraction.
     *
     * @param loss Σ m·½·max((V − R)², (V_clip − R)²)
     * @param clipFrac Σ m·[(V_clip − R)² &gt; (V − R)²]: tokens where the clipped term is the one the loss takes
     *     (TRL's {@code vf_clipfrac}, {@code vf_losses2 > vf_losses1}), not tokens whose V left V_old ± ε_v
     */
    public record ValueTerms(NDArray loss, NDArray clipFrac) {}

    /**
     * The clipped value loss (TRL/N+ details): V_clip = V_old + clip(V − V_old, −ε_v, ε_v),
     * L_V = Σ_t m_t · ½ max((V_t − R_t)², (V_clip,t − R_t)²).
     *
     * @param values {@code [B, T]} current values (with gradient)
     * @param oldValues {@code [B, T]} rollout values
     * @param returns {@code [B, T]} targets R
     * @param mask {@code [B, T]} real response tokens
     * @param clip ε_v
     * @return the masked sums
     */
    public static ValueTerms value(NDArray values, NDArray oldValues, NDArray returns, NDArray mask, double clip) {
        NDArray vClipped = oldValues.add(values.sub(oldValues).clip(-clip, clip));
        NDArray l1 = values.sub(returns);
        NDArray l2 = vClipped.sub(returns);
        NDArray sq1 = l1.mul(l1);
        NDArray sq2 = l2.mul(l2);
        NDArray loss = TensorOps.mul(sq1.maximum(sq2), 0.5);
        NDArray frac = sq2.gt(sq1).toType(DataType.FLOAT32, false);
        return new ValueTerms(TensorOps.maskedSum(loss, mask), TensorOps.maskedSum(frac, mask));
    }
}
