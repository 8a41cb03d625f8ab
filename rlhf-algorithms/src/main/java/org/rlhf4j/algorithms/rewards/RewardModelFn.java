package org.rlhf4j.algorithms.rewards;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.core.model.ScalarModel;

/**
 * A reward model as a reward function: each (prompt ids, completion ids) pair is scored at its last real token
 * ({@link ScalarModel#score}), in micro-batches of left-padded prompts followed by right-padded completions, without
 * gradients (call it outside a gradient collector, as the trainers do). Reads token ids only, never text.
 */
public final class RewardModelFn implements RewardFn {

    /** The default name, for {@code rewards/reward_model/mean}. */
    public static final String DEFAULT_NAME = "reward_model";

    private final String name;
    private final ScalarModel model;
    private final int padId;
    private final int microBatchSize;

    /**
     * Creates the adapter.
     *
     * @param name the metric name
     * @param model the reward model (frozen)
     * @param padId the id written at padding positions (never attended; PPO uses EOS)
     * @param microBatchSize rows per forward pass (>= 1)
     */
    public RewardModelFn(String name, ScalarModel model, int padId, int microBatchSize) {
        this.name = RewardFn.checkName(name);
        this.model = Objects.requireNonNull(model, "model");
        if (microBatchSize < 1) {
            throw new IllegalArgumentException("microBatchSize must be >= 1, got " + microBatchSize);
        }
        this.padId = padId;
        this.microBatchSize = microBatchSize;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * Returns the model.
     *
     * @return the reward model
     */
    public ScalarModel model() {
        return model;
    }

    @Override
    public List<Double> score(List<RewardInput> batch) {
        if (batch.isEmpty()) {
            return List.of();
        }
        List<int[]> q = new ArrayList<>(batch.size());
        List<int[]> r = new ArrayList<>(batch.size());
        for (RewardInput in : batch) {
            q.add(in.promptIds());
            r.add(in.completionIds());
        }
        double[] s = scoreBatch(ResponseBatch.of(q, r, padId));
        List<Double> out = new ArrayList<>(s.length);
        for (double v : s) {
            out.add(v);
        }
        return out;
    }

    /**
     * Scores an already padded batch at each row's last real token.
     *
     * @param batch the batch
     * @return one score per row
     */
    public double[] scoreBatch(ResponseBatch batch) {
        int n = batch.size();
        double[] out = new double[n];
        for (int off = 0; off < n; off += microBatchSize) {
            int end = Math.min(n, off + microBatchSize);
            int[] part = new int[end - off];
            for (int k = 0; k < part.length; k++) {
                part[k] = off + k;
            }
            try (NDManager m = model.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.select(part).toTensors(m);
                float[] s = model.score(t.ids(), t.mask()).toFloatArray();
                for (int k = 0; k < part.length; k++) {
                    out[part[k]] = s[k];
                }
            }
        }
        return out;
    }
}
