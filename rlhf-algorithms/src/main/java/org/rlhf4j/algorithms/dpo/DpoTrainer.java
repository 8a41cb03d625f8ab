package org.rlhf4j.algorithms.dpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.algorithms.common.PolicyReferenceBuilder;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.common.PolicyTrainee;
import org.rlhf4j.algorithms.common.TrainingLoop;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Direct Preference Optimization (Rafailov et al. 2023): train the policy π_θ on preference pairs (x, y_w, y_l)
 * against a frozen reference policy π_ref (the SFT model) by minimising
 *
 * <pre>L(θ) = (1/B) Σ_i ℓ(h_i),   h_i = β·[(log π_θ(y_w|x) − log π_ref(y_w|x)) − (log π_θ(y_l|x) − log π_ref(y_l|x))]</pre>
 *
 * with sequence log-probabilities summed over the real response tokens and ℓ the configured variant
 * ({@link DpoLosses#losses}: sigmoid/cDPO, IPO, hinge, robust).
 *
 * <p>Before training, when {@link DpoConfig#precomputeReferenceLogprobs()} is set, log π_ref of every train and eval
 * response is computed once and cached. Per update: 1. take the step's B pairs from the seeded data stream; 2. for
 * each micro-batch of b pairs, stack the b chosen and the b rejected responses into one batch of 2b rows (queries
 * left-padded, responses right-padded), run ONE policy forward for both, take the reference log-probs from the cache
 * (or from a reference forward over the same batch), compute the per-pair losses and back-propagate their sum / B
 * (gradients accumulate, so k micro-batches equal one batch exactly); 3. clip, guard, schedule and apply AdamW;
 * 4. log, evaluate and checkpoint on schedule. A run directory with a checkpoint resumes exactly where it stopped.
 *
 * <p>Metrics of every update (means over the batch's B pairs, TRL's names): {@code loss}, {@code rewards/chosen}
 * (mean r_w = β·(log π_θ(y_w) − log π_ref(y_w))), {@code rewards/rejected} (mean r_l), {@code rewards/accuracies}
 * (fraction with r_w &gt; r_l), {@code rewards/margins} (mean r_w − r_l), {@code logps/chosen},
 * {@code logps/rejected} (mean log π_θ), {@code train/grad_norm}, {@code train/lr}, {@code train/epoch}; evaluations
 * add the same pair metrics prefixed with {@code eval/}. The values are those of the forward pass before the update.
 */
public final class DpoTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(DpoTrainer.class);

    /** Algorithm name in checkpoints and provenance. */
    public static final String ALGORITHM = "dpo";

    /**
     * An evaluation on held-out pairs (means over the pairs).
     *
     * @param step the update after which it ran
     * @param loss mean per-pair loss
     * @param accuracy fraction of pairs with r_w &gt; r_l (implicit-reward accuracy)
     * @param margin mean r_w − r_l
     * @param rewardChosen mean r_w
     * @param rewardRejected mean r_l
     * @param logpChosen mean log π_θ(y_w|x)
     * @param logpRejected mean log π_θ(y_l|x)
     * @param pairs number of pairs evaluated, n
     */
    public record Evaluation(long step, double loss, double accuracy, double margin, double rewardChosen,
            double rewardRejected, double logpChosen, double logpRejected, int pairs) {

        /**
         * Returns the evaluation as {@code eval/...} metrics.
         *
         * @return name to value
         */
        public Map<String, Double> metrics() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("eval/loss", loss);
            m.put("eval/rewards/chosen", rewardChosen);
            m.put("eval/rewards/rejected", rewardRejected);
            m.put("eval/rewards/accuracies", accuracy);
            m.put("eval/rewards/margins", margin);
            m.put("eval/logps/chosen", logpChosen);
            m.put("eval/logps/rejected", logpRejected);
            return m;
        }
    }

    /**
     * What a run did.
     *
     * @param startStep the step it started from (0, or the checkpoint's step when resumed)
     * @param steps total updates completed
     * @param trainLosses the training loss of each update of this run, in order
     * @param evaluations evaluations of this run
     */
    public record Result(long startStep, long steps, List<Double> trainLosses, List<Evaluation> evaluations) {}

    /**
     * Per-pair values of a list of pairs (index i is pair i).
     *
     * @param policyChosen log π_θ(y_w|x)
     * @param policyRejected log π_θ(y_l|x)
     * @param refChosen log π_ref(y_w|x)
     * @param refRejected log π_ref(y_l|x)
     * @param losses the per-pair loss ℓ(h)
     * @param beta β, for the implicit rewards
     */
    public record PairScores(double[] policyChosen, double[] policyRejected, double[] refChosen,
            double[] refRejected, double[] losses, double beta) {

        /**
         * Returns the number of pairs.
         *
         * @return n
         */
        public int size() {
            return losses.length;
        }

        /**
         * Returns a pair's implicit reward of the chosen response.
         *
         * @param i pair index
         * @return r_w = β·(log π_θ(y_w) − log π_ref(y_w))
         */
        public double rewardChosen(int i) {
            return beta * (policyChosen[i] - refChosen[i]);
        }

        /**
         * Returns a pair's implicit reward of the rejected response.
         *
         * @param i pair index
         * @return r_l = β·(log π_θ(y_l) − log π_ref(y_l))
         */
        public double rewardRejected(int i) {
            return beta * (policyRejected[i] - refRejected[i]);
        }
    }

    /**
     * Summed response log-probabilities of a batch of pairs, from one forward over 2b rows.
     *
     * @param chosen {@code [b]} log π(y_w|x)
     * @param rejected {@code [b]} log π(y_l|x)
     */
    public record PairLogprobs(NDArray chosen, NDArray rejected) {}

    /** Cached reference log-probs of a list of pairs. */
    private record RefCache(double[] chosen, double[] rejected) {}

    /** Running sums of a step's (or an evaluation's) per-pair values. */
    static final class Sums {
        double loss;
        double rewardChosen;
        double rewardRejected;
        double correct;
        double logpChosen;
        double logpRejected;
        int n;

        void add(double l, double pc, double pr, double rc, double rr, double beta) {
            double rw = beta * (pc - rc);
            double rl = beta * (pr - rr);
            loss += l;
            rewardChosen += rw;
            rewardRejected += rl;
            correct += rw > rl ? 1 : 0;
            logpChosen += pc;
            logpRejected += pr;
            n++;
        }
    }

    private final DpoConfig config;
    private final CausalLm policy;
    private org.rlhf4j.core.train.LossScaler scaler; // fp16 mixed precision only (OptimizerConfig.fp16)
    private final CausalLm reference;
    private final Tokenizer tokenizer;
    private final List<Encoded.Pair> train;
    private final List<Encoded.Pair> eval;
    private final TrainerBuilder<?> common;
    private final int padId;
    private RefCache trainRef;
    private RefCache evalRef;

    private DpoTrainer(Builder b) {
        this.config = b.config;
        this.policy = b.policy().withHook(b.config.optimizer().forwardHook());
        this.reference = b.reference();
        this.tokenizer = b.tokenizer();
        this.train = List.copyOf(b.train);
        this.eval = b.eval == null ? List.of() : List.copyOf(b.eval);
        this.common = b;
        this.padId = tokenizer.eosTokenId();
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
     * Builds the batch of a list of pairs: rows 0..b−1 are (x_i, y_w,i), rows b..2b−1 are (x_i, y_l,i), queries
     * left-padded and responses right-padded to the widths of all 2b rows.
     *
     * @param pairs the pairs (b &ge; 1)
     * @param padId the id written at padding positions
     * @return the batch of 2b rows
     */
    public static ResponseBatch pairBatch(List<Encoded.Pair> pairs, int padId) {
        List<int[]> q = new ArrayList<>(2 * pairs.size());
        List<int[]> r = new ArrayList<>(2 * pairs.size());
        for (Encoded.Pair p : pairs) {
            q.add(p.query().ids());
            r.add(p.chosen());
        }
        for (Encoded.Pair p : pairs) {
            q.add(p.query().ids());
            r.add(p.rejected());
        }
        return ResponseBatch.of(q, r, padId);
    }

    /**
     * Summed response log-probabilities of the chosen and rejected responses of a {@link #pairBatch}, from one
     * forward of the model over all 2b rows: log π(y|x) = Σ_j m_j · log π(y_j | x, y_&lt;j).
     *
     * @param model the model (policy or reference)
     * @param t the tensors of a {@link #pairBatch}
     * @return the chosen and rejected log-probs, {@code [b]} each
     */
    public static PairLogprobs pairLogprobs(CausalLm model, ResponseBatch.Tensors t) {
        NDArray seq = Sequences.sequenceLogprob(model, t);
        long b = seq.getShape().get(0) / 2;
        return new PairLogprobs(seq.get(new NDIndex("0:" + b)), seq.get(new NDIndex(b + ":" + (2 * b))));
    }

    /**
     * Trains in the shared {@link TrainingLoop} (resuming from the run directory's latest checkpoint when its saved
     * configuration matches). The run directory is owned for the whole run (its {@code model.lock}): a second trainer
     * on it fails at once. A checkpoint is never written from non-finite weights.
     *
     * @return what the run did
     * @throws org.rlhf4j.core.train.Updater.NonFiniteException when training diverges (the message names the update
     *     and the first non-finite parameter); the last checkpoint is left as it was
     * @throws org.rlhf4j.algorithms.common.RunConfigMismatchException when the run directory holds a run with another
     *     configuration (see {@link org.rlhf4j.algorithms.common.ExistingRun})
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run directory
     * @throws IOException when a checkpoint or log cannot be written or read
     */
    public Result train() throws IOException {
        long total = config.totalSteps(train.size());
        reference.weights().setRequiresGradient(false);
        if (config.precomputeReferenceLogprobs()) {
            precomputeReference();
        }
        policy.weights().setRequiresGradient(true);
        try (AdamW optimizer = config.optimizer().newOptimizer(policy.weights())) {
            Updater updater = config.optimizer().newUpdater("policy", optimizer, total);
            scaler = updater.lossScaler();
            List<Evaluation> evals = new ArrayList<>();
            TrainingLoop.Schedule schedule =
                    TrainingLoop.Schedule.of(total, config.batchSize(), train.size(), config.schedule());
            TrainingLoop.Outcome o = new TrainingLoop(ALGORITHM, config.seed(), config, schedule,
                    new Trainee(optimizer, updater, evals), common).run();
            List<Double> losses = o.rows().stream().map(r -> r.get("loss")).toList();
            return new Result(o.startStep(), o.steps(), losses, List.copyOf(evals));
        } finally {
            policy.weights().setRequiresGradient(false);
        }
    }

    /** One DPO update and its evaluation, for the {@link TrainingLoop}. */
    private final class Trainee extends PolicyTrainee {
        private final Updater updater;
        private final List<Evaluation> evals;

        Trainee(AdamW optimizer, Updater updater, List<Evaluation> evals) {
            super(DpoTrainer.this.policy, DpoTrainer.this.tokenizer, optimizer);
            this.updater = updater;
            this.evals = evals;
        }


        @Override
        public Map<String, Double> step(TrainingLoop.Step step) {
            // 1. the step's pairs (the loop's seeded data stream)
            int[] idx = step.indices();
            // 2. forward/backward over micro-batches (chosen and rejected in one forward), Σ ℓ / B
            Sums s = accumulateGradients(idx);
            double loss = s.loss / s.n;
            // 3. clip, guard, schedule, AdamW
            Updater.Result u = updater.step(policy.weights(), loss);
            // 4. metrics (the loop logs, evaluates and checkpoints on schedule)
            Map<String, Double> row = pairMetrics(s);
            row.put("train/grad_norm", u.gradNorm());
            row.put("train/lr", u.lr());
            row.put("train/epoch", step.epoch());
            row.put("train/skipped", u.skipped() ? 1.0 : 0.0);
            row.putAll(updater.precisionMetrics("train/"));
            return row;
        }

        @Override
        public Map<String, Double> evaluate(long done, TrainingLoop.Logs logs) throws IOException {
            if (eval.isEmpty()) {
                return Map.of();
            }
            Evaluation e = DpoTrainer.this.evaluate(done);
            evals.add(e);
            logs.eval(e);
            return e.metrics();
        }

    }

    private static Map<String, Double> pairMetrics(Sums s) {
        Map<String, Double> row = new LinkedHashMap<>();
        row.put("loss", s.loss / s.n);
        row.put("rewards/chosen", s.rewardChosen / s.n);
        row.put("rewards/rejected", s.rewardRejected / s.n);
        row.put("rewards/accuracies", s.correct / s.n);
        row.put("rewards/margins", (s.rewardChosen - s.rewardRejected) / s.n);
        row.put("logps/chosen", s.logpChosen / s.n);
        row.put("logps/rejected", s.logpRejected / s.n);
        return row;
    }

    /**
     * Runs forward/backward over the micro-batches of one update; the gradients left in the policy's weights are
     * those of (1/B) Σ_i ℓ_i whatever the micro-batch size.
     *
     * @param idx the update's B pair indices into the training data
     * @return the per-pair sums of the update
     */
    Sums accumulateGradients(int[] idx) {
        int batch = idx.length;
        Sums sums = new Sums();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int off = 0; off < batch; off += config.microBatchSize()) {
                int b = Math.min(config.microBatchSize(), batch - off);
                List<Encoded.Pair> pairs = new ArrayList<>(b);
                double[] rc = trainRef == null ? null : new double[b];
                double[] rr = trainRef == null ? null : new double[b];
                for (int i = 0; i < b; i++) {
                    int k = idx[off + i];
                    pairs.add(train.get(k));
                    if (trainRef != null) {
                        rc[i] = trainRef.chosen()[k];
                        rr[i] = trainRef.rejected()[k];
                    }
                }
                try (NDManager m = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    Micro mb = microBatch(pairs, rc, rr, m);
                    for (double[] v : mb.values()) {
                        sums.add(v[4], v[0], v[1], v[2], v[3], config.beta());
                    }
                    gc.backward(org.rlhf4j.core.train.LossScaler.apply(scaler,
                            TensorOps.div(mb.losses().sum(), batch)));
                }
            }
        }
        return sums;
    }

    /**
     * One micro-batch's per-pair losses (a tensor, with the policy's graph when a collector is open) and values.
     *
     * @param losses {@code [b]} per-pair losses
     * @param values per pair: log π_θ(y_w), log π_θ(y_l), log π_ref(y_w), log π_ref(y_l), ℓ
     */
    private record Micro(NDArray losses, double[][] values) {}

    /**
     * The per-pair losses of one micro-batch: one policy forward over the 2b rows of chosen and rejected responses;
     * reference log-probs from the cache, or from one reference forward over the same tensors.
     *
     * @param pairs the pairs
     * @param refChosen cached log π_ref(y_w), or null to run the reference on the same batch
     * @param refRejected cached log π_ref(y_l), or null
     * @param m the step's manager
     * @return losses and per-pair values
     */
    private Micro microBatch(List<Encoded.Pair> pairs, double[] refChosen, double[] refRejected, NDManager m) {
        ResponseBatch.Tensors t = pairBatch(pairs, padId).toTensors(m);
        PairLogprobs pol = pairLogprobs(policy, t);
        NDArray rc;
        NDArray rr;
        if (refChosen == null) {
            // the reference forward's intermediates (logits, log-softmax, every layer's activations) are closed as
            // soon as its two [b] results exist, as TRL's torch.no_grad() forward frees them; left to the step's
            // manager they stayed alive through the policy's backward (at the 107M-parameter Llama: 10.8 GB peak
            // resident memory and 25.7 s per update, against 3.2 GB and 13.8 s for TRL)
            try (NDScope scope = new NDScope()) {
                PairLogprobs ref = pairLogprobs(reference, t);
                rc = ref.chosen().stopGradient();
                rr = ref.rejected().stopGradient();
                NDScope.unregister(rc, rr);
            }
        } else {
            rc = m.create(toFloat(refChosen));
            rr = m.create(toFloat(refRejected));
        }
        NDArray perPair = DpoLosses.losses(config.lossType(), pol.chosen(), pol.rejected(), rc, rr, config.beta(),
                config.labelSmoothing());
        float[][] cols = {pol.chosen().toFloatArray(), pol.rejected().toFloatArray(), rc.toFloatArray(),
            rr.toFloatArray(), perPair.toFloatArray()};
        double[][] values = new double[pairs.size()][5];
        for (int i = 0; i < pairs.size(); i++) {
            for (int c = 0; c < 5; c++) {
                values[i][c] = cols[c][i];
            }
        }
        return new Micro(perPair, values);
    }

    /**
     * Scores pairs with the current policy and the reference run on the same batches (no gradients), in
     * micro-batches of {@link DpoConfig#microBatchSize()} pairs in the given order.
     *
     * @param pairs the pairs
     * @return per-pair log-probs and losses
     */
    public PairScores score(List<Encoded.Pair> pairs) {
        return score(pairs, null);
    }

    private PairScores score(List<Encoded.Pair> pairs, RefCache cache) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("no pairs to score");
        }
        int n = pairs.size();
        double[][] cols = new double[5][n];
        for (int off = 0; off < n; off += config.microBatchSize()) {
            int to = Math.min(n, off + config.microBatchSize());
            double[] rc = cache == null ? null : Arrays.copyOfRange(cache.chosen(), off, to);
            double[] rr = cache == null ? null : Arrays.copyOfRange(cache.rejected(), off, to);
            try (NDManager m = policy.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                double[][] values = microBatch(pairs.subList(off, to), rc, rr, m).values();
                for (int i = 0; i < values.length; i++) {
                    for (int c = 0; c < 5; c++) {
                        cols[c][off + i] = values[i][c];
                    }
                }
            }
        }
        return new PairScores(cols[0], cols[1], cols[2], cols[3], cols[4], config.beta());
    }

    /**
     * Evaluates the policy on the held-out pairs (no gradients): mean loss, implicit-reward accuracy and margin.
     * Reference log-probs come from the cache when they are precomputed.
     *
     * @param step the step to label the result with
     * @return the evaluation
     * @throws IllegalStateException when no evaluation pairs were given
     */
    public Evaluation evaluate(long step) {
        if (eval.isEmpty()) {
            throw new IllegalStateException("no evaluation pairs (set them with optEvalData)");
        }
        RefCache cache = null;
        if (config.precomputeReferenceLogprobs()) {
            if (evalRef == null) {
                evalRef = referenceLogprobs(eval);
            }
            cache = evalRef;
        }
        PairScores s = score(eval, cache);
        Sums sums = new Sums();
        for (int i = 0; i < s.size(); i++) {
            sums.add(s.losses()[i], s.policyChosen()[i], s.policyRejected()[i], s.refChosen()[i], s.refRejected()[i],
                    config.beta());
        }
        return new Evaluation(step, sums.loss / sums.n, sums.correct / sums.n,
                (sums.rewardChosen - sums.rewardRejected) / sums.n, sums.rewardChosen / sums.n,
                sums.rewardRejected / sums.n, sums.logpChosen / sums.n, sums.logpRejected / sums.n, sums.n);
    }

    private void precomputeReference() {
        long t0 = System.nanoTime();
        if (trainRef == null) {
            trainRef = referenceLogprobs(train);
        }
        if (evalRef == null && !eval.isEmpty()) {
            evalRef = referenceLogprobs(eval);
        }
        LOG.info("precomputed reference log-probs of {} train and {} eval pairs in {} s", train.size(), eval.size(),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9));
    }

    /**
     * Reference log-probs of pairs, in micro-batches of the configured size (no gradients).
     *
     * @param pairs the pairs
     * @return the cache
     */
    private RefCache referenceLogprobs(List<Encoded.Pair> pairs) {
        double[] c = new double[pairs.size()];
        double[] r = new double[pairs.size()];
        for (int off = 0; off < pairs.size(); off += config.microBatchSize()) {
            int to = Math.min(pairs.size(), off + config.microBatchSize());
            try (NDManager m = reference.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                PairLogprobs lp = pairLogprobs(reference, pairBatch(pairs.subList(off, to), padId).toTensors(m));
                float[] fc = lp.chosen().toFloatArray();
                float[] fr = lp.rejected().toFloatArray();
                for (int i = 0; i < fc.length; i++) {
                    c[off + i] = fc[i];
                    r[off + i] = fr[i];
                }
            }
        }
        return new RefCache(c, r);
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /** Builder of {@link DpoTrainer}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder extends PolicyReferenceBuilder<Builder> {
        private DpoConfig config;
        private List<Encoded.Pair> train;
        private List<Encoded.Pair> eval;

        private Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the configuration.
         *
         * @param c the config
         * @return this
         */
        public Builder setConfig(DpoConfig c) {
            this.config = c;
            return this;
        }

        /**
         * Sets the training pairs.
         *
         * @param data encoded pairs (responses end with EOS)
         * @return this
         */
        public Builder setTrainData(List<Encoded.Pair> data) {
            this.train = data;
            return this;
        }

        /**
         * Sets held-out evaluation pairs.
         *
         * @param data encoded pairs
         * @return this
         */
        public Builder optEvalData(List<Encoded.Pair> data) {
            this.eval = data;
            return this;
        }

        /**
         * Builds the trainer.
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required value is missing (the message names it), the training data
         *     is empty, the policy and the reference are the same object or have different vocabularies, or a batch of
         *     these pairs could exceed the models' maximum positions
         */
        public DpoTrainer build() {
            required("config", config).and("policy", policy).and("reference", reference).and("tokenizer", tokenizer)
                    .and("train data", train).check();
            if (train.isEmpty()) {
                throw new IllegalArgumentException("training data is empty");
            }
            checkCommon();
            checkSeparateReference();
            if (reference.config().vocabSize() != policy.config().vocabSize()) {
                throw new IllegalArgumentException("reference vocabulary (" + reference.config().vocabSize()
                        + ") differs from the policy's (" + policy.config().vocabSize() + ")");
            }
            checkWidth("training", train);
            if (eval != null) {
                checkWidth("evaluation", eval);
            }
            return new DpoTrainer(this);
        }

        /** Any batch is at most (longest query + longest response) wide; it must fit both models' positions. */
        private void checkWidth(String what, List<Encoded.Pair> pairs) {
            int q = 0;
            int r = 0;
            for (Encoded.Pair p : pairs) {
                q = Math.max(q, p.query().ids().length);
                r = Math.max(r, Math.max(p.chosen().length, p.rejected().length));
            }
            ModelConfig limiting = policy.config().maxPositions() <= reference.config().maxPositions()
                    ? policy.config()
                    : reference.config();
            int limit = limiting.maxPositions();
            if (q + r > limit) {
                throw new IllegalArgumentException("the " + what + " pairs' longest query (" + q
                        + " tokens) + longest response (" + r + ") = " + (q + r) + " exceed "
                        + limiting.maxPositionsField() + "=" + limit
                        + "; shorten queries (TaskConfig.maxQueryTokens) or responses");
            }
        }
    }
}
