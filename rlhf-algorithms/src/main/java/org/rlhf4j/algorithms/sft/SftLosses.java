package org.rlhf4j.algorithms.sft;

import ai.djl.ndarray.NDArray;
import org.rlhf4j.core.tensor.TensorOps;

/** The SFT loss as pure tensor functions. */
public final class SftLosses {

    private SftLosses() {}

    /**
     * Summed negative log-likelihood of the real response tokens: −Σ_{b,j} m_{b,j} · log π(y_{b,j} | x_b, y_{b,&lt;j}).
     * The batch loss is this sum divided by the number of real response tokens of the whole batch (over all
     * micro-batches), so accumulating micro-batches gives exactly the full-batch gradient (unlike a per-micro-batch
     * token mean).
     *
     * @param logprobs {@code [B, T_r]} response token log-probabilities
     * @param responseMask {@code [B, T_r]} 1 for real response tokens (query and padding are never in it)
     * @return scalar NLL sum
     */
    public static NDArray nllSum(NDArray logprobs, NDArray responseMask) {
        return TensorOps.maskedSum(logprobs, responseMask).neg();
    }
}
