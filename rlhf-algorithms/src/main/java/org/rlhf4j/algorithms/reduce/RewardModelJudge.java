package org.rlhf4j.algorithms.reduce;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * The re-labelling step of TL;DR (Wang et al. 2023 re-caption selected samples) for preferences, as a check only: a
 * judge reward model scores both responses of each kept row, and rows where it strongly prefers the rejected one,
 * r(x, y_c) − r(x, y_r) &lt; −threshold (under Bradley–Terry, P(human label) = &sigma;(margin) &lt;
 * &sigma;(−threshold)), are flagged in the report. Labels are never changed.
 */
public final class RewardModelJudge {

    private final ScalarModel rm;
    private final TldrTask task;
    private final int batchSize;
    private final String name;

    /**
     * Creates the judge.
     *
     * @param rm the reward model
     * @param task the task that encodes rows (with the judge's tokenizer)
     * @param batchSize rows per forward pass, &ge; 1
     * @param name the model's name for the report
     */
    public RewardModelJudge(ScalarModel rm, TldrTask task, int batchSize, String name) {
        this.rm = Objects.requireNonNull(rm, "rm");
        this.task = Objects.requireNonNull(task, "task");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        this.name = name;
    }

    /**
     * Returns the judge's margins r(x, y_c) − r(x, y_r).
     *
     * @param rows the rows
     * @return one margin per row
     */
    public double[] margins(List<ReductionRow> rows) {
        double[] out = new double[rows.size()];
        long pad = task.tokenizer().eosTokenId();
        for (int off = 0; off < rows.size(); off += batchSize) {
            int end = Math.min(rows.size(), off + batchSize);
            List<Encoded.Pair> pairs = new ArrayList<>();
            for (int i = off; i < end; i++) {
                pairs.add(Encodings.encode(task, rows.get(i)));
            }
            try (NDManager m = rm.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors[] t = Encodings.tensors(m, pairs, pad);
                float[] c = rm.score(t[0].ids(), t[0].mask()).toFloatArray();
                float[] r = rm.score(t[1].ids(), t[1].mask()).toFloatArray();
                for (int i = 0; i < c.length; i++) {
                    out[off + i] = (double) c[i] - r[i];
                }
            }
        }
        return out;
    }

    /**
     * Scores rows and flags those the judge strongly disagrees with.
     *
     * @param rows the rows (usually the kept ones)
     * @param threshold flag when the margin is below −threshold, &ge; 0
     * @return the flags, by line
     */
    public ReductionReport.JudgeFlags flag(List<ReductionRow> rows, double threshold) {
        if (!(threshold >= 0)) {
            throw new IllegalArgumentException("judge threshold must be >= 0, got " + threshold);
        }
        double[] mg = margins(rows);
        List<ReductionReport.Flag> flags = new ArrayList<>();
        int agree = 0;
        for (int i = 0; i < mg.length; i++) {
            agree += mg[i] > 0 ? 1 : 0;
            if (mg[i] < -threshold) {
                flags.add(new ReductionReport.Flag(rows.get(i).line(), mg[i]));
            }
        }
        double agreement = mg.length == 0 ? 0 : (double) agree / mg.length;
        return new ReductionReport.JudgeFlags(name, threshold, mg.length, agreement, flags);
    }
}
