package org.rlhf4j.algorithms.reward;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.Checkpoints;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.common.TrainingLoop;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reward-model training on preference pairs (Stiennon et al. 2020 §3.4): the score r(x, y) is the scalar head at the
 * response's last real token (its EOS), trained with the Bradley–Terry loss
 *
 * <pre>L(φ) = −(1/B) Σ_i log σ(r_φ(x_i, y_w,i) − r_φ(x_i, y_l,i) − m_i) + c·(1/B) Σ_i (r_w,i + r_l,i)²</pre>
 *
 * <p>Per update: 1. take the step's pairs from the seeded stream; 2. for each micro-batch, score chosen and
 * rejected responses in one forward (2b rows), back-propagate the summed loss / B; 3. clip, guard, schedule, AdamW;
 * 4. log, evaluate each held-out set, checkpoint. After the last update, with {@code normalizeOnReferences}, the head
 * bias is shifted by the mean score of (query, reference summary) pairs so references score 0 on average (N+
 * details); the normalised model is the final checkpoint.
 */
public final class RewardTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(RewardTrainer.class);

    /** Algorithm name in checkpoints and provenance. */
    public static final String ALGORITHM = "reward";

    /**
     * An evaluation on one held-out set.
     *
     * @param set the set's name
     * @param step the update after which it ran
     * @param loss mean Bradley–Terry loss (no margin)
     * @param accuracy fraction of pairs with r_w &gt; r_l
     * @param margin mean r_w − r_l
     * @param pairs number of pairs
     */
    public record Evaluation(String set, long step, double loss, double accuracy, double margin, int pairs) {}

    /**
     * The reward normalisation applied after training.
     *
     * @param meanBefore mean reference score before
     * @param bias the head bias after
     * @param meanAfter mean reference score after (≈ 0)
     * @param references number of reference summaries
     */
    public record Normalization(double meanBefore, double bias, double meanAfter, int references) {}

    /**
     * What a run did.
     *
     * @param startStep first step of this run
     * @param steps updates completed
     * @param trainLosses loss of each update of this run
     * @param trainAccuracies batch accuracy of each update
     * @param evaluations evaluations of this run
     * @param normalization the normalisation, or null
     */
    public record Result(long startStep, long steps, List<Double> trainLosses, List<Double> trainAccuracies,
            List<Evaluation> evaluations, Normalization normalization) {}

    private final RewardConfig config;
    private final ScalarModel model;
    private org.rlhf4j.core.train.LossScaler scaler; // fp16 mixed precision only (OptimizerConfig.fp16)
    private final Tokenizer tokenizer;
    private final List<Encoded.Pair> train;
    private final double[] margins;
    private final Map<String, List<Encoded.Pair>> evalSets;
    private final List<Encoded.Sft> references;
    private final TrainerBuilder<?> common;

    private RewardTrainer(Builder b) {
        this.config = b.config;
        this.model = b.model.withHook(b.config.optimizer().forwardHook());
        this.tokenizer = b.tokenizer();
        this.train = List.copyOf(b.train);
        this.margins = b.margins == null ? null : b.margins.clone();
        this.evalSets = b.evalSets == null ? Map.of() : new LinkedHashMap<>(b.evalSets);
        this.references = b.references == null ? List.of() : List.copyOf(b.references);
        this.common = b;
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
     * Trains in the shared {@link TrainingLoop} (resuming from the run directory's latest checkpoint when its saved
     * configuration matches), then normalises. The run directory is owned for the whole run (its {@code model.lock}):
     * a second trainer on it fails at once. A checkpoint is never written from non-finite weights.
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
        model.weights().setRequiresGradient(true);
        try (AdamW optimizer = config.optimizer().newOptimizer(model.weights())) {
            Updater updater = config.optimizer().newUpdater("reward model", optimizer, total);
            scaler = updater.lossScaler();
            Trainee trainee = new Trainee(optimizer, updater);
            TrainingLoop.Schedule schedule =
                    TrainingLoop.Schedule.of(total, config.batchSize(), train.size(), config.schedule());
            TrainingLoop.Outcome o = new TrainingLoop(ALGORITHM, config.seed(), config, schedule, trainee, common)
                    .run();
            List<Double> losses = o.rows().stream().map(r -> r.get("train/loss")).toList();
            List<Double> accs = o.rows().stream().map(r -> r.get("train/accuracy")).toList();
            return new Result(o.startStep(), o.steps(), losses, accs, List.copyOf(trainee.evals), trainee.norm);
        } finally {
            model.weights().setRequiresGradient(false);
        }
    }

    /** One reward-model update, its evaluation and the final normalisation, for the {@link TrainingLoop}. */
    private final class Trainee implements TrainingLoop.Trainee {
        private final AdamW optimizer;
        private final Updater updater;
        private final List<Evaluation> evals = new ArrayList<>();
        private Normalization norm;
        private TrainingLoop.Logs logs;

        Trainee(AdamW optimizer, Updater updater) {
            this.optimizer = optimizer;
            this.updater = updater;
        }

        @Override
        public void restore(Path dir, TrainerState state, boolean withOptimizer) throws IOException {
            Checkpoints.restoreScalar(dir, model, withOptimizer ? optimizer : null);
        }

        @Override
        public Map<String, Double> step(TrainingLoop.Step step) {
            // 1. the step's pairs (the loop's seeded data stream)
            // 2. forward/backward over micro-batches: chosen and rejected in one forward
            BatchStats s;
            try (Adapters.Training t = Adapters.training(model, config.seed(), step.step())) { // LoRA dropout
                s = accumulateGradients(step.indices());
            }
            // 3. clip, guard, schedule, AdamW
            Updater.Result u = updater.step(model.weights(), s.loss());
            // 4. metrics (the loop logs, evaluates and checkpoints on schedule)
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("train/loss", s.loss());
            row.put("train/accuracy", s.accuracy());
            row.put("train/margin", s.margin());
            row.put("train/chosen_reward", s.chosen());
            row.put("train/rejected_reward", s.rejected());
            row.put("train/grad_norm", u.gradNorm());
            row.put("train/lr", u.lr());
            row.put("train/epoch", step.epoch());
            row.put("train/skipped", u.skipped() ? 1.0 : 0.0);
            row.putAll(updater.precisionMetrics("train/"));
            return row;
        }

        @Override
        public Map<String, Double> evaluate(long done, TrainingLoop.Logs logs) throws IOException {
            this.logs = logs;
            Map<String, Double> row = new LinkedHashMap<>();
            for (Evaluation e : evaluateAll(done)) {
                evals.add(e);
                logs.eval(e);
                row.put("eval/" + e.set() + "/accuracy", e.accuracy());
                row.put("eval/" + e.set() + "/loss", e.loss());
                row.put("eval/" + e.set() + "/margin", e.margin());
            }
            return row;
        }

        @Override
        public void finish(long done, Map<String, Double> row) {
            // 5. after the last update: reference normalisation (N+ details), saved as the final model
            if (config.normalizeOnReferences() && !references.isEmpty()) {
                norm = normalize(references);
                row.put("norm/mean_before", norm.meanBefore());
                row.put("norm/bias", norm.bias());
                row.put("norm/mean_after", norm.meanAfter());
                if (logs != null) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("step", done);
                    r.put("normalization", norm);
                    try {
                        logs.eval(r);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }
        }

        @Override
        public void save(Path dir, boolean withOptimizer, SaveOptions weights) throws IOException {
            model.save(dir, weights);
            tokenizer.save(dir);
            if (withOptimizer) {
                optimizer.save(dir.resolve(Checkpoint.OPTIMIZER_FILE));
            }
        }

        @Override
        public Map<String, JsonNode> extraState() {
            return Map.of("bias", Json.MAPPER.valueToTree(model.bias()));
        }

        @Override
        public Map<String, org.rlhf4j.core.lora.LoraConfig> adapters() {
            return Adapters.of(Map.of("reward", model));
        }
    }

    record BatchStats(double loss, double accuracy, double margin, double chosen, double rejected) {}

    // package-private for the accumulation-equivalence test
    BatchStats accumulateGradients(int[] idx) {
        int b = idx.length;
        double lossSum = 0;
        double correct = 0;
        double marginSum = 0;
        double chosenSum = 0;
        double rejectedSum = 0;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int off = 0; off < b; off += config.microBatchSize()) {
                int[] part = java.util.Arrays.copyOfRange(idx, off, off + config.microBatchSize());
                try (NDManager m = model.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    NDArray[] r = scorePairs(m, train, part);
                    NDArray margin = null;
                    if (margins != null) {
                        float[] mv = new float[part.length];
                        for (int i = 0; i < part.length; i++) {
                            mv[i] = (float) margins[part[i]];
                        }
                        margin = m.create(mv);
                    }
                    NDArray loss = RewardLosses.bradleyTerrySum(r[0], r[1], margin);
                    if (config.centerRewardsCoefficient() > 0) {
                        loss = loss.add(TensorOps.mul(RewardLosses.centeringSum(r[0], r[1]),
                                config.centerRewardsCoefficient()));
                    }
                    gc.backward(org.rlhf4j.core.train.LossScaler.apply(scaler, TensorOps.div(loss, b)));
                    lossSum += loss.getFloat();
                    float[] c = r[0].toFloatArray();
                    float[] rej = r[1].toFloatArray();
                    for (int i = 0; i < c.length; i++) {
                        correct += c[i] > rej[i] ? 1 : 0;
                        marginSum += c[i] - rej[i];
                        chosenSum += c[i];
                        rejectedSum += rej[i];
                    }
                }
            }
        }
        return new BatchStats(lossSum / b, correct / b, marginSum / b, chosenSum / b, rejectedSum / b);
    }

    /** Scores the chosen and rejected responses of some pairs in one forward: {r_w [b], r_l [b]}. */
    private NDArray[] scorePairs(NDManager m, List<Encoded.Pair> data, int[] idx) {
        int b = idx.length;
        List<int[]> q = new ArrayList<>(2 * b);
        List<int[]> r = new ArrayList<>(2 * b);
        for (int i : idx) {
            q.add(data.get(i).query().ids());
            r.add(data.get(i).chosen());
        }
        for (int i : idx) {
            q.add(data.get(i).query().ids());
            r.add(data.get(i).rejected());
        }
        ResponseBatch.Tensors t = ResponseBatch.of(q, r, tokenizer.eosTokenId()).toTensors(m);
        NDArray scores = model.score(t.ids(), t.mask());
        return new NDArray[] {scores.get(new NDIndex("0:" + b)), scores.get(new NDIndex(b + ":"))};
    }

    /**
     * Evaluates every held-out set.
     *
     * @param step the step to label results with
     * @return one evaluation per set
     */
    public List<Evaluation> evaluateAll(long step) {
        List<Evaluation> out = new ArrayList<>();
        for (Map.Entry<String, List<Encoded.Pair>> e : evalSets.entrySet()) {
            if (!e.getValue().isEmpty()) {
                out.add(evaluate(e.getKey(), e.getValue(), step));
            }
        }
        return out;
    }

    /**
     * Evaluates a set of pairs (no gradients).
     *
     * @param name the set's name
     * @param pairs the pairs
     * @param step the step to label the result with
     * @return the evaluation
     */
    public Evaluation evaluate(String name, List<Encoded.Pair> pairs, long step) {
        double loss = 0;
        int correct = 0;
        double margin = 0;
        for (int off = 0; off < pairs.size(); off += config.microBatchSize()) {
            int n = Math.min(config.microBatchSize(), pairs.size() - off);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = off + i;
            }
            try (NDManager m = model.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                NDArray[] r = scorePairs(m, pairs, idx);
                loss += RewardLosses.bradleyTerrySum(r[0], r[1], null).getFloat();
                float[] c = r[0].toFloatArray();
                float[] rej = r[1].toFloatArray();
                for (int i = 0; i < n; i++) {
                    correct += c[i] > rej[i] ? 1 : 0;
                    margin += c[i] - rej[i];
                }
            }
        }
        int n = pairs.size();
        return new Evaluation(name, step, loss / n, (double) correct / n, margin / n, n);
    }

    /**
     * Scores (query, response) pairs with the current model.
     *
     * @param queries query ids
     * @param responses response ids (ending in EOS)
     * @return one score per pair
     */
    public float[] score(List<int[]> queries, List<int[]> responses) {
        float[] out = new float[queries.size()];
        for (int off = 0; off < queries.size(); off += config.microBatchSize()) {
            int end = Math.min(queries.size(), off + config.microBatchSize());
            try (NDManager m = model.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = ResponseBatch.of(queries.subList(off, end), responses.subList(off, end),
                        tokenizer.eosTokenId()).toTensors(m);
                float[] s = model.score(t.ids(), t.mask()).toFloatArray();
                System.arraycopy(s, 0, out, off, s.length);
            }
        }
        return out;
    }

    /**
     * Shifts the head bias so that the mean score of the reference summaries is 0: b ← b − mean_i r(x_i, y_ref,i).
     *
     * @param refs (query, reference summary) samples
     * @return what was done
     */
    public Normalization normalize(List<Encoded.Sft> refs) {
        List<int[]> q = new ArrayList<>();
        List<int[]> r = new ArrayList<>();
        for (Encoded.Sft s : refs) {
            q.add(s.query().ids());
            r.add(s.response());
        }
        double before = mean(score(q, r));
        model.setBias((float) (model.bias() - before));
        double after = mean(score(q, r));
        LOG.info("reward normalisation on {} references: mean {} -> {}, bias {}", refs.size(), before, after, model.bias());
        return new Normalization(before, model.bias(), after, refs.size());
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    /** Builder of {@link RewardTrainer}. */
    public static final class Builder extends TrainerBuilder<Builder> {
        private RewardConfig config;
        private ScalarModel model;
        private List<Encoded.Pair> train;
        private double[] margins;
        private Map<String, List<Encoded.Pair>> evalSets;
        private List<Encoded.Sft> references;

        private Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the configuration.
         *
         * @param c config
         * @return this
         */
        public Builder setConfig(RewardConfig c) {
            this.config = c;
            return this;
        }

        /**
         * Sets the reward model to train (updated in place).
         *
         * @param m the model
         * @return this
         */
        public Builder setModel(ScalarModel m) {
            this.model = m;
            return this;
        }

        /**
         * Sets the training pairs.
         *
         * @param data pairs
         * @return this
         */
        public Builder setTrainData(List<Encoded.Pair> data) {
            this.train = data;
            return this;
        }

        /**
         * Sets a per-pair margin m_i (aligned with the training pairs).
         *
         * @param m margins
         * @return this
         */
        public Builder optMargins(double[] m) {
            this.margins = m;
            return this;
        }

        /**
         * Sets named held-out sets (e.g. per split, per confidence level).
         *
         * @param sets name to pairs
         * @return this
         */
        public Builder optEvalSets(Map<String, List<Encoded.Pair>> sets) {
            this.evalSets = sets;
            return this;
        }

        /**
         * Sets the (query, reference summary) samples used for reward normalisation.
         *
         * @param refs the references
         * @return this
         */
        public Builder optReferences(List<Encoded.Sft> refs) {
            this.references = refs;
            return this;
        }

        /**
         * Builds the trainer.
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required value is missing (the message names it), the training data
         *     is empty, or the margins do not match the training pairs
         */
        public RewardTrainer build() {
            required("config", config).and("model", model).and("tokenizer", tokenizer).and("train data", train).check();
            if (train.isEmpty()) {
                throw new IllegalArgumentException("training data is empty");
            }
            if (margins != null && margins.length != train.size()) {
                throw new IllegalArgumentException(
                        "margins has " + margins.length + " entries for " + train.size() + " training pairs");
            }
            checkCommon();
            return new RewardTrainer(this);
        }
    }
}
