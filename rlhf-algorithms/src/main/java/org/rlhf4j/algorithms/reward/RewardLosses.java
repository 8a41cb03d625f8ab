package org.rlhf4j.algorithms.reward;

import ai.djl.ndarray.NDArray;
import org.rlhf4j.core.tensor.TensorOps;

/** Reward-model losses as pure tensor functions. */
public final class RewardLosses {

    private RewardLosses() {}

    /**
     * Numerically stable log σ(x) = min(x, 0) − log(1 + e^{−|x|}).
     *
     * @param x input
     * @return log-sigmoid, same shape
     */
    public static NDArray logSigmoid(NDArray x) {
        return TensorOps.minimum(x, 0).sub(TensorOps.add(x.abs().neg().exp(), 1).log());
    }

    /**
     * Summed Bradley–Terry loss, Σ_i −log σ(r_w,i − r_l,i − m_i) (Stiennon et al. 2020 eq. 1; TRL's
     * {@code RewardTrainer} with a {@code margin} column). Divide by the batch size for the mean.
     *
     * @param chosen r_w, {@code [B]}
     * @param rejected r_l, {@code [B]}
     * @param margin m, {@code [B]}, or null for no margin
     * @return scalar sum
     */
    public static NDArray bradleyTerrySum(NDArray chosen, NDArray rejected, NDArray margin) {
        NDArray diff = chosen.sub(rejected);
        if (margin != null) {
            diff = diff.sub(margin);
        }
        return logSigmoid(diff).sum().neg();
    }

    /**
     * Summed reward-centering penalty Σ_i (r_w,i + r_l,i)² (TRL {@code center_rewards_coefficient}, which multiplies
     * its mean); it keeps rewards near zero without changing their differences.
     *
     * @param chosen r_w
     * @param rejected r_l
     * @return scalar sum
     */
    public static NDArray centeringSum(NDArray chosen, NDArray rejected) {
        NDArray s = chosen.add(rejected);
        return s.mul(s).sum();
    }
}
