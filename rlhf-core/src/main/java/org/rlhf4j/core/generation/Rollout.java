package org.rlhf4j.core.generation;

import java.util.Arrays;

/**
 * The result of batched generation: left-padded prompts and right-padded responses, with masks and the
 * log-probabilities of the response tokens.
 *
 * <p>{@code logprobs[b][t] = log softmax(z_t / τ)[y_t]}, the log-probability under the temperature-scaled model
 * distribution (as TRL records it; top-k/top-p only restrict which tokens may be sampled; greedy uses τ = 1). Padding
 * positions hold {@code padTokenId}, mask 0 and logprob 0. {@code forcedMask[b][t]} is 1 where the token was
 * teacher-forced from the sample's forced prefix rather than sampled.
 *
 * @param promptIds {@code [B][T_p]} left-padded prompt ids
 * @param promptMask {@code [B][T_p]} 1 for real prompt tokens
 * @param responseIds {@code [B][T_r]} right-padded response ids
 * @param responseMask {@code [B][T_r]} 1 for real response tokens (up to and including the first EOS)
 * @param logprobs {@code [B][T_r]} log-probabilities of the response tokens
 * @param forcedMask {@code [B][T_r]} 1 for teacher-forced tokens
 */
public record Rollout(
        int[][] promptIds, int[][] promptMask, int[][] responseIds, int[][] responseMask, float[][] logprobs,
        int[][] forcedMask) {

    /**
     * Returns the batch size.
     *
     * @return B
     */
    public int batchSize() {
        return responseIds.length;
    }

    /**
     * Returns the padded response length.
     *
     * @return T_r
     */
    public int responseLength() {
        return responseIds.length == 0 ? 0 : responseIds[0].length;
    }

    /**
     * Returns the real (unpadded) response tokens of one sample.
     *
     * @param b sample index
     * @return the tokens
     */
    public int[] response(int b) {
        return Arrays.copyOf(responseIds[b], length(b));
    }

    /**
     * Returns the real prompt tokens of one sample.
     *
     * @param b sample index
     * @return the tokens
     */
    public int[] prompt(int b) {
        int start = 0;
        while (start < promptMask[b].length && promptMask[b][start] == 0) {
            start++;
        }
        return Arrays.copyOfRange(promptIds[b], start, promptIds[b].length);
    }

    /**
     * Returns the number of real response tokens of one sample.
     *
     * @param b sample index
     * @return the length
     */
    public int length(int b) {
        int n = 0;
        for (int m : responseMask[b]) {
            n += m;
        }
        return n;
    }

    /**
     * Returns whether a response contains the EOS token among its real tokens.
     *
     * @param b sample index
     * @param eosTokenId the EOS id
     * @return true when the response ended with EOS
     */
    public boolean hasEos(int b, int eosTokenId) {
        int n = length(b);
        return n > 0 && responseIds[b][n - 1] == eosTokenId;
    }
}
