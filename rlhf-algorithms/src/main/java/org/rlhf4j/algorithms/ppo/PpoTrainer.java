package org.rlhf4j.algorithms.ppo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.common.Checkpoints;
import org.rlhf4j.algorithms.common.PhaseTimes;
import org.rlhf4j.algorithms.common.PolicyReferenceBuilder;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.common.TrainingLoop;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Seeds;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PPO for language models (Schulman et al. 2017; Ziegler et al. 2019; Stiennon et al. 2020) with the implementation
 * details of Huang et al. (2024) and TRL's PPO trainer. One update, numbered as in the papers:
 *
 * <ol>
 *   <li>generate: B prompts from the seeded stream; exactly {@code responseLength} tokens at τ, truncated after the
 *       first EOS (a {@link ResetStrategy} may teacher-force a prefix: DR-PO);
 *   <li>score: the {@link RewardSource} at the last real token; responses without EOS get {@code noEosScore};
 *   <li>rollout log-probs log π_old (recomputed with a forward, from z/τ), reference log-probs log π_ref, critic
 *       values V_old — all without gradients;
 *   <li>per-token rewards r_t = −β·kl_t plus the score at the last token (k1 or k3 estimator);
 *   <li>optionally whiten rewards;
 *   <li>GAE (γ, λ) over response positions; returns R = A + V_old; advantages whitened over real tokens;
 *   <li>K epochs × minibatches: clipped policy loss on generated tokens, clipped value loss on all response tokens,
 *       optional entropy bonus, each a masked mean over the minibatch's tokens; clipping, AdamW for policy and critic;
 *   <li>adaptive β (optional).
 * </ol>
 *
 * Steps 1–3 are a {@link RolloutCollector}'s, which returns one host-side {@link RolloutBatch}; steps 4–8 are
 * {@code update}'s, with the formulas in {@link PpoLosses}. The lines where this class deliberately differs from TRL's
 * PPOTrainer carry a {@code differs from TRL} comment.
 *
 * <p>Padding never enters a loss or a statistic: every sum is masked. Forced tokens (DR-PO) are scored, KL-penalised
 * and valued, but excluded from the policy loss.
 */
public final class PpoTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(PpoTrainer.class);

    static final long GEN_STREAM = 101;
    static final long RESET_STREAM = 102;
    static final long MINIBATCH_STREAM = 103;
    static final long EVAL_STREAM = 104;

    /** The critic's sub-directory in checkpoints. */
    public static final String CRITIC_DIR = "critic";

    /**
     * An evaluation from the prompt (no resets).
     *
     * @param step update after which it ran
     * @param score mean score (after the missing-EOS rule)
     * @param kl mean sequence KL to the reference, Σ_t k1
     * @param length mean response length in tokens
     * @param eosFraction fraction of responses that end with EOS
     * @param episodes number of prompts
     */
    public record Evaluation(long step, double score, double kl, double length, double eosFraction, int episodes) {}

    /**
     * What a run did.
     *
     * @param startStep first update of this run
     * @param steps updates completed
     * @param history the metrics of each update of this run
     * @param evaluations evaluations of this run
     * @param klCoef final β
     */
    public record Result(long startStep, long steps, List<Map<String, Double>> history, List<Evaluation> evaluations,
            double klCoef) {}

    private final PpoConfig config;
    private final String algorithm;
    private final CausalLm policy;
    private final ScalarModel critic;
    private final Tokenizer tokenizer;
    private final List<Encoded.PromptOnly> prompts;
    private final List<Encoded.PromptOnly> evalPrompts;
    private final ResetStrategy reset;
    private final TrainerBuilder<?> common;
    private final RolloutCollector collector;
    private final Object provenanceConfig;
    private double beta;

    private PpoTrainer(Builder b) {
        this.config = b.config;
        if (b.config.optimizer().fp16()) { // one loss, two optimizers: they would need one shared loss scaler
            throw new IllegalArgumentException("fp16 mixed precision is not supported by " + b.algorithm
                    + " yet (the policy and critic share one loss); train it in fp32");
        }
        this.algorithm = b.algorithm;
        this.policy = b.policy();
        this.critic = b.critic;
        this.tokenizer = b.tokenizer();
        this.prompts = List.copyOf(b.prompts);
        this.evalPrompts = b.evalPrompts == null ? List.of() : List.copyOf(b.evalPrompts);
        this.reset = b.reset == null ? ResetStrategy.NONE : b.reset;
        this.common = b;
        this.collector = new RolloutCollector(b.config, policy, b.reference(), b.critic, b.reward, tokenizer, reset);
        this.provenanceConfig = b.provenanceConfig == null ? b.config : b.provenanceConfig;
        this.beta = b.config.klCoef();
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
        long total = config.numUpdates();
        long optimizerSteps = total * config.ppoEpochs() * config.numMiniBatches();
        policy.weights().setRequiresGradient(true);
        critic.weights().setRequiresGradient(true);
        try (AdamW policyOpt = config.optimizer().newOptimizer(policy.weights());
                AdamW criticOpt = config.optimizer().newOptimizer(critic.weights())) {
            Updater policyUpdater = config.optimizer().newUpdater("policy", policyOpt, optimizerSteps);
            Updater criticUpdater = config.optimizer().newUpdater("critic", criticOpt, optimizerSteps);
            Trainee trainee = new Trainee(policyOpt, criticOpt, policyUpdater, criticUpdater);
            TrainingLoop.Schedule schedule =
                    TrainingLoop.Schedule.of(total, config.batchSize(), prompts.size(), config.schedule());
            TrainingLoop.Outcome o = new TrainingLoop(algorithm, config.seed(), provenanceConfig, schedule, trainee,
                    common).run();
            return new Result(o.startStep(), o.steps(), o.rows(), List.copyOf(trainee.evals), beta);
        } finally {
            policy.weights().setRequiresGradient(false);
            critic.weights().setRequiresGradient(false);
        }
    }

    /** One PPO update (steps 1–8) and its evaluation, for the {@link TrainingLoop}. */
    private final class Trainee implements TrainingLoop.Trainee {
        private final AdamW policyOpt;
        private final AdamW criticOpt;
        private final Updater policyUpdater;
        private final Updater criticUpdater;
        private final List<Evaluation> evals = new ArrayList<>();

        Trainee(AdamW policyOpt, AdamW criticOpt, Updater policyUpdater, Updater criticUpdater) {
            this.policyOpt = policyOpt;
            this.criticOpt = criticOpt;
            this.policyUpdater = policyUpdater;
            this.criticUpdater = criticUpdater;
        }

        @Override
        public void restore(Path dir, TrainerState state, boolean withOptimizer) throws IOException {
            Checkpoints.restoreLm(dir, policy, withOptimizer ? policyOpt : null);
            Checkpoints.restoreScalar(dir.resolve(CRITIC_DIR), critic, withOptimizer ? criticOpt : null);
            beta = state.extra().get("kl_coef").asDouble();
        }

        @Override
        public Map<String, Double> step(TrainingLoop.Step step) {
            return update(step.step(), step.indices(), policyUpdater, criticUpdater);
        }

        @Override
        public Map<String, Double> evaluate(long done, TrainingLoop.Logs logs) throws IOException {
            if (evalPrompts.isEmpty()) {
                return Map.of();
            }
            Evaluation e = PpoTrainer.this.evaluate(evalPrompts, done);
            evals.add(e);
            logs.eval(e);
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("eval/score", e.score());
            row.put("eval/kl", e.kl());
            row.put("eval/length", e.length());
            row.put("eval/eos_fraction", e.eosFraction());
            return row;
        }

        @Override
        public void save(Path dir, boolean withOptimizer, SaveOptions weights) throws IOException {
            policy.save(dir, weights);
            tokenizer.save(dir);
            Path c = Files.createDirectories(dir.resolve(CRITIC_DIR));
            critic.save(c, weights);
            tokenizer.save(c);
            if (withOptimizer) {
                policyOpt.save(dir.resolve(Checkpoint.OPTIMIZER_FILE));
                criticOpt.save(c.resolve(Checkpoint.OPTIMIZER_FILE));
            }
        }

        @Override
        public Map<String, JsonNode> extraState() {
            return Map.of("kl_coef", Json.MAPPER.valueToTree(beta));
        }

        @Override
        public Map<String, org.rlhf4j.core.lora.LoraConfig> adapters() {
            return org.rlhf4j.algorithms.common.Adapters.of(Map.of("policy", policy, "critic", critic));
        }
    }

    private Map<String, Double> update(long u, int[] idx, Updater policyUpdater, Updater criticUpdater) {
        PhaseTimes times = new PhaseTimes();
        int batchSize = config.batchSize();
        // 1.–3. generate (with resets when the strategy asks for them), score, rollout log-probs, reference
        //       log-probs and values: the collector
        List<Encoded.PromptOnly> batchPrompts = new ArrayList<>(batchSize);
        for (int i : idx) {
            batchPrompts.add(prompts.get(i));
        }
        RolloutBatch d = collector.collect(batchPrompts, u, true, Seeds.derive(config.seed(), u, GEN_STREAM),
                times);
        int[][] mask = d.batch().responseMask();
        // 4. per-token KL and rewards: r_t = −β·kl_t, plus the score at the last real token
        float[][] kl = perTokenKl(d);
        float[][] rewards = PpoLosses.rewards(kl, d.scores(), mask, beta);
        // 5. optional reward whitening (TRL: shift_mean = False)
        if (config.whitenRewards()) {
            // differs from TRL: whitened over the real tokens; TRL's mask reaches one position further
            // (~padding_mask_p1), where it put the score
            rewards = whiten(rewards, mask, false);
        }
        // 6. GAE, returns, advantage whitening over real tokens (TRL: masked_whiten(advantages, ~padding_mask))
        PpoLosses.Advantages gae = PpoLosses.gae(rewards, d.values(), mask, config.gamma(), config.lambda());
        // differs from TRL: whitenAdvantages = false keeps the raw scale (sparse 0/1 rewards: an all-success batch
        // stays ≈ 0); TRL always whitens
        float[][] advantages = config.whitenAdvantages() ? whiten(gae.advantages(), mask, true) : gae.advantages();
        // 7. PPO epochs × minibatches (seeded permutation per epoch)
        Stats stats = new Stats();
        int mini = config.miniBatchSize();
        long trainStart = System.nanoTime();
        for (int epoch = 0; epoch < config.ppoEpochs(); epoch++) {
            int[] perm = permutation(batchSize, Seeds.derive(config.seed(), u * 1_000L + epoch, MINIBATCH_STREAM));
            for (int off = 0; off < batchSize; off += mini) {
                int[] rows = Arrays.copyOfRange(perm, off, off + mini);
                double loss = minibatchGradients(d, advantages, gae.returns(), rows, stats);
                // differs from TRL: two optimizers, each with its own AdamW state, gradient clipping and
                // non-finite guard, for policy and critic; TRL steps one optimizer over its PolicyAndValueWrapper
                // (without clipping); the learning rate decays per optimizer step, TRL's once per update
                Updater.Result pu = policyUpdater.step(policy.weights(), loss);
                Updater.Result cu = criticUpdater.step(critic.weights(), loss);
                stats.policyGradNorm += pu.gradNorm();
                stats.criticGradNorm += cu.gradNorm();
                stats.optimizerSteps++;
                stats.lr = pu.lr();
                stats.skipped += pu.skipped() ? 1 : 0;
            }
        }
        times.add(PhaseTimes.Phase.TRAIN, trainStart);
        // 8. adaptive KL controller
        double meanKl = meanRowSum(kl);
        double betaUsed = beta;
        if (config.adaptiveKl() != null) {
            // differs from TRL: Ziegler's controller is optional here; TRL's PPOTrainer keeps kl_coef fixed
            beta = config.adaptiveKl().update(beta, meanKl, batchSize);
        }
        Map<String, Double> row = metrics(u, d, stats, meanKl, betaUsed);
        // time/generate, time/score, time/forward, time/train, time/update (seconds, wall clock)
        row.putAll(times.metrics());
        return row;
    }

    /** Returns the collector of steps 1–3 (tests). */
    RolloutCollector collector() {
        return collector;
    }

    /** Step 4's per-token KL estimates k1 or k3 of log π_old against log π_ref, 0 at padding. */
    private float[][] perTokenKl(RolloutBatch d) {
        int[][] mask = d.batch().responseMask();
        int width = d.batch().responseWidth();
        float[][] kl = new float[d.size()][width];
        for (int b = 0; b < d.size(); b++) {
            for (int t = 0; t < width; t++) {
                kl[b][t] = mask[b][t] == 1
                        ? (float) PpoLosses.kl(d.logprobs()[b][t], d.refLogprobs()[b][t], config.klEstimator())
                        : 0f;
            }
        }
        return kl;
    }

    /** One update's metrics row; every statistic is over real tokens only. */
    private Map<String, Double> metrics(long u, RolloutBatch d, Stats stats, double meanKl, double betaUsed) {
        int batchSize = d.size();
        Map<String, Double> row = new LinkedHashMap<>();
        double nonScore = -betaUsed * meanKl;
        double meanScore = mean(d.scores());
        int eos = 0;
        for (boolean e : d.hasEos()) {
            eos += e ? 1 : 0;
        }
        row.put("objective/kl", meanKl);
        // differs from TRL: the exact entropy Σ_t H(π_old(·|s_t)); TRL logs Σ_t −log π_old(y_t) of the sampled tokens
        row.put("objective/entropy", mean(d.entropySum()));
        row.put("objective/non_score_reward", nonScore);
        row.put("objective/rlhf_reward", meanScore + nonScore);
        row.put("objective/scores", meanScore);
        row.put("objective/kl_coef", betaUsed);
        // differs from TRL: the policy/*, loss/* and val/* statistics are token-weighted means over the update's
        // real (policy: generated) tokens; TRL averages per-micro-batch means, and its approxkl, ratio and entropy
        // means include padding
        row.put("policy/approxkl_avg", stats.approxKl / stats.pgTokens);
        row.put("policy/clipfrac_avg", stats.clipFrac / stats.pgTokens);
        // not in TRL: the share of tokens whose ratio left [1 − ε, 1 + ε], whether or not the clip bound the loss
        row.put("policy/ratio_outside_clip_avg", stats.ratioOutsideClip / stats.pgTokens);
        row.put("policy/entropy_avg", stats.entropy / stats.pgTokens);
        row.put("loss/policy_avg", stats.pgLoss / stats.pgTokens);
        row.put("loss/value_avg", stats.vfLoss / stats.vTokens);
        row.put("val/clipfrac_avg", stats.vfClipFrac / stats.vTokens);
        row.put("val/ratio", stats.ratio / stats.pgTokens);
        // differs from TRL: responses that end with EOS; TRL counts EOS tokens in the untruncated responses
        row.put("val/num_eos_tokens", (double) eos);
        row.put("val/mean_length", (double) d.batch().responseTokens() / batchSize);
        row.put("lr", stats.lr);
        row.put("episode", (double) (u + 1) * batchSize);
        row.put("train/skipped", (double) stats.skipped);
        // mean global gradient norms (before clipping) over the update's K × minibatch optimizer steps
        row.put("policy/grad_norm_avg", stats.policyGradNorm / Math.max(1, stats.optimizerSteps));
        row.put("val/grad_norm_avg", stats.criticGradNorm / Math.max(1, stats.optimizerSteps));
        if (reset != ResetStrategy.NONE) {
            int resets = 0;
            long forcedTokens = 0;
            for (int[] f : d.forcedMask()) {
                int n = 0;
                for (int v : f) {
                    n += v;
                }
                resets += n > 0 ? 1 : 0;
                forcedTokens += n;
            }
            row.put("reset/fraction", (double) resets / batchSize);
            row.put("reset/mean_prefix_length", resets == 0 ? 0.0 : (double) forcedTokens / resets);
        }
        // only with RewardSource.Functions: rewards/<name>/mean, rewards/<name>/std of the raw function scores
        row.putAll(d.rewardMetrics());
        return row;
    }

    /** Accumulators of one update's training statistics (sums over tokens). */
    static final class Stats {
        double pgLoss;
        double vfLoss;
        double clipFrac;
        double ratioOutsideClip;
        double vfClipFrac;
        double approxKl;
        double entropy;
        double ratio;
        double pgTokens;
        double vTokens;
        double lr;
        int skipped;
        double policyGradNorm;
        double criticGradNorm;
        int optimizerSteps;
    }

    /**
     * Forward/backward of one minibatch in micro-batches (step 7); leaves the gradients in the policy and critic
     * weights. The loss is L = Σ L_pg / N_pg + c_vf Σ L_V / N_V − c_ent Σ H / N_pg with N the minibatch's token
     * counts, so the micro-batch split does not change it.
     *
     * @return the minibatch loss
     */
    double minibatchGradients(RolloutBatch d, float[][] advantages, float[][] returns, int[] rows, Stats stats) {
        int width = d.batch().responseWidth();
        long pgTokens = 0;
        long vTokens = 0;
        for (int r : rows) {
            for (int t = 0; t < width; t++) {
                vTokens += d.batch().responseMask()[r][t];
                // DR-PO (not in TRL): forced tokens get no policy gradient
                pgTokens += d.pgMask()[r][t];
            }
        }
        double pgDen = Math.max(1, pgTokens);
        double vDen = Math.max(1, vTokens);
        double lossTotal = 0;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int off = 0; off < rows.length; off += config.microBatchSize()) {
                int[] part = Arrays.copyOfRange(rows, off, Math.min(rows.length, off + config.microBatchSize()));
                try (NDManager m = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = d.batch().select(part).toTensors(m);
                    Sequences.Result cur = Sequences.responseLogprobs(policy, t, config.temperature(), true);
                    NDArray v = RolloutCollector.criticValues(critic, t);
                    NDArray pgMask = RolloutBatch.tensor(m, d.pgMask(), part);
                    NDArray old = RolloutBatch.tensor(m, d.logprobs(), part);
                    NDArray adv = RolloutBatch.tensor(m, advantages, part);
                    NDArray ret = RolloutBatch.tensor(m, returns, part);
                    NDArray oldV = RolloutBatch.tensor(m, d.values(), part);
                    PpoLosses.PolicyTerms pt = PpoLosses.policy(cur.logprobs(), old, adv, pgMask, config.clipRange());
                    // differs from TRL: the value loss covers the real tokens; TRL's ~padding_mask_p1 adds the
                    // position after the last one, where it put the score
                    PpoLosses.ValueTerms vt = PpoLosses.value(v, oldV, ret, t.responseMask(), config.clipRangeValue());
                    NDArray entSum = TensorOps.maskedSum(cur.entropy(), pgMask);
                    // differs from TRL: masked sums over the minibatch's token counts; TRL takes a masked mean per
                    // micro-batch and averages those over gradient accumulation
                    NDArray loss = TensorOps.div(pt.loss(), pgDen).add(TensorOps.mul(vt.loss(), config.vfCoef() / vDen));
                    if (config.entCoef() > 0) {
                        // differs from TRL: an optional entropy bonus (TRL's PPOTrainer has none)
                        loss = loss.sub(TensorOps.mul(entSum, config.entCoef() / pgDen));
                    }
                    gc.backward(loss);
                    lossTotal += loss.getFloat();
                    stats.pgLoss += pt.loss().getFloat();
                    stats.vfLoss += vt.loss().getFloat();
                    stats.clipFrac += pt.clipFrac().getFloat();
                    stats.ratioOutsideClip += pt.ratioOutsideClip().getFloat();
                    stats.vfClipFrac += vt.clipFrac().getFloat();
                    stats.approxKl += pt.approxKl().getFloat();
                    stats.ratio += pt.ratio().getFloat();
                    stats.entropy += entSum.getFloat();
                }
            }
        }
        stats.pgTokens += pgTokens;
        stats.vTokens += vTokens;
        return lossTotal;
    }

    /**
     * Evaluates the policy from the prompt (never with resets): sampled at τ, scored like training.
     *
     * @param data prompts
     * @param step the update to label the result with
     * @return the evaluation
     */
    public Evaluation evaluate(List<Encoded.PromptOnly> data, long step) {
        double score = 0;
        double kl = 0;
        double length = 0;
        int eos = 0;
        for (int off = 0; off < data.size(); off += config.batchSize()) {
            List<Encoded.PromptOnly> part = data.subList(off, Math.min(data.size(), off + config.batchSize()));
            // differs from TRL: sampled at τ; TRL's generate_completions samples at temperature 0.01
            RolloutBatch d = collector.collect(part, step, false, Seeds.derive(config.seed(), off, EVAL_STREAM));
            for (int b = 0; b < part.size(); b++) {
                score += d.scores()[b];
                for (int t = 0; t < d.batch().responseWidth(); t++) {
                    if (d.batch().responseMask()[b][t] == 1) {
                        kl += d.logprobs()[b][t] - d.refLogprobs()[b][t];
                        length++;
                    }
                }
                eos += d.hasEos()[b] ? 1 : 0;
            }
        }
        int n = data.size();
        return new Evaluation(step, score / n, kl / n, length / n, (double) eos / n, n);
    }

    private float[][] whiten(float[][] x, int[][] mask, boolean shiftMean) {
        try (NDManager m = policy.manager().newSubManager();
                NDScope scope = new NDScope()) {
            NDArray w = TensorOps.whiten(m.create(x), m.create(mask).toType(DataType.FLOAT32, false), shiftMean);
            float[] flat = w.toFloatArray();
            float[][] out = new float[x.length][];
            int width = x.length == 0 ? 0 : x[0].length;
            for (int b = 0; b < x.length; b++) {
                out[b] = Arrays.copyOfRange(flat, b * width, (b + 1) * width);
            }
            return out;
        }
    }

    private static int[] permutation(int n, long seed) {
        int[] p = RolloutCollector.range(0, n);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    private static double meanRowSum(float[][] x) {
        double s = 0;
        for (float[] row : x) {
            for (float v : row) {
                s += v;
            }
        }
        return s / x.length;
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    private static double mean(float[] x) {
        double s = 0;
        for (float v : x) {
            s += v;
        }
        return s / x.length;
    }

    /** Builder of {@link PpoTrainer}. */
    public static final class Builder extends PolicyReferenceBuilder<Builder> {
        private PpoConfig config;
        private String algorithm = "ppo";
        private ScalarModel critic;
        private RewardSource reward;
        private List<Encoded.PromptOnly> prompts;
        private List<Encoded.PromptOnly> evalPrompts;
        private ResetStrategy reset;
        private Object provenanceConfig;

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
        public Builder setConfig(PpoConfig c) {
            this.config = c;
            return this;
        }

        /**
         * Sets the critic (trained in place; the references initialise it from the reward model).
         *
         * @param c critic
         * @return this
         */
        public Builder setCritic(ScalarModel c) {
            this.critic = c;
            return this;
        }

        /**
         * Sets the reward source.
         *
         * @param r reward source
         * @return this
         */
        public Builder setReward(RewardSource r) {
            this.reward = r;
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
         * Sets held-out prompts for evaluation.
         *
         * @param p prompts
         * @return this
         */
        public Builder optEvalPrompts(List<Encoded.PromptOnly> p) {
            this.evalPrompts = p;
            return this;
        }

        /**
         * Sets the reset strategy (DR-PO); default none.
         *
         * @param r strategy
         * @return this
         */
        public Builder optReset(ResetStrategy r) {
            this.reset = r;
            return this;
        }

        /**
         * Sets the algorithm name written to checkpoints, metrics and progress (default {@code ppo}).
         *
         * @param name the name
         * @return this
         */
        public Builder optAlgorithm(String name) {
            this.algorithm = name;
            return this;
        }

        /**
         * Sets the configuration recorded in provenance (default: the PPO config).
         *
         * @param c the config object
         * @return this
         */
        public Builder optProvenanceConfig(Object c) {
            this.provenanceConfig = c;
            return this;
        }

        /**
         * Builds the trainer.
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required value is missing (the message names it), there are no
         *     training prompts, or the reference is the policy itself
         */
        public PpoTrainer build() {
            required("config", config).and("policy", policy).and("reference", reference).and("critic", critic)
                    .and("reward", reward).and("tokenizer", tokenizer).and("prompts", prompts).check();
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("no training prompts");
            }
            checkSeparateReference();
            checkCommon();
            return new PpoTrainer(this);
        }
    }
}
