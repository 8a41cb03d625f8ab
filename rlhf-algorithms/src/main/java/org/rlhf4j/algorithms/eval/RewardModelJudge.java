package org.rlhf4j.algorithms.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * A judge that prefers the summary with the higher reward-model score r_φ(q, y), read at the response's EOS as in
 * training. Order-free, so one question per matchup.
 *
 * <p>A summary text is encoded as in the reward-model data, {@code encode(" " + text.strip()) + [eos]}, so a
 * reference summary, a decoded policy output and a line of a summaries file are scored alike. Scores are computed
 * without gradients, in micro-batches each inside its own {@link NDScope}. The verdict is a tie when the two texts are
 * equal after stripping, or when |r_A − r_B| ≤ {@code tieTolerance} (default 0: exact equality).
 */
public final class RewardModelJudge implements Judge {

    private final ScalarModel model;
    private final Tokenizer tokenizer;
    private final int microBatchSize;
    private final double tieTolerance;

    private RewardModelJudge(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.microBatchSize = b.microBatchSize;
        this.tieTolerance = b.tieTolerance;
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Encodes a summary as a reward-model response: {@code encode(" " + text.strip()) + [eos]}.
     *
     * @param text the summary
     * @return the response ids
     */
    public int[] encodeSummary(String text) {
        int[] ids = tokenizer.encode(" " + text.strip());
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = tokenizer.eosTokenId();
        return out;
    }

    /**
     * Scores responses: r_φ(q_i, y_i) at each response's last token.
     *
     * @param queries query ids (non-empty each)
     * @param responses response ids (non-empty each; normally ending in EOS)
     * @return one score per pair
     */
    public double[] score(List<int[]> queries, List<int[]> responses) {
        if (queries.size() != responses.size()) {
            throw new IllegalArgumentException(
                    "need one response per query, got " + queries.size() + " queries and " + responses.size() + " responses");
        }
        int n = queries.size();
        double[] out = new double[n];
        long eos = tokenizer.eosTokenId();
        for (int off = 0; off < n; off += microBatchSize) {
            int end = Math.min(n, off + microBatchSize);
            ResponseBatch batch = ResponseBatch.of(queries.subList(off, end), responses.subList(off, end), eos);
            try (NDManager m = model.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.toTensors(m);
                float[] s = model.score(t.ids(), t.mask()).toFloatArray();
                for (int k = 0; k < s.length; k++) {
                    out[off + k] = s[k];
                }
            }
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public Judgement judge(Matchup matchup) {
        return judgeAll(List.of(matchup)).get(0);
    }

    /** {@inheritDoc} */
    @Override
    public List<Judgement> judgeAll(List<Matchup> matchups) {
        List<int[]> q = new ArrayList<>(2 * matchups.size());
        List<int[]> r = new ArrayList<>(2 * matchups.size());
        for (Matchup m : matchups) {
            if (m.queryIds() == null || m.queryIds().length == 0) {
                throw new IllegalArgumentException("matchup '" + m.id() + "' has no query ids; the reward-model judge needs them");
            }
            q.add(m.queryIds());
            r.add(encodeSummary(m.a()));
            q.add(m.queryIds());
            r.add(encodeSummary(m.b()));
        }
        double[] s = score(q, r);
        List<Judgement> out = new ArrayList<>(matchups.size());
        for (int i = 0; i < matchups.size(); i++) {
            double a = s[2 * i];
            double b = s[2 * i + 1];
            Matchup m = matchups.get(i);
            Verdict v;
            if (m.a().strip().equals(m.b().strip()) || Math.abs(a - b) <= tieTolerance) {
                v = Verdict.TIE;
            } else {
                v = a > b ? Verdict.A : Verdict.B;
            }
            out.add(Judgement.single(v, String.format(Locale.ROOT, "rm: A=%.6f B=%.6f", a, b)));
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        return "rm";
    }

    /** Builder of {@link RewardModelJudge}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder {
        private ScalarModel model;
        private Tokenizer tokenizer;
        private int microBatchSize = 8;
        private double tieTolerance = 0;

        private Builder() {}

        /**
         * Sets the reward model (used frozen; its weights are not modified).
         *
         * @param m the model
         * @return this
         */
        public Builder setModel(ScalarModel m) {
            this.model = m;
            return this;
        }

        /**
         * Sets the tokenizer the reward model was trained with.
         *
         * @param t the tokenizer
         * @return this
         */
        public Builder setTokenizer(Tokenizer t) {
            this.tokenizer = t;
            return this;
        }

        /**
         * Sets the number of sequences per forward pass (default 8).
         *
         * @param n the size
         * @return this
         */
        public Builder optMicroBatchSize(int n) {
            this.microBatchSize = n;
            return this;
        }

        /**
         * Sets the largest score difference still called a tie (default 0).
         *
         * @param t the tolerance
         * @return this
         */
        public Builder optTieTolerance(double t) {
            this.tieTolerance = t;
            return this;
        }

        /**
         * Builds the judge.
         *
         * @return the judge
         */
        public RewardModelJudge build() {
            if (model == null || tokenizer == null) {
                throw new IllegalArgumentException("model and tokenizer are required");
            }
            if (microBatchSize < 1) {
                throw new IllegalArgumentException("microBatchSize must be >= 1, got " + microBatchSize);
            }
            if (!(tieTolerance >= 0)) {
                throw new IllegalArgumentException("tieTolerance must be >= 0, got " + tieTolerance);
            }
            return new RewardModelJudge(this);
        }
    }
}
