package org.rlhf4j.algorithms.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.rlhf4j.datasets.task.Collator;
import org.rlhf4j.datasets.task.Padded;

/**
 * Queries left-padded to a common width followed by responses right-padded to a common width, as one token matrix.
 *
 * <pre>
 *   ids:   [pad pad q q q | r r r EOS pad]      width = queryWidth + responseWidth
 *   mask:  [ 0   0  1 1 1 | 1 1 1  1   0 ]
 * </pre>
 *
 * Response token j sits at column {@code queryWidth + j} and is predicted by the hidden state at column
 * {@code queryWidth + j − 1}; {@link Sequences#responseLogprobs} uses exactly those columns.
 *
 * @param ids {@code [B][queryWidth + responseWidth]}
 * @param mask attention mask, same shape
 * @param queryWidth padded query width
 * @param responseIds {@code [B][responseWidth]} right-padded responses
 * @param responseMask {@code [B][responseWidth]}, 1 for real response tokens
 */
public record ResponseBatch(long[][] ids, int[][] mask, int queryWidth, long[][] responseIds, int[][] responseMask) {

    /**
     * Builds a batch.
     *
     * @param queries query ids (non-empty each)
     * @param responses response ids (non-empty each)
     * @param padId id written at padding positions (never attended)
     * @return the batch
     */
    public static ResponseBatch of(List<int[]> queries, List<int[]> responses, long padId) {
        if (queries.size() != responses.size() || queries.isEmpty()) {
            throw new IllegalArgumentException(
                    "need as many queries as responses (>= 1), got " + queries.size() + " and " + responses.size());
        }
        Padded q = Collator.leftPad(queries, padId);
        Padded r = Collator.rightPad(responses, padId);
        int b = queries.size();
        int qw = q.width();
        int rw = r.width();
        long[][] ids = new long[b][qw + rw];
        int[][] mask = new int[b][qw + rw];
        for (int i = 0; i < b; i++) {
            System.arraycopy(q.ids()[i], 0, ids[i], 0, qw);
            System.arraycopy(r.ids()[i], 0, ids[i], qw, rw);
            System.arraycopy(q.mask()[i], 0, mask[i], 0, qw);
            System.arraycopy(r.mask()[i], 0, mask[i], qw, rw);
        }
        return new ResponseBatch(ids, mask, qw, r.ids(), r.mask());
    }

    /**
     * Returns some rows of this batch (same widths).
     *
     * @param rows row indices
     * @return the sub-batch
     */
    public ResponseBatch select(int[] rows) {
        long[][] i = new long[rows.length][];
        int[][] m = new int[rows.length][];
        long[][] ri = new long[rows.length][];
        int[][] rm = new int[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            i[k] = ids[rows[k]];
            m[k] = mask[rows[k]];
            ri[k] = responseIds[rows[k]];
            rm[k] = responseMask[rows[k]];
        }
        return new ResponseBatch(i, m, queryWidth, ri, rm);
    }

    /**
     * Returns the number of rows.
     *
     * @return B
     */
    public int size() {
        return ids.length;
    }

    /**
     * Returns the padded response width.
     *
     * @return T_r
     */
    public int responseWidth() {
        return responseIds.length == 0 ? 0 : responseIds[0].length;
    }

    /**
     * Returns the number of real response tokens.
     *
     * @return Σ responseMask
     */
    public long responseTokens() {
        long n = 0;
        for (int[] row : responseMask) {
            for (int v : row) {
                n += v;
            }
        }
        return n;
    }

    /**
     * Creates the tensors of this batch in a manager.
     *
     * @param m the manager (a per-step manager)
     * @return the tensors
     */
    public Tensors toTensors(NDManager m) {
        return new Tensors(
                m.create(ids), m.create(mask).toType(ai.djl.ndarray.types.DataType.FLOAT32, false), queryWidth,
                m.create(responseIds), m.create(responseMask).toType(ai.djl.ndarray.types.DataType.FLOAT32, false));
    }

    /**
     * The batch as tensors.
     *
     * @param ids {@code [B, T]} int64
     * @param mask {@code [B, T]} float32
     * @param queryWidth padded query width
     * @param responseIds {@code [B, T_r]} int64
     * @param responseMask {@code [B, T_r]} float32
     */
    public record Tensors(NDArray ids, NDArray mask, int queryWidth, NDArray responseIds, NDArray responseMask) {}
}
