package org.rlhf4j.algorithms.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.PolicyTrainee;
import org.rlhf4j.algorithms.common.TrainingLoop;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised fine-tuning: minimise the mean negative log-likelihood of reference responses given their queries,
 *
 * <pre>L(θ) = −(1/N_tok) Σ_b Σ_j m_{b,j} log π_θ(y_{b,j} | x_b, y_{b,&lt;j})</pre>
 *
 * with N_tok the number of response tokens of the update's batch that carry loss; query and padding tokens carry
 * none, and neither do the response tokens a sample's loss mask leaves out ({@link Encoded.Sft#lossMask()}: for a
 * whole conversation, everything but its assistant turns, TRL's {@code assistant_only_loss}).
 *
 * <p>Per update: 1. take the step's samples from the seeded data stream; 2. for each micro-batch, left-pad queries,
 * right-pad responses, compute response log-probs and back-propagate its NLL sum / N_tok (gradients accumulate, so
 * k micro-batches equal one batch exactly); 3. clip, guard, schedule and apply AdamW; 4. log, evaluate, sample and
 * checkpoint on schedule. A run directory with a checkpoint resumes exactly where it stopped.
 */
public final class SftTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(SftTrainer.class);

    /** Algorithm name in checkpoints and provenance. */
    public static final String ALGORITHM = "sft";

    /**
     * An evaluation.
     *
     * @param step the update after which it ran
     * @param loss mean NLL per real response token
     * @param perplexity exp(loss)
     * @param tokens real response tokens evaluated
     */
    public record Evaluation(long step, double loss, double perplexity, long tokens) {}

    /**
     * What a run did.
     *
     * @param startStep the step it started from (0, or the checkpoint's step when resumed)
     * @param steps total updates completed
     * @param trainLosses the training loss of each update of this run, in order
     * @param evaluations evaluations of this run
     */
    public record Result(long startStep, long steps, List<Double> trainLosses, List<Evaluation> evaluations) {}

    private final SftConfig config;
    private final CausalLm policy;
    private org.rlhf4j.core.train.LossScaler scaler; // fp16 mixed precision only (OptimizerConfig.fp16)
    private final Tokenizer tokenizer;
    private final List<Encoded.Sft> train;
    private final List<Encoded.Sft> eval;
    private final TrainerBuilder<?> common;

    private SftTrainer(Builder b) {
        this.config = b.config;
        this.policy = b.policy.withHook(b.config.optimizer().forwardHook());
        this.tokenizer = b.tokenizer();
        this.train = List.copyOf(b.train);
        this.eval = b.eval == null ? List.of() : List.copyOf(b.eval);
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
        policy.weights().setRequiresGradient(true);
        try (AdamW optimizer = config.optimizer().newOptimizer(policy.weights())) {
            Updater updater = config.optimizer().newUpdater("policy", optimizer, total);
            scaler = updater.lossScaler();
            List<Evaluation> evals = new ArrayList<>();
            TrainingLoop.Schedule schedule =
                    TrainingLoop.Schedule.of(total, config.batchSize(), train.size(), config.schedule());
            TrainingLoop.Outcome o = new TrainingLoop(ALGORITHM, config.seed(), config, schedule,
                    new Trainee(optimizer, updater, evals), common).run();
            List<Double> losses = o.rows().stream().map(r -> r.get("train/loss")).toList();
            return new Result(o.startStep(), o.steps(), losses, List.copyOf(evals));
        } finally {
            policy.weights().setRequiresGradient(false);
        }
    }

    /** One SFT update and its evaluation, for the {@link TrainingLoop}. */
    private final class Trainee extends PolicyTrainee {
        private final Updater updater;
        private final List<Evaluation> evals;

        Trainee(AdamW optimizer, Updater updater, List<Evaluation> evals) {
            super(SftTrainer.this.policy, SftTrainer.this.tokenizer, optimizer);
            this.updater = updater;
            this.evals = evals;
        }


        @Override
        public Map<String, Double> step(TrainingLoop.Step step) {
            // 1. the step's samples (the loop's seeded data stream)
            int[] idx = step.indices();
            // 2. forward/backward over micro-batches, NLL normalised by the batch's real response tokens
            double nll;
            try (Adapters.Training t = Adapters.training(policy, config.seed(), step.step())) { // LoRA dropout
                nll = accumulateGradients(idx, tokenizer.eosTokenId());
            }
            long tokens = countTokens(idx);
            double loss = nll / tokens;
            // 3. clip, guard, schedule, AdamW
            Updater.Result u = updater.step(policy.weights(), loss);
            // 4. metrics (the loop logs, evaluates and checkpoints on schedule)
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("train/loss", loss);
            row.put("train/grad_norm", u.gradNorm());
            row.put("train/lr", u.lr());
            row.put("train/epoch", step.epoch());
            row.put("train/tokens", (double) tokens);
            row.put("train/skipped", u.skipped() ? 1.0 : 0.0);
            row.putAll(updater.precisionMetrics("train/"));
            return row;
        }

        @Override
        public Map<String, Double> evaluate(long done, TrainingLoop.Logs logs) throws IOException {
            if (eval.isEmpty()) {
                return Map.of();
            }
            Evaluation e = SftTrainer.this.evaluate(done);
            evals.add(e);
            logs.samples(samples(done));
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("eval/loss", e.loss());
            row.put("eval/perplexity", e.perplexity());
            return row;
        }

    }

    // package-private for the accumulation-equivalence test
    double accumulateGradients(int[] idx, int eos) {
        long tokens = countTokens(idx);
        double nllTotal = 0;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int off = 0; off < idx.length; off += config.microBatchSize()) {
                List<int[]> q = new ArrayList<>();
                List<int[]> r = new ArrayList<>();
                List<Encoded.Sft> samples = new ArrayList<>();
                for (int i = off; i < off + config.microBatchSize(); i++) {
                    q.add(train.get(idx[i]).query().ids());
                    r.add(train.get(idx[i]).response());
                    samples.add(train.get(idx[i]));
                }
                ResponseBatch batch = ResponseBatch.of(q, r, eos);
                try (NDManager m = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = batch.toTensors(m);
                    NDArray lp = Sequences.responseLogprobs(policy, t, 1.0, false).logprobs();
                    NDArray nll = SftLosses.nllSum(lp, lossMask(m, samples, batch.responseWidth()));
                    gc.backward(org.rlhf4j.core.train.LossScaler.apply(scaler,
                            org.rlhf4j.core.tensor.TensorOps.div(nll, tokens)));
                    nllTotal += nll.getFloat();
                }
            }
        }
        return nllTotal;
    }

    private long countTokens(int[] idx) {
        long n = 0;
        for (int i : idx) {
            n += train.get(i).lossTokens();
        }
        return n;
    }

    /**
     * The loss mask of a micro-batch: {@code [B, T_r]}, 1 at the response tokens that carry loss (every real token,
     * or those of a sample's {@link Encoded.Sft#lossMask()}: a conversation's assistant turns), 0 elsewhere and at
     * padding.
     */
    static NDArray lossMask(NDManager m, List<Encoded.Sft> samples, int width) {
        float[][] mask = new float[samples.size()][width];
        for (int b = 0; b < samples.size(); b++) {
            Encoded.Sft s = samples.get(b);
            for (int j = 0; j < s.response().length; j++) {
                mask[b][j] = s.trains(j) ? 1f : 0f;
            }
        }
        return m.create(mask);
    }

    /**
     * Evaluates the mean NLL per response token on the evaluation data (no gradients).
     *
     * @param step the step to label the result with
     * @return the evaluation
     */
    public Evaluation evaluate(long step) {
        int eos = tokenizer.eosTokenId();
        double nll = 0;
        long tokens = 0;
        for (int off = 0; off < eval.size(); off += config.microBatchSize()) {
            List<int[]> q = new ArrayList<>();
            List<int[]> r = new ArrayList<>();
            List<Encoded.Sft> samples = new ArrayList<>();
            for (int i = off; i < Math.min(eval.size(), off + config.microBatchSize()); i++) {
                q.add(eval.get(i).query().ids());
                r.add(eval.get(i).response());
                samples.add(eval.get(i));
                tokens += eval.get(i).lossTokens();
            }
            ResponseBatch batch = ResponseBatch.of(q, r, eos);
            try (NDManager m = policy.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.toTensors(m);
                nll += SftLosses.nllSum(Sequences.responseLogprobs(policy, t, 1.0, false).logprobs(),
                        lossMask(m, samples, batch.responseWidth())).getFloat();
            }
        }
        double loss = nll / tokens;
        return new Evaluation(step, loss, Math.exp(loss), tokens);
    }

    /** Greedy samples for the first {@code numSamples} evaluation prompts, as {@code samples.jsonl} rows. */
    private List<Map<String, Object>> samples(long step) {
        if (common.runDir() == null || config.numSamples() == 0) {
            return List.of();
        }
        int n = Math.min(config.numSamples(), eval.size());
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            prompts.add(eval.get(i).query().ids());
        }
        int eos = tokenizer.eosTokenId();
        GenerationConfig g = GenerationConfig.greedy(config.sampleMaxTokens(), eos);
        Rollout r = Generator.generate(policy, prompts, null, g, config.seed());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", step);
            row.put("id", eval.get(i).id());
            row.put("sample", tokenizer.decode(r.response(i), true));
            row.put("reference", tokenizer.decode(eval.get(i).response(), true));
            rows.add(row);
        }
        return rows;
    }

    /** Builder of {@link SftTrainer}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder extends TrainerBuilder<Builder> {
        private SftConfig config;
        private CausalLm policy;
        private List<Encoded.Sft> train;
        private List<Encoded.Sft> eval;

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
        public Builder setConfig(SftConfig c) {
            this.config = c;
            return this;
        }

        /**
         * Sets the policy to train (updated in place).
         *
         * @param p the policy
         * @return this
         */
        public Builder setPolicy(CausalLm p) {
            this.policy = p;
            return this;
        }

        /**
         * Sets the training samples.
         *
         * @param data encoded samples
         * @return this
         */
        public Builder setTrainData(List<Encoded.Sft> data) {
            this.train = data;
            return this;
        }

        /**
         * Sets evaluation samples.
         *
         * @param data encoded samples
         * @return this
         */
        public Builder optEvalData(List<Encoded.Sft> data) {
            this.eval = data;
            return this;
        }

        /**
         * Builds the trainer.
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required value is missing (the message names it) or the training
         *     data is empty
         */
        public SftTrainer build() {
            required("config", config).and("policy", policy).and("tokenizer", tokenizer).and("train data", train)
                    .check();
            if (train.isEmpty()) {
                throw new IllegalArgumentException("training data is empty");
            }
            checkCommon();
            return new SftTrainer(this);
        }
    }
}
