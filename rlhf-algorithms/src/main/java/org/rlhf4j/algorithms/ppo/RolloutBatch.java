package org.rlhf4j.algorithms.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import org.rlhf4j.algorithms.common.ResponseBatch;

/**
 * One batch of rollouts held on the host, rows aligned with {@code batch}. {@link RolloutCollector} builds it once
 * per update (steps 1–3); every later step reads these arrays, and a micro-batch's tensors are row slices of them
 * ({@link #tensor(NDManager, float[][], int[])}), made in that micro-batch's manager. Per-token arrays are
 * {@code [B][T_r]} and 0 at padding.
 *
 * @param batch queries and responses as one padded token matrix
 * @param queries query ids (unpadded)
 * @param responses response ids (unpadded, truncated after the first EOS)
 * @param forcedMask 1 where the token was teacher-forced by a {@link ResetStrategy} (DR-PO)
 * @param pgMask 1 where the token gets a policy gradient: response mask × (1 − forced), computed once here
 * @param logprobs log π_old(y_t), recomputed with a forward from z/τ
 * @param refLogprobs log π_ref(y_t) from z_ref/τ
 * @param values V_old(t), the critic at the state before each response token
 * @param entropySum {@code [B]} Σ_t H(π_old(·|s_t)) over real tokens
 * @param scores {@code [B]} sequence scores after the missing-EOS rule
 * @param hasEos {@code [B]} whether the response ends with EOS
 * @param rewardMetrics {@code rewards/<name>/mean} and {@code rewards/<name>/std} of a
 *     {@link RewardSource.Functions} source (before the missing-EOS rule); empty for other sources
 */
record RolloutBatch(
        ResponseBatch batch,
        List<int[]> queries,
        List<int[]> responses,
        int[][] forcedMask,
        int[][] pgMask,
        float[][] logprobs,
        float[][] refLogprobs,
        float[][] values,
        float[] entropySum,
        double[] scores,
        boolean[] hasEos,
        Map<String, Double> rewardMetrics) {

    /**
     * Builds a rollout batch without per-function reward metrics.
     *
     * @param batch queries and responses as one padded token matrix
     * @param queries query ids
     * @param responses response ids
     * @param forcedMask 1 where the token was teacher-forced
     * @param logprobs log π_old
     * @param refLogprobs log π_ref
     * @param values V_old
     * @param entropySum Σ_t H per row
     * @param scores sequence scores
     * @param hasEos whether each response ends with EOS
     * @return the rollout batch
     */
    static RolloutBatch of(ResponseBatch batch, List<int[]> queries, List<int[]> responses, int[][] forcedMask,
            float[][] logprobs, float[][] refLogprobs, float[][] values, float[] entropySum, double[] scores,
            boolean[] hasEos) {
        return of(batch, queries, responses, forcedMask, logprobs, refLogprobs, values, entropySum, scores, hasEos,
                Map.of());
    }

    /**
     * Builds a rollout batch, deriving the policy-gradient mask from the response and forced masks.
     *
     * @param batch queries and responses as one padded token matrix
     * @param queries query ids
     * @param responses response ids
     * @param forcedMask 1 where the token was teacher-forced
     * @param logprobs log π_old
     * @param refLogprobs log π_ref
     * @param values V_old
     * @param entropySum Σ_t H per row
     * @param scores sequence scores
     * @param hasEos whether each response ends with EOS
     * @param rewardMetrics per-function reward metrics (empty unless the source has reward functions)
     * @return the rollout batch
     */
    static RolloutBatch of(ResponseBatch batch, List<int[]> queries, List<int[]> responses, int[][] forcedMask,
            float[][] logprobs, float[][] refLogprobs, float[][] values, float[] entropySum, double[] scores,
            boolean[] hasEos, Map<String, Double> rewardMetrics) {
        int[][] m = batch.responseMask();
        int[][] pg = new int[m.length][];
        for (int b = 0; b < m.length; b++) {
            pg[b] = new int[m[b].length];
            for (int t = 0; t < m[b].length; t++) {
                pg[b][t] = m[b][t] * (1 - forcedMask[b][t]);
            }
        }
        return new RolloutBatch(batch, queries, responses, forcedMask, pg, logprobs, refLogprobs, values, entropySum,
                scores, hasEos, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(rewardMetrics)));
    }

    /**
     * Returns the number of rows.
     *
     * @return B
     */
    int size() {
        return batch.size();
    }

    /**
     * Creates a {@code [rows, T_r]} float32 tensor from some rows of a per-token array.
     *
     * @param m the micro-batch's manager
     * @param a a {@code [B][T_r]} array of this batch
     * @param rows row indices
     * @return the tensor
     */
    static NDArray tensor(NDManager m, float[][] a, int[] rows) {
        float[][] out = new float[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            out[k] = a[rows[k]];
        }
        return m.create(out);
    }

    /**
     * Creates a {@code [rows, T_r]} float32 tensor from some rows of a 0/1 mask.
     *
     * @param m the micro-batch's manager
     * @param mask a {@code [B][T_r]} mask of this batch
     * @param rows row indices
     * @return the tensor
     */
    static NDArray tensor(NDManager m, int[][] mask, int[] rows) {
        int[][] out = new int[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            out[k] = mask[rows[k]];
        }
        return m.create(out).toType(DataType.FLOAT32, false);
    }
}
