package org.rlhf4j.algorithms.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * The DPO losses as pure tensor functions of summed response log-probabilities.
 *
 * <p>Notation (TRL {@code dpo_trainer.py}, {@code dpo_loss}): for a pair (x, y_w, y_l) with the chosen response y_w
 * and the rejected response y_l, and log π(y|x) = Σ_j log π(y_j | x, y_&lt;j) summed over the real response tokens,
 *
 * <pre>
 *   u   = (log π_θ(y_w|x) − log π_ref(y_w|x)) − (log π_θ(y_l|x) − log π_ref(y_l|x))   (TRL: logits)
 *   h   = β·u                                                                         (the implicit reward margin)
 *   r_w = β·(log π_θ(y_w|x) − log π_ref(y_w|x)),  r_l = β·(log π_θ(y_l|x) − log π_ref(y_l|x)),  h = r_w − r_l
 * </pre>
 *
 * Every function here is autograd-safe: scalars go through {@link TensorOps} (never DJL's {@code op(Number)}, see
 * docs/decisions/0004 rule 8), and log σ is computed as −softplus(−x) with PyTorch's {@code softplus}, which is exact
 * for large |x| (no log(0), no overflow).
 */
public final class DpoLosses {

    private DpoLosses() {}

    /**
     * Stable log-sigmoid: log σ(x) = −log(1 + e^{−x}) = −softplus(−x), with PyTorch's softplus (β = 1, linear
     * above 20), so log σ(−100) = −100 and log σ(100) = −3.7e-44 instead of log(0) or an overflow. d/dx log σ(x) = σ(−x).
     *
     * @param x any array
     * @return log σ(x), same shape
     */
    public static NDArray logSigmoid(NDArray x) {
        return Activation.softPlus(x.neg()).neg();
    }

    /**
     * The log-ratio difference u = (log π_θ(y_w) − log π_ref(y_w)) − (log π_θ(y_l) − log π_ref(y_l)); TRL's
     * {@code logits = pi_logratios − ref_logratios}. The implicit reward margin is h = β·u.
     *
     * @param policyChosen {@code [B]} log π_θ(y_w|x)
     * @param policyRejected {@code [B]} log π_θ(y_l|x)
     * @param refChosen {@code [B]} log π_ref(y_w|x)
     * @param refRejected {@code [B]} log π_ref(y_l|x)
     * @return {@code [B]} u
     */
    public static NDArray logRatioDifference(
            NDArray policyChosen, NDArray policyRejected, NDArray refChosen, NDArray refRejected) {
        return policyChosen.sub(refChosen).sub(policyRejected.sub(refRejected));
    }

    /**
     * Implicit rewards r = β·(log π_θ(y|x) − log π_ref(y|x)) (Rafailov et al. 2023, §5: the reward that the policy
     * is optimal for, up to a function of x); TRL {@code chosen_rewards}/{@code rejected_rewards}.
     *
     * @param policy {@code [B]} log π_θ(y|x)
     * @param reference {@code [B]} log π_ref(y|x)
     * @param beta β
     * @return {@code [B]} r
     */
    public static NDArray implicitRewards(NDArray policy, NDArray reference, double beta) {
        checkBeta(beta);
        return TensorOps.mul(policy.sub(reference), beta);
    }

    /**
     * Per-pair losses of a variant, from summed log-probabilities.
     *
     * @param type the variant
     * @param policyChosen {@code [B]} log π_θ(y_w|x)
     * @param policyRejected {@code [B]} log π_θ(y_l|x)
     * @param refChosen {@code [B]} log π_ref(y_w|x)
     * @param refRejected {@code [B]} log π_ref(y_l|x)
     * @param beta β &gt; 0
     * @param labelSmoothing ε in [0, 0.5) (SIGMOID and ROBUST; must be 0 for IPO and HINGE)
     * @return {@code [B]} losses
     */
    public static NDArray losses(DpoLossType type, NDArray policyChosen, NDArray policyRejected, NDArray refChosen,
            NDArray refRejected, double beta, double labelSmoothing) {
        return losses(type, logRatioDifference(policyChosen, policyRejected, refChosen, refRejected), beta,
                labelSmoothing);
    }

    /**
     * Per-pair losses of a variant as functions of the log-ratio difference u (h = β·u):
     *
     * <ul>
     *   <li>{@link DpoLossType#SIGMOID}: ℓ = −(1−ε)·log σ(h) − ε·log σ(−h). ε = 0 is DPO (Rafailov et al. 2023,
     *       eq. 7); ε &gt; 0 is conservative DPO, a Bradley–Terry loss against labels flipped with probability ε
     *       (Mitchell 2023, "A note on DPO with noisy preferences", eq. 3). TRL {@code sigmoid}.
     *       ∂ℓ/∂h = −(1−ε)·σ(−h) + ε·σ(h).
     *   <li>{@link DpoLossType#IPO}: ℓ = (u − 1/(2β))² = (h/β − 1/(2β))² (Azar et al. 2023, "A General Theoretical
     *       Paradigm to Understand Learning from Human Preferences", eq. 17 with τ = β). TRL {@code ipo}:
     *       {@code (logits - 1/(2*beta))**2}, u not multiplied by β. ∂ℓ/∂u = 2(u − 1/(2β)).
     *   <li>{@link DpoLossType#HINGE}: ℓ = max(0, 1 − h) (the calibration loss of SLiC-HF, Zhao et al. 2023, on
     *       the implicit reward margin: δ = 1 in h, i.e. 1/β in u). TRL {@code hinge}:
     *       {@code relu(1 - beta*logits)}. ∂ℓ/∂h = −1 when h &lt; 1, else 0.
     *   <li>{@link DpoLossType#ROBUST}: ℓ = [−(1−ε)·log σ(h) + ε·log σ(−h)] / (1 − 2ε) (Chowdhury et al. 2024,
     *       "Provably Robust DPO: Aligning Language Models with Noisy Feedback": an unbiased estimate of the clean
     *       loss when labels flip with rate ε).
     *       TRL {@code robust}. ∂ℓ/∂h = −[(1−ε)·σ(−h) + ε·σ(h)] / (1 − 2ε) &lt; 0 for every h. ε = 0 gives
     *       DPO.
     * </ul>
     *
     * @param type the variant
     * @param u {@code [B]} log-ratio differences ({@link #logRatioDifference})
     * @param beta β &gt; 0
     * @param labelSmoothing ε in [0, 0.5) (SIGMOID and ROBUST; must be 0 for IPO and HINGE, which have no smoothed
     *     form)
     * @return {@code [B]} losses
     */
    public static NDArray losses(DpoLossType type, NDArray u, double beta, double labelSmoothing) {
        checkBeta(beta);
        checkSmoothing(type, labelSmoothing);
        double eps = labelSmoothing;
        NDArray h = TensorOps.mul(u, beta);
        return switch (type) {
            case SIGMOID -> {
                // −(1−ε) log σ(h) − ε log σ(−h) = (1−ε) softplus(−h) + ε softplus(h)
                NDArray clean = Activation.softPlus(h.neg());
                yield eps == 0 ? clean
                        : TensorOps.mul(clean, 1 - eps).add(TensorOps.mul(Activation.softPlus(h), eps));
            }
            case IPO -> {
                NDArray d = TensorOps.sub(u, 1.0 / (2.0 * beta));
                yield d.mul(d);
            }
            case HINGE -> Activation.relu(TensorOps.add(h.neg(), 1.0));
            case ROBUST -> {
                // [−(1−ε) log σ(h) + ε log σ(−h)] / (1−2ε) = [(1−ε) softplus(−h) − ε softplus(h)] / (1−2ε)
                NDArray clean = Activation.softPlus(h.neg());
                yield eps == 0 ? clean
                        : TensorOps.div(TensorOps.mul(clean, 1 - eps).sub(TensorOps.mul(Activation.softPlus(h), eps)),
                                1 - 2 * eps);
            }
        };
    }

    /**
     * Checks a loss variant's label smoothing (used by {@link DpoConfig} too).
     *
     * @param type the variant
     * @param labelSmoothing ε
     * @throws IllegalArgumentException when ε is outside [0, 0.5), or non-zero for IPO or HINGE
     */
    static void checkSmoothing(DpoLossType type, double labelSmoothing) {
        if (type == null) {
            throw new IllegalArgumentException("lossType must not be null");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 0.5), got " + labelSmoothing);
        }
        if (labelSmoothing != 0 && (type == DpoLossType.IPO || type == DpoLossType.HINGE)) {
            throw new IllegalArgumentException("labelSmoothing " + labelSmoothing + " has no meaning for loss type "
                    + type + " (only SIGMOID and ROBUST use it); set it to 0");
        }
    }

    private static void checkBeta(double beta) {
        if (!(beta > 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("beta must be > 0 and finite, got " + beta);
        }
    }
}
