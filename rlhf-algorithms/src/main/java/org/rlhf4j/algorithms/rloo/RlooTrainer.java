package org.rlhf4j.algorithms.rloo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.rlhf4j.algorithms.common.GroupRollouts;
import org.rlhf4j.algorithms.common.PhaseTimes;
import org.rlhf4j.algorithms.common.PolicyReferenceBuilder;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.algorithms.common.PolicyTrainee;
import org.rlhf4j.algorithms.common.TrainingLoop;
import org.rlhf4j.algorithms.grpo.GrpoLosses;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Seeds;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;

/**
 * REINFORCE Leave-One-Out (Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for
 * Learning from Human Feedback in LLMs") with the semantics of TRL 1.13.0's {@code RLOOTrainer}: no critic; each
 * prompt gets k sampled completions, each completion is one action whose baseline is the mean reward of the other
 * k − 1, and the policy takes PPO-clipped steps on the sequence-level ratio. One update, numbered as in the code:
 *
 * <ol>
 *   <li>prompts: P prompts from the loop's seeded data stream;
 *   <li>generate: k completions of each (rows p·k … p·k + k − 1), sampled at τ with top-k/top-p, stopping at EOS
 *       or {@code maxCompletionLength};
 *   <li>score: the {@link CompositeReward}'s weighted sum r_i (NaN where no function applied);
 *   <li>log π_old (the policy at generation time) and log π_ref per token, without gradients; the sequence KL
 *       KL_i = Σ_t (log π_old − log π_ref) and r_i ← clip(r_i) − β·KL_i (the paper's KL-shaped reward);
 *   <li>leave-one-out advantages A_i = r_i − (1/(k−1)) Σ_{j≠i} r_j, optionally whitened over the batch;
 *   <li>μ optimizer steps, each over all B completions in micro-batches: ρ_i = π_θ(y_i)/π_old(y_i),
 *       L = (1/B) Σ_i −min(ρ_i A_i, clip(ρ_i, 1 − ε_low, 1 + ε_high) A_i);
 *   <li>metrics under TRL's names.
 * </ol>
 *
 * The formulas are {@link RlooLosses}' (checked against TRL fixtures); this class only orchestrates them.
 */
public final class RlooTrainer {

    /** Algorithm name in checkpoints and provenance. */
    public static final String ALGORITHM = "rloo";

    static final long GEN_STREAM = 301;
    static final long EVAL_STREAM = 302;

    /**
     * An evaluation: one greedy completion per evaluation prompt.
     *
     * @param step the update after which it ran
     * @param reward mean combined reward (unscorable completions skipped)
     * @param rewards mean of each reward function, by name
     * @param meanLength mean completion length in tokens
     * @param prompts evaluation prompts
     */
    public record Evaluation(long step, double reward, Map<String, Double> rewards, double meanLength, int prompts) {}

    /**
     * What a run did.
     *
     * @param startStep the step it started from (0, or the checkpoint's step when resumed)
     * @param steps updates completed
     * @param history the metrics of each update of this run
     * @param evaluations evaluations of this run
     */
    public record Result(long startStep, long steps, List<Map<String, Double>> history, List<GroupRollouts.Evaluation> evaluations) {}

    /**
     * The last update's rewards after the KL penalty and its advantages (tests).
     *
     * @param rewards {@code [B]} penalised rewards
     * @param advantages {@code [B]} advantages
     */
    record Update(double[] rewards, double[] advantages) {}

    private final RlooConfig config;
    private final CausalLm policy;
    private org.rlhf4j.core.train.LossScaler scaler; // fp16 mixed precision only (OptimizerConfig.fp16)
    private final CausalLm reference;
    private final Tokenizer tokenizer;
    private final List<Encoded.PromptOnly> prompts;
    private final List<Encoded.PromptOnly> evalPrompts;
    private final CompositeReward reward;
    private final Function<Encoded.PromptOnly, Map<String, Object>> fields;
    private final Builder common;
    private Update last;

    private RlooTrainer(Builder b) {
        this.config = b.config;
        this.policy = b.policy().withHook(b.config.optimizer().forwardHook());
        this.reference = b.reference();
        this.tokenizer = b.tokenizer();
        this.prompts = List.copyOf(b.prompts);
        this.evalPrompts = b.evalPrompts == null ? List.of() : List.copyOf(b.evalPrompts);
        this.reward = b.reward;
        this.fields = b.fields == null ? p -> Map.of("id", p.id()) : b.fields;
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
     * configuration matches). The run directory is owned for the whole run; a checkpoint is never written from
     * non-finite weights.
     *
     * @return what the run did
     * @throws org.rlhf4j.core.train.Updater.NonFiniteException when training diverges
     * @throws org.rlhf4j.algorithms.common.RunConfigMismatchException when the run directory holds a run with another
     *     configuration
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run directory
     * @throws IOException when a checkpoint or log cannot be written or read
     */
    public Result train() throws IOException {
        long total = config.totalSteps(prompts.size());
        policy.weights().setRequiresGradient(true);
        try (AdamW optimizer = config.optimizer().newOptimizer(policy.weights())) {
            // the learning rate decays per optimizer step: μ per update (TRL's max_steps counts optimizer steps)
            Updater updater = config.optimizer().newUpdater("policy", optimizer, total * config.numIterations());
            scaler = updater.lossScaler();
            Trainee trainee = new Trainee(optimizer, updater);
            TrainingLoop.Schedule schedule =
                    TrainingLoop.Schedule.of(total, config.promptsPerStep(), prompts.size(), config.schedule());
            TrainingLoop.Outcome o = new TrainingLoop(ALGORITHM, config.seed(), config, schedule, trainee, common).run();
            return new Result(o.startStep(), o.steps(), o.rows(), List.copyOf(trainee.evals));
        } finally {
            policy.weights().setRequiresGradient(false);
        }
    }

    /** One RLOO update and its evaluation, for the {@link TrainingLoop}. */
    private final class Trainee extends PolicyTrainee {
        private final Updater updater;
        private final List<GroupRollouts.Evaluation> evals = new ArrayList<>();

        Trainee(AdamW optimizer, Updater updater) {
            super(RlooTrainer.this.policy, RlooTrainer.this.tokenizer, optimizer);
            this.updater = updater;
        }


        @Override
        public Map<String, Double> step(TrainingLoop.Step step) {
            return update(step, updater);
        }

        @Override
        public Map<String, Double> evaluate(long done, TrainingLoop.Logs logs) throws IOException {
            if (evalPrompts.isEmpty()) {
                return Map.of();
            }
            GroupRollouts.Evaluation e = RlooTrainer.this.evaluate(evalPrompts, done);
            evals.add(e);
            logs.eval(e);
            return e.metrics();
        }

    }

    private Map<String, Double> update(TrainingLoop.Step step, Updater updater) {
        PhaseTimes times = new PhaseTimes();
        int k = config.numGenerations();
        // 1. the update's P prompts (the loop's seeded data stream)
        List<Encoded.PromptOnly> batchPrompts = new ArrayList<>(step.indices().length);
        for (int i : step.indices()) {
            batchPrompts.add(prompts.get(i));
        }
        // 2.–3. k completions per prompt, sampled and scored (TRL: _generate_and_score_completions)
        GroupRollouts.Batch g = GroupRollouts.collect(policy, tokenizer, batchPrompts, fields, k, sampling(),
                Seeds.derive(config.seed(), step.step(), GEN_STREAM), reward, times);
        int n = g.size();
        // TRL mask_truncated_completions: completions without EOS keep their reward but get mask 0 (no gradient,
        // no KL, ρ = 1); they still count in the 1/B of the loss
        boolean[] masked = config.maskTruncatedCompletions() ? g.truncated() : new boolean[n];
        int[][] mask = hostMask(g.batch().responseMask(), masked);
        // 4. log π_old and log π_ref per token without gradients (TRL: old_per_token_logps, ref_per_token_logps),
        //    sequence KL and the penalised rewards r ← clip(r) − β·KL
        long t0 = System.nanoTime();
        float[][] oldLogp = GroupRollouts.logprobs(policy, g.batch(), config.temperature(), config.microBatchSize());
        double[] seqKl = null;
        double meanKl = Double.NaN;
        if (config.beta() > 0) {
            float[][] refLogp =
                    GroupRollouts.logprobs(reference, g.batch(), config.temperature(), config.microBatchSize());
            t0 = times.add(PhaseTimes.Phase.FORWARD, t0);
            seqKl = RlooLosses.sequenceKl(oldLogp, refLogp, mask);
            meanKl = RlooLosses.meanTokenKl(oldLogp, refLogp, mask);
        } else {
            times.add(PhaseTimes.Phase.FORWARD, t0);
        }
        double[] rewards = RlooLosses.penalisedRewards(g.scores().total(), seqKl, config.beta(),
                config.rewardClipRange());
        double[] oldSeq = new double[n];
        for (int b = 0; b < n; b++) {
            for (int t = 0; t < mask[b].length; t++) {
                oldSeq[b] += mask[b][t] != 0 ? oldLogp[b][t] : 0.0;
            }
        }
        // 5. leave-one-out advantages (paper eq. 9; TRL: baselines = (sum − r_i)/(k − 1)), optionally whitened
        double[] advantages = RlooLosses.advantages(rewards, k, config.normalizeAdvantages());
        last = new Update(rewards, advantages);
        // 6. μ optimizer steps on the same samples (TRL: num_iterations), each over all B completions
        Stats stats = new Stats();
        long trainStart = System.nanoTime();
        for (int it = 0; it < config.numIterations(); it++) {
            double loss = accumulateGradients(g, masked, oldSeq, advantages, stats);
            Updater.Result u = updater.step(policy.weights(), loss);
            stats.loss += loss;
            stats.gradNorm += u.gradNorm();
            stats.lr = u.lr();
            stats.skipped += u.skipped() ? 1 : 0;
        }
        times.add(PhaseTimes.Phase.TRAIN, trainStart);
        // 7. metrics with TRL's names
        Map<String, Double> row = metrics(step, g, meanKl, stats);
        row.putAll(updater.precisionMetrics("train/"));
        // time/generate, time/score, time/forward, time/train, time/update (seconds, wall clock)
        row.putAll(times.metrics());
        return row;
    }

    /**
     * The gradients of one optimizer step: the B completions in micro-batches of size m. TRL runs them as
     * {@code per_device_train_batch_size} = m and {@code gradient_accumulation_steps} = B/m, each micro-batch's loss
     * a mean over its m sequences which the HF Trainer divides by B/m; so each micro-batch's mean is scaled by m/B
     * here, and the accumulated gradient is that of L = (1/B) Σ_i ℓ_i over the whole batch.
     *
     * @return the batch loss L
     */
    double accumulateGradients(GroupRollouts.Batch g, boolean[] masked, double[] oldSeq, double[] advantages,
            Stats stats) {
        int n = g.size();
        int micro = config.microBatchSize();
        double scale = (double) micro / n;
        double total = 0;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int off = 0; off < n; off += micro) {
                int[] rows = range(off, off + micro);
                try (NDManager m = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = g.batch().select(rows).toTensors(m);
                    NDArray mask = GrpoLosses.maskTruncated(t.responseMask(), Arrays.copyOfRange(masked, off, off + micro));
                    Sequences.Result cur = Sequences.responseLogprobs(policy, t, config.temperature(), true);
                    NDArray old = m.create(Arrays.copyOfRange(oldSeq, off, off + micro)).toType(DataType.FLOAT32, false);
                    NDArray adv = m.create(Arrays.copyOfRange(advantages, off, off + micro))
                            .toType(DataType.FLOAT32, false);
                    RlooLosses.Terms terms = RlooLosses.loss(cur.logprobs(), old, adv, mask, cur.entropy(),
                            config.epsilon(), config.epsilonHigh());
                    gc.backward(org.rlhf4j.core.train.LossScaler.apply(scaler, TensorOps.mul(terms.loss(), scale)));
                    total += terms.loss().getFloat() * scale;
                    stats.add(terms.metrics());
                }
            }
        }
        return total;
    }

    /** Per-token log π (z/τ, as TRL) of the batch's completions under a model, without gradients. */

    private GenerationConfig sampling() {
        return GenerationConfig.builder(config.maxCompletionLength(), tokenizer.eosTokenId())
                .setTemperature(config.temperature()).setTopK(config.topK()).setTopP(config.topP())
                .setEosMode(EosMode.STOP).build();
    }

    /** One update's metrics row (TRL's names; the per-micro-batch loss metrics averaged as TRL's logs do). */
    private Map<String, Double> metrics(TrainingLoop.Step step, GroupRollouts.Batch g, double meanKl, Stats s) {
        Map<String, Double> row = new LinkedHashMap<>();
        row.put("loss", s.loss / config.numIterations());
        row.put("grad_norm", s.gradNorm / config.numIterations());
        row.put("learning_rate", s.lr);
        row.put("epoch", step.epoch());
        double[] lengths = g.lengths();
        row.put("completions/mean_length", Arrays.stream(lengths).average().orElse(0));
        row.put("completions/min_length", Arrays.stream(lengths).min().orElse(0));
        row.put("completions/max_length", Arrays.stream(lengths).max().orElse(0));
        row.put("completions/clipped_ratio", g.clippedRatio());
        // rewards/<name>/mean|std, reward, reward_std: the raw (unpenalised) scores, as TRL logs them
        row.putAll(g.scores().metrics());
        if (config.beta() > 0) {
            row.put("kl", meanKl); // TRL logs kl only when β ≠ 0
        }
        row.put("entropy", s.entropy / s.count);
        row.put("clip_ratio/low_mean", s.lowMean / s.count);
        row.put("clip_ratio/low_min", s.lowMin);
        row.put("clip_ratio/high_mean", s.highMean / s.count);
        row.put("clip_ratio/high_max", s.highMax);
        row.put("clip_ratio/region_mean", s.regionMean / s.count);
        row.put("train/skipped", (double) s.skipped);
        return row;
    }

    /** Accumulated per-micro-batch metrics of one update (all μ iterations). */
    static final class Stats {
        double loss;
        double gradNorm;
        double lr;
        int skipped;
        int count;
        double entropy;
        double lowMean;
        double lowMin = Double.POSITIVE_INFINITY;
        double highMean;
        double highMax = Double.NEGATIVE_INFINITY;
        double regionMean;

        void add(RlooLosses.Metrics m) {
            count++;
            entropy += m.entropy();
            lowMean += m.clipLowMean();
            lowMin = Math.min(lowMin, m.clipLowMin());
            highMean += m.clipHighMean();
            highMax = Math.max(highMax, m.clipHighMax());
            regionMean += m.clipRegionMean();
        }
    }

    /**
     * Evaluates the policy: one greedy completion per prompt (τ = 0), scored by the training reward functions.
     *
     * @param data prompts
     * @param step the update to label the result with
     * @return the evaluation
     */
    public GroupRollouts.Evaluation evaluate(List<Encoded.PromptOnly> data, long step) {
        return GroupRollouts.evaluateGreedy(policy, tokenizer, data, fields, reward, config.maxCompletionLength(), config.batchSize(), step);
    }

    /** Returns the last update's penalised rewards and advantages (tests). */
    Update lastUpdate() {
        return last;
    }

    private static int[][] hostMask(int[][] responseMask, boolean[] masked) {
        int[][] out = new int[responseMask.length][];
        for (int b = 0; b < out.length; b++) {
            out[b] = masked[b] ? new int[responseMask[b].length] : responseMask[b].clone();
        }
        return out;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    /** Builder of {@link RlooTrainer}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder extends PolicyReferenceBuilder<Builder> {
        private RlooConfig config;
        private List<Encoded.PromptOnly> prompts;
        private List<Encoded.PromptOnly> evalPrompts;
        private CompositeReward reward;
        private Function<Encoded.PromptOnly, Map<String, Object>> fields;

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
        public Builder setConfig(RlooConfig c) {
            this.config = c;
            return this;
        }

        /**
         * Sets the training prompts.
         *
         * @param p prompts
         * @return this
         */
        public Builder setPrompts(List<Encoded.PromptOnly> p) {
            this.prompts = p;
            return this;
        }

        /**
         * Sets the reward functions.
         *
         * @param r the weighted reward functions
         * @return this
         */
        public Builder setReward(CompositeReward r) {
            this.reward = r;
            return this;
        }

        /**
         * Sets each prompt's row fields passed to the reward functions (e.g. {@code answer}); default
         * {@code {"id": id}}.
         *
         * @param f prompt to fields
         * @return this
         */
        public Builder optPromptFields(Function<Encoded.PromptOnly, Map<String, Object>> f) {
            this.fields = f;
            return this;
        }

        /**
         * Sets held-out prompts for evaluation (one greedy completion each).
         *
         * @param p prompts
         * @return this
         */
        public Builder optEvalPrompts(List<Encoded.PromptOnly> p) {
            this.evalPrompts = p;
            return this;
        }

        /**
         * Builds the trainer.
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required value is missing (the message names it; the reference is
         *     required when β &gt; 0), there are no training prompts, or the reference is the policy itself
         */
        public RlooTrainer build() {
            required("config", config).and("policy", policy).and("tokenizer", tokenizer).and("reward", reward)
                    .and("prompts", prompts).check();
            if (config.beta() > 0) {
                required("reference (beta > 0)", reference).check();
            }
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("no training prompts");
            }
            if (reference != null) {
                checkSeparateReference();
            }
            checkCommon();
            return new RlooTrainer(this);
        }
    }
}
