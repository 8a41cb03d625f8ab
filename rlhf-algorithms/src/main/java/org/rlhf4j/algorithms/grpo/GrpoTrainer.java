package org.rlhf4j.algorithms.grpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
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
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.common.PolicyTrainee;
import org.rlhf4j.algorithms.common.TrainingLoop;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Seeds;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;

/**
 * Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath), with the semantics of TRL 1.13.0's
 * {@code GRPOTrainer} on one process: no critic; the baseline of a completion is the mean reward of the G
 * completions of its prompt. One update (a generation batch), numbered as in TRL:
 *
 * <ol>
 *   <li>prompts: P from the seeded stream (the loop's indices);
 *   <li>generate G completions of each prompt at τ (top-k, top-p), stopping at EOS or {@code maxCompletionLength};
 *   <li>score them with the reward functions (weighted, NaN-skipping sum);
 *   <li>group advantages A_i = (r_i − mean_group r) / (σ + 10⁻⁴) ({@link GrpoLosses#advantages});
 *   <li>log π_old (when μ &gt; 1) and log π_ref (when β &gt; 0), without gradients;
 *   <li>μ iterations, each one optimizer step over the whole generation batch in micro-batches: the clipped,
 *       optionally KL-penalised per-token loss aggregated per {@code loss_type} ({@link GrpoLosses#loss}); clip,
 *       guard, schedule, AdamW ({@link Updater}).
 * </ol>
 *
 * <p>Micro-batches are TRL's {@code per_device_train_batch_size} and their count its
 * {@code gradient_accumulation_steps} (= {@code steps_per_generation}): grpo, bnpo and dr_grpo losses are divided by
 * that count, dapo's is normalised by the generation batch's active tokens, as TRL does.
 */
public final class GrpoTrainer {

    /** Algorithm name in checkpoints and provenance. */
    public static final String ALGORITHM = "grpo";

    static final long GEN_STREAM = 201;


    /**
     * What a run did.
     *
     * @param startStep the step it started from
     * @param steps updates completed
     * @param history the metrics of each update of this run
     * @param evaluations evaluations of this run
     */
    public record Result(long startStep, long steps, List<Map<String, Double>> history, List<GroupRollouts.Evaluation> evaluations) {}

    private final GrpoConfig config;
    private final CausalLm policy;
    private org.rlhf4j.core.train.LossScaler scaler; // fp16 mixed precision only (OptimizerConfig.fp16)
    private final CausalLm reference;
    private final CompositeReward reward;
    private final List<Encoded.PromptOnly> prompts;
    private final List<Encoded.PromptOnly> evalPrompts;
    private final Function<Encoded.PromptOnly, Map<String, Object>> fields;
    private final TrainerBuilder<?> common;

    private GrpoTrainer(Builder b) {
        this.config = b.config;
        this.policy = b.policy.withHook(b.config.optimizer().forwardHook());
        this.reference = b.reference;
        this.reward = b.reward;
        this.prompts = List.copyOf(b.prompts);
        this.evalPrompts = b.evalPrompts == null ? List.of() : List.copyOf(b.evalPrompts);
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
     * configuration matches).
     *
     * @return what the run did
     * @throws org.rlhf4j.core.train.Updater.NonFiniteException when training diverges
     * @throws org.rlhf4j.algorithms.common.RunConfigMismatchException when the run directory holds another run
     * @throws IOException when a checkpoint or log cannot be written or read
     */
    public Result train() throws IOException {
        long total = config.totalSteps(prompts.size());
        long optimizerSteps = total * config.numIterations();
        if (reference != null) {
            reference.weights().setRequiresGradient(false);
        }
        policy.weights().setRequiresGradient(true);
        try (AdamW optimizer = config.optimizer().newOptimizer(policy.weights())) {
            Updater updater = config.optimizer().newUpdater("policy", optimizer, optimizerSteps);
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

    /** One GRPO update and its evaluation, for the {@link TrainingLoop}. */
    private final class Trainee extends PolicyTrainee {
        private final Updater updater;
        private final List<GroupRollouts.Evaluation> evals = new ArrayList<>();

        Trainee(AdamW optimizer, Updater updater) {
            super(GrpoTrainer.this.policy, common.tokenizer(), optimizer);
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
            GroupRollouts.Evaluation e = GrpoTrainer.this.evaluate(evalPrompts, done);
            evals.add(e);
            logs.eval(e);
            return e.metrics();
        }

    }

    private Map<String, Double> update(TrainingLoop.Step step, Updater updater) {
        PhaseTimes times = new PhaseTimes();
        int eos = common.tokenizer().eosTokenId();
        // 1. the update's prompts
        List<Encoded.PromptOnly> batchPrompts = new ArrayList<>();
        for (int i : step.indices()) {
            batchPrompts.add(prompts.get(i));
        }
        // 2.–3. G completions per prompt, scored (TRL: _generate_and_score_completions)
        GenerationConfig g = GenerationConfig.builder(config.maxCompletionLength(), eos)
                .setTemperature(config.temperature()).setTopK(config.topK()).setTopP(config.topP())
                .setEosMode(EosMode.STOP).build();
        GroupRollouts.Batch rollouts = GroupRollouts.collect(policy, common.tokenizer(), batchPrompts, fields,
                config.numGenerations(), g, Seeds.derive(config.seed(), step.step(), GEN_STREAM), reward, times);
        int n = rollouts.size();
        // 4. group-relative advantages
        GrpoLosses.GroupAdvantages adv =
                GrpoLosses.advantages(rollouts.scores().total(), config.numGenerations(), config.scaleRewards());
        float[] advantages = new float[n];
        for (int i = 0; i < n; i++) {
            advantages[i] = (float) adv.advantages()[i];
        }
        // TRL: mask_truncated_completions zeroes the completion mask of rows without EOS
        float[] keep = new float[n];
        long activeTokens = 0;
        for (int i = 0; i < n; i++) {
            keep[i] = config.maskTruncatedCompletions() && rollouts.truncated()[i] ? 0f : 1f;
            activeTokens += keep[i] == 0f ? 0 : rollouts.completions().get(i).length;
        }
        ResponseBatch batch = rollouts.batch();
        int micro = config.microBatchSize();
        int microBatches = n / micro;
        // 5. log π_old (μ > 1: the generation-time policy; μ = 1: π_θ detached inside the loss) and log π_ref
        long t0 = System.nanoTime();
        float[][] old = config.numIterations() > 1
                ? GroupRollouts.logprobs(policy, batch, config.temperature(), config.microBatchSize()) : null;
        float[][] ref = config.beta() > 0
                ? GroupRollouts.logprobs(reference, batch, config.temperature(), config.microBatchSize()) : null;
        // TRL (dapo): normalised by the active tokens of the whole generation batch, not per micro-batch
        double dapoNormalizer = Math.max(1, activeTokens);
        t0 = times.add(PhaseTimes.Phase.FORWARD, t0);
        // 6. μ iterations × micro-batches, one optimizer step per iteration
        Accumulator acc = new Accumulator();
        for (int it = 0; it < config.numIterations(); it++) {
            double lossTotal = 0;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                for (int off = 0; off < n; off += micro) {
                    int[] rows = range(off, off + micro);
                    try (NDManager m = policy.manager().newSubManager();
                            NDScope scope = new NDScope()) {
                        ResponseBatch.Tensors t = batch.select(rows).toTensors(m);
                        Sequences.Result cur = Sequences.responseLogprobs(policy, t, config.temperature(), true);
                        NDArray mask = t.responseMask().mul(m.create(Arrays.copyOfRange(keep, off, off + micro))
                                .reshape(micro, 1));
                        GrpoLosses.Terms terms = GrpoLosses.loss(cur.logprobs(),
                                old == null ? null : m.create(slice(old, off, micro)),
                                ref == null ? null : m.create(slice(ref, off, micro)),
                                m.create(Arrays.copyOfRange(advantages, off, off + micro)), mask, cur.entropy(),
                                config.lossConfig(), dapoNormalizer);
                        // TRL: grpo, bnpo and dr_grpo losses are divided by gradient_accumulation_steps; dapo's
                        // normaliser already spans the whole generation batch
                        NDArray loss = config.lossType() == GrpoLossType.DAPO ? terms.loss()
                                : TensorOps.div(terms.loss(), microBatches);
                        gc.backward(org.rlhf4j.core.train.LossScaler.apply(scaler, loss));
                        lossTotal += loss.getFloat();
                        acc.add(terms.metrics());
                    }
                }
            }
            Updater.Result u = updater.step(policy.weights(), lossTotal);
            acc.step(lossTotal, u);
        }
        times.add(PhaseTimes.Phase.TRAIN, t0);
        // metrics with TRL's names
        Map<String, Double> row = new LinkedHashMap<>();
        row.putAll(rollouts.scores().metrics());
        row.put("frac_reward_zero_std", adv.fracRewardZeroStd());
        double[] lengths = rollouts.lengths();
        row.put("completions/mean_length", Arrays.stream(lengths).average().orElse(0));
        row.put("completions/min_length", Arrays.stream(lengths).min().orElse(0));
        row.put("completions/max_length", Arrays.stream(lengths).max().orElse(0));
        row.put("completions/clipped_ratio", rollouts.clippedRatio());
        acc.into(row, config.beta() > 0);
        row.put("epoch", step.epoch());
        row.putAll(updater.precisionMetrics("train/"));
        // time/generate, time/score, time/forward, time/train, time/update (seconds, wall clock)
        row.putAll(times.metrics());
        return row;
    }

    /** Running means of the micro-batch metrics and the optimizer steps of one update. */
    private static final class Accumulator {
        double kl;
        double entropy;
        double lowMean;
        double lowMin = Double.NaN;
        double highMean;
        double highMax = Double.NaN;
        double regionMean;
        int micro;
        double loss;
        double gradNorm;
        double lr;
        int steps;
        int skipped;

        void add(GrpoLosses.Metrics m) {
            kl += m.kl();
            entropy += m.entropy();
            lowMean += m.clipLowMean();
            highMean += m.clipHighMean();
            regionMean += m.clipRegionMean();
            lowMin = Double.isNaN(lowMin) ? m.clipLowMin() : Double.isNaN(m.clipLowMin()) ? lowMin
                    : Math.min(lowMin, m.clipLowMin());
            highMax = Double.isNaN(highMax) ? m.clipHighMax() : Double.isNaN(m.clipHighMax()) ? highMax
                    : Math.max(highMax, m.clipHighMax());
            micro++;
        }

        void step(double l, Updater.Result u) {
            loss += l;
            gradNorm += u.gradNorm();
            lr = u.lr();
            skipped += u.skipped() ? 1 : 0;
            steps++;
        }

        void into(Map<String, Double> row, boolean withKl) {
            if (withKl) {
                row.put("kl", kl / micro);
            }
            row.put("entropy", entropy / micro);
            row.put("clip_ratio/low_mean", lowMean / micro);
            row.put("clip_ratio/low_min", lowMin);
            row.put("clip_ratio/high_mean", highMean / micro);
            row.put("clip_ratio/high_max", highMax);
            row.put("clip_ratio/region_mean", regionMean / micro);
            row.put("loss", loss / steps);
            row.put("grad_norm", gradNorm / steps);
            row.put("learning_rate", lr);
            row.put("train/skipped", (double) skipped);
        }
    }


    /**
     * Evaluates the policy greedily: one completion per held-out prompt, scored by the reward functions.
     *
     * @param data the prompts
     * @param step the update to label the result with
     * @return the evaluation
     */
    public GroupRollouts.Evaluation evaluate(List<Encoded.PromptOnly> data, long step) {
        return GroupRollouts.evaluateGreedy(policy, common.tokenizer(), data, fields, reward, config.maxCompletionLength(), config.microBatchSize(), step);
    }

    private static double[] concat(List<double[]> parts) {
        return parts.stream().flatMapToDouble(Arrays::stream).toArray();
    }

    private static float[][] slice(float[][] a, int off, int len) {
        return Arrays.copyOfRange(a, off, off + len);
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    /** Builder of {@link GrpoTrainer}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder extends TrainerBuilder<Builder> {
        private GrpoConfig config;
        private CausalLm policy;
        private CausalLm reference;
        private CompositeReward reward;
        private List<Encoded.PromptOnly> prompts;
        private List<Encoded.PromptOnly> evalPrompts;
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
        public Builder setConfig(GrpoConfig c) {
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
         * Sets the frozen reference policy π_ref, needed when β &gt; 0 (a separate copy, e.g. a second
         * {@code CausalLm.load} of the initial model).
         *
         * @param r the reference
         * @return this
         */
        public Builder optReference(CausalLm r) {
            this.reference = r;
            return this;
        }

        /**
         * Sets the reward functions (the reward model is one of them: {@code RewardFns.rewardModel}).
         *
         * @param r the weighted reward functions
         * @return this
         */
        public Builder setReward(CompositeReward r) {
            this.reward = r;
            return this;
        }

        /**
         * Sets the training prompts.
         *
         * @param p the prompts
         * @return this
         */
        public Builder setPrompts(List<Encoded.PromptOnly> p) {
            this.prompts = p;
            return this;
        }

        /**
         * Sets held-out prompts for greedy evaluation.
         *
         * @param p the prompts
         * @return this
         */
        public Builder optEvalPrompts(List<Encoded.PromptOnly> p) {
            this.evalPrompts = p;
            return this;
        }

        /**
         * Sets the row fields each prompt passes to the reward functions (e.g. {@code answer}); default
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
         * Builds the trainer.
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required value is missing, there are no prompts, β &gt; 0 without a
         *     separate reference, or the vocabularies differ
         */
        public GrpoTrainer build() {
            required("config", config).and("policy", policy).and("tokenizer", tokenizer).and("reward", reward)
                    .and("prompts", prompts).check();
            checkCommon();
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("no training prompts");
            }
            if (config.beta() > 0) {
                if (reference == null) {
                    throw new IllegalArgumentException("beta = " + config.beta()
                            + " needs a reference model (optReference); with beta = 0 none is used");
                }
                if (reference == policy || reference.weights() == policy.weights()) {
                    throw new IllegalArgumentException("the reference must be a separate frozen copy of the policy");
                }
                if (reference.config().vocabSize() != policy.config().vocabSize()) {
                    throw new IllegalArgumentException("reference vocabulary (" + reference.config().vocabSize()
                            + ") differs from the policy's (" + policy.config().vocabSize() + ")");
                }
            }
            return new GrpoTrainer(this);
        }
    }
}
