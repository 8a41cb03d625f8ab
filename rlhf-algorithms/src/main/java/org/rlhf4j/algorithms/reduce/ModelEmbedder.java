package org.rlhf4j.algorithms.reduce;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Embeds comparisons with a language model's final hidden states (e.g. the SFT policy): for each row,
 * e = normalise(m(x, y_c) + m(x, y_r)), where m(x, y) = &Sigma;_t mask_t h_t / &Sigma;_t mask_t is the mean of the
 * final hidden states ({@link CausalLm#hidden}, after the last norm) over the real tokens of the query followed by
 * the response and EOS (padding excluded). Symmetric in the two responses. Rows are encoded as the {@code reward}
 * command encodes them ({@link TldrTask#pairSample}: the query truncated to the task's budget).
 */
public final class ModelEmbedder implements Embedder {

    private final CausalLm lm;
    private final NDManager manager;
    private final TldrTask task;
    private final int batchSize;
    private final String name;

    /**
     * Creates the embedder.
     *
     * @param lm the model
     * @param manager the manager to open per-batch sub-managers from
     * @param task the task that encodes rows
     * @param batchSize rows per forward pass, &ge; 1
     * @param name the model's name for the report
     */
    public ModelEmbedder(CausalLm lm, NDManager manager, TldrTask task, int batchSize, String name) {
        this.lm = Objects.requireNonNull(lm, "lm");
        this.manager = Objects.requireNonNull(manager, "manager");
        this.task = Objects.requireNonNull(task, "task");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        this.name = name;
    }

    @Override
    public String describe() {
        return "model-mean-hidden(" + name + ")";
    }

    @Override
    public double[][] embed(List<ReductionRow> rows) {
        double[][] out = new double[rows.size()][];
        long pad = task.tokenizer().eosTokenId();
        for (int off = 0; off < rows.size(); off += batchSize) {
            int end = Math.min(rows.size(), off + batchSize);
            List<Encoded.Pair> pairs = new ArrayList<>();
            for (int i = off; i < end; i++) {
                pairs.add(Encodings.encode(task, rows.get(i)));
            }
            try (NDManager m = manager.newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors[] t = Encodings.tensors(m, pairs, pad);
                NDArray sum = meanHidden(t[0]).add(meanHidden(t[1]));
                int d = (int) sum.getShape().get(1);
                float[] v = sum.toFloatArray();
                for (int i = 0; i < end - off; i++) {
                    double[] e = new double[d];
                    for (int j = 0; j < d; j++) {
                        e[j] = v[i * d + j];
                    }
                    out[off + i] = Embedder.normalize(e);
                }
            }
        }
        return out;
    }

    /** Mask-aware mean of the final hidden states: [B, d]. */
    private NDArray meanHidden(ResponseBatch.Tensors t) {
        NDArray h = lm.hidden(t.ids(), t.mask(), null);
        NDArray mask = t.mask().expandDims(2);
        return h.mul(mask).sum(new int[] {1}).div(t.mask().sum(new int[] {1}).expandDims(1));
    }
}
