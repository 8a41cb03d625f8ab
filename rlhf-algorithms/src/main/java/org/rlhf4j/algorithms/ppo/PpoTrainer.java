package org.rlhf4j.algorithms.ppo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.common.Checkpoints;
import org.rlhf4j.algorithms.common.DataStream;
import org.rlhf4j.algorithms.common.ProgressListener;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.core.checkpoint.AtomicDirectory;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.checkpoint.Provenance;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.MetricsSink;
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
 * Padding never enters a loss or a statistic: every sum is masked. Forced tokens (DR-PO) are scored, KL-penalised and
 * valued, but excluded from the policy loss.
 */
public final class PpoTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(PpoTrainer.class);

    static final long GEN_STREAM = 101;
    static final long RESET_STREAM = 102;
    static final long MINIBATCH_STREAM = 103;
    static final long EVAL_STREAM = 104;

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

    /** Rollout data of one update, rows aligned with {@code batch}. */
    record RolloutData(
            ResponseBatch batch,
            List<int[]> queries,
            List<int[]> responses,
            int[][] forcedMask,
            float[][] oldLogprobs,
            float[][] refLogprobs,
            float[][] values,
            float[] entropySum,
            double[] scores,
            boolean[] hasEos) {}

    private final PpoConfig config;
    private final String algorithm;
    private final CausalLm policy;
    private final CausalLm reference;
    private final ScalarModel critic;
    private final RewardSource reward;
    private final Tokenizer tokenizer;
    private final List<Encoded.PromptOnly> prompts;
    private final List<Encoded.PromptOnly> evalPrompts;
    private final ResetStrategy reset;
    private final RunDir runDir;
    private final MetricsSink metrics;
    private final ProgressListener progress;
    private final String dataId;
    private final String command;
    private final Object provenanceConfig;
    private final long stopAfter;
    private double beta;

    private PpoTrainer(Builder b) {
        this.config = b.config;
        this.algorithm = b.algorithm;
        this.policy = b.policy;
        this.reference = b.reference;
        this.critic = b.critic;
        this.reward = b.reward;
        this.tokenizer = b.tokenizer;
        this.prompts = List.copyOf(b.prompts);
        this.evalPrompts = b.evalPrompts == null ? List.of() : List.copyOf(b.evalPrompts);
        this.reset = b.reset == null ? ResetStrategy.NONE : b.reset;
        this.runDir = b.runDir();
        this.metrics = b.metricsOrNone();
        this.progress = b.progressOrNone();
        this.dataId = b.dataIdOrUnspecified();
        this.command = b.command();
        this.provenanceConfig = b.provenanceConfig == null ? b.config : b.provenanceConfig;
        this.stopAfter = b.stopAfter();
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
     * Trains (resuming from the run directory's checkpoint when there is one).
     * The run directory is owned for the whole run (its {@code model.lock}): a second trainer on it fails at once,
     * and only this run recovers or replaces its checkpoint. A checkpoint is never written from non-finite weights.
     *
     * @return what the run did
     * @throws org.rlhf4j.core.train.Updater.NonFiniteException when training diverges (the message names the update
     *     and the first non-finite parameter); the last checkpoint is left as it was
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run directory
     * @throws IOException when a checkpoint or log cannot be written or read
     */
    public Result train() throws IOException {
        try (AtomicDirectory.Lock owner = runDir == null ? null : runDir.lock()) {
            return trainOwned();
        }
    }

    private Result trainOwned() throws IOException {
        long total = config.numUpdates();
        long optimizerSteps = total * config.ppoEpochs() * config.numMiniBatches();
        policy.weights().setRequiresGradient(true);
        critic.weights().setRequiresGradient(true);
        AdamW policyOpt = config.optimizer().newOptimizer(policy.weights());
        AdamW criticOpt = config.optimizer().newOptimizer(critic.weights());
        try {
            Updater policyUpdater = config.optimizer().newUpdater("policy", policyOpt, optimizerSteps);
            Updater criticUpdater = config.optimizer().newUpdater("critic", criticOpt, optimizerSteps);
            long start = 0;
            if (runDir != null && runDir.hasCheckpoint()) {
                TrainerState st = Checkpoints.state(runDir.model(), algorithm);
                if (st.seed() != config.seed()) {
                    throw new IllegalArgumentException("checkpoint " + runDir.model() + " was trained with seed "
                            + st.seed() + " but the config says " + config.seed());
                }
                Checkpoints.restoreLm(runDir.model(), policy.weights(), policyOpt);
                Checkpoints.restoreScalar(runDir.model().resolve("critic"), critic.weights(), criticOpt);
                beta = st.extra().get("kl_coef").asDouble();
                start = st.step();
                LOG.info("resuming {} from {} at update {}/{}", algorithm, runDir.model(), start, total);
            }
            MetricsSink sink = metrics;
            if (runDir != null) {
                runDir.create();
                sink = MetricsSink.tee(metrics, new MetricsSink.Jsonl(runDir.metrics(), start == 0 ? -1 : start));
            }
            DataStream stream = new DataStream(prompts.size(), config.seed());
            List<Map<String, Double>> history = new ArrayList<>();
            List<Evaluation> evals = new ArrayList<>();
            long end = stopAfter > 0 ? Math.min(total, stopAfter) : total;
            try {
                for (long u = start; u < end; u++) {
                    Map<String, Double> row = update(u, stream, policyUpdater, criticUpdater);
                    long done = u + 1;
                    if (((config.evalSteps() > 0 && done % config.evalSteps() == 0) || done == total)
                            && !evalPrompts.isEmpty()) {
                        Evaluation e = evaluate(evalPrompts, done);
                        evals.add(e);
                        row.put("eval/score", e.score());
                        row.put("eval/kl", e.kl());
                        row.put("eval/length", e.length());
                        row.put("eval/eos_fraction", e.eosFraction());
                    }
                    history.add(row);
                    sink.log(done, row);
                    progress.onStep(algorithm, done, total, row);
                    if ((config.saveSteps() > 0 && done % config.saveSteps() == 0) || done == total
                            || done == end) {
                        saveCheckpoint(done, policyOpt, criticOpt);
                    }
                }
            } finally {
                if (runDir != null) {
                    sink.close();
                }
            }
            return new Result(start, end, List.copyOf(history), List.copyOf(evals), beta);
        } finally {
            policy.weights().setRequiresGradient(false);
            critic.weights().setRequiresGradient(false);
            policyOpt.close();
            criticOpt.close();
        }
    }

    private Map<String, Double> update(long u, DataStream stream, Updater policyUpdater, Updater criticUpdater) {
        int batchSize = config.batchSize();
        // 1. generate (with resets when the strategy asks for them)
        int[] idx = stream.indices(u, batchSize);
        List<Encoded.PromptOnly> batchPrompts = new ArrayList<>(batchSize);
        for (int i : idx) {
            batchPrompts.add(prompts.get(i));
        }
        RolloutData d = collect(batchPrompts, u, true, Seeds.derive(config.seed(), u, GEN_STREAM));
        int[][] mask = d.batch().responseMask();
        int width = d.batch().responseWidth();
        // 4. per-token KL and rewards
        float[][] kl = new float[batchSize][width];
        for (int b = 0; b < batchSize; b++) {
            for (int t = 0; t < width; t++) {
                kl[b][t] = mask[b][t] == 1
                        ? (float) PpoLosses.kl(d.oldLogprobs()[b][t], d.refLogprobs()[b][t], config.klEstimator())
                        : 0f;
            }
        }
        float[][] rewards = PpoLosses.rewards(kl, d.scores(), mask, beta);
        // 5. optional reward whitening (TRL: shift_mean = False)
        if (config.whitenRewards()) {
            rewards = whiten(rewards, mask, false);
        }
        // 6. GAE, returns, advantage whitening over real tokens (TRL: masked_whiten(advantages, ~padding_mask));
        //    whitenAdvantages = false keeps the raw scale (sparse 0/1 rewards: an all-success batch stays ≈ 0)
        PpoLosses.Advantages gae = PpoLosses.gae(rewards, d.values(), mask, config.gamma(), config.lambda());
        float[][] advantages = config.whitenAdvantages() ? whiten(gae.advantages(), mask, true) : gae.advantages();
        // 7. PPO epochs × minibatches
        Stats stats = new Stats();
        int mini = config.miniBatchSize();
        for (int epoch = 0; epoch < config.ppoEpochs(); epoch++) {
            int[] perm = permutation(batchSize, Seeds.derive(config.seed(), u * 1_000L + epoch, MINIBATCH_STREAM));
            for (int off = 0; off < batchSize; off += mini) {
                int[] rows = java.util.Arrays.copyOfRange(perm, off, off + mini);
                double loss = minibatchGradients(d, advantages, gae.returns(), rows, stats);
                Updater.Result pu = policyUpdater.step(policy.weights(), loss);
                criticUpdater.step(critic.weights(), loss);
                stats.lr = pu.lr();
                stats.skipped += pu.skipped() ? 1 : 0;
            }
        }
        // 8. adaptive KL controller
        double meanKl = meanRowSum(kl);
        double betaUsed = beta;
        if (config.adaptiveKl() != null) {
            beta = config.adaptiveKl().update(beta, meanKl, batchSize);
        }
        // metrics: every statistic over real tokens only
        Map<String, Double> row = new LinkedHashMap<>();
        double nonScore = -betaUsed * meanKl;
        double meanScore = mean(d.scores());
        int eos = 0;
        for (boolean e : d.hasEos()) {
            eos += e ? 1 : 0;
        }
        row.put("objective/kl", meanKl);
        row.put("objective/entropy", mean(d.entropySum()));
        row.put("objective/non_score_reward", nonScore);
        row.put("objective/rlhf_reward", meanScore + nonScore);
        row.put("objective/scores", meanScore);
        row.put("objective/kl_coef", betaUsed);
        row.put("policy/approxkl_avg", stats.approxKl / stats.pgTokens);
        row.put("policy/clipfrac_avg", stats.clipFrac / stats.pgTokens);
        row.put("policy/entropy_avg", stats.entropy / stats.pgTokens);
        row.put("loss/policy_avg", stats.pgLoss / stats.pgTokens);
        row.put("loss/value_avg", stats.vfLoss / stats.vTokens);
        row.put("val/clipfrac_avg", stats.vfClipFrac / stats.vTokens);
        row.put("val/ratio", stats.ratio / stats.pgTokens);
        row.put("val/num_eos_tokens", (double) eos);
        row.put("val/mean_length", (double) d.batch().responseTokens() / batchSize);
        row.put("lr", stats.lr);
        row.put("episode", (double) (u + 1) * batchSize);
        row.put("train/skipped", (double) stats.skipped);
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
        return row;
    }

    /** Accumulators of one update's training statistics (sums over tokens). */
    static final class Stats {
        double pgLoss;
        double vfLoss;
        double clipFrac;
        double vfClipFrac;
        double approxKl;
        double entropy;
        double ratio;
        double pgTokens;
        double vTokens;
        double lr;
        int skipped;
    }

    /**
     * Forward/backward of one minibatch in micro-batches; leaves the gradients in the policy and critic weights.
     * The loss is L = Σ L_pg / N_pg + c_vf Σ L_V / N_V − c_ent Σ H / N_pg with N the minibatch's token counts, so the
     * micro-batch split does not change it.
     *
     * @return the minibatch loss
     */
    double minibatchGradients(RolloutData d, float[][] advantages, float[][] returns, int[] rows, Stats stats) {
        int width = d.batch().responseWidth();
        long pgTokens = 0;
        long vTokens = 0;
        for (int r : rows) {
            for (int t = 0; t < width; t++) {
                vTokens += d.batch().responseMask()[r][t];
                pgTokens += d.batch().responseMask()[r][t] * (1 - d.forcedMask()[r][t]);
            }
        }
        double pgDen = Math.max(1, pgTokens);
        double vDen = Math.max(1, vTokens);
        double lossTotal = 0;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int off = 0; off < rows.length; off += config.microBatchSize()) {
                int[] part = java.util.Arrays.copyOfRange(rows, off, Math.min(rows.length, off + config.microBatchSize()));
                try (NDManager m = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = d.batch().select(part).toTensors(m);
                    Sequences.Result cur = Sequences.responseLogprobs(policy, t, config.temperature(), true);
                    NDArray v = criticValues(t);
                    NDArray pgMask = m.create(rowsOf(pgMask(d), part)).toType(DataType.FLOAT32, false);
                    NDArray old = m.create(rowsOf(d.oldLogprobs(), part));
                    NDArray adv = m.create(rowsOf(advantages, part));
                    NDArray ret = m.create(rowsOf(returns, part));
                    NDArray oldV = m.create(rowsOf(d.values(), part));
                    PpoLosses.PolicyTerms pt = PpoLosses.policy(cur.logprobs(), old, adv, pgMask, config.clipRange());
                    PpoLosses.ValueTerms vt = PpoLosses.value(v, oldV, ret, t.responseMask(), config.clipRangeValue());
                    NDArray entSum = TensorOps.maskedSum(cur.entropy(), pgMask);
                    NDArray loss = TensorOps.div(pt.loss(), pgDen).add(TensorOps.mul(vt.loss(), config.vfCoef() / vDen));
                    if (config.entCoef() > 0) {
                        loss = loss.sub(TensorOps.mul(entSum, config.entCoef() / pgDen));
                    }
                    gc.backward(loss);
                    lossTotal += loss.getFloat();
                    stats.pgLoss += pt.loss().getFloat();
                    stats.vfLoss += vt.loss().getFloat();
                    stats.clipFrac += pt.clipFrac().getFloat();
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

    private static int[][] pgMask(RolloutData d) {
        int[][] m = d.batch().responseMask();
        int[][] out = new int[m.length][];
        for (int b = 0; b < m.length; b++) {
            out[b] = new int[m[b].length];
            for (int t = 0; t < m[b].length; t++) {
                out[b][t] = m[b][t] * (1 - d.forcedMask()[b][t]);
            }
        }
        return out;
    }

    /** Critic values at the positions that predict response tokens (the state before each response token). */
    private NDArray criticValues(ResponseBatch.Tensors t) {
        long width = t.responseIds().getShape().get(1);
        int q = t.queryWidth();
        NDArray h = critic.hidden(t.ids(), t.mask()).get(new NDIndex(":, " + (q - 1) + ":" + (q - 1 + width) + ", :"));
        return critic.head(h);
    }

    /**
     * Generates and scores responses and computes rollout log-probs, reference log-probs and values (steps 1–3).
     *
     * @param batchPrompts the prompts
     * @param u the update (seeds resets)
     * @param withResets whether to apply the reset strategy
     * @param genSeed seed of the generation stream
     * @return the rollout data
     */
    RolloutData collect(List<Encoded.PromptOnly> batchPrompts, long u, boolean withResets, long genSeed) {
        int n = batchPrompts.size();
        int eos = tokenizer.eosTokenId();
        List<int[]> queries = new ArrayList<>(n);
        List<int[]> forced = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Encoded.PromptOnly p = batchPrompts.get(i);
            queries.add(p.query().ids());
            int[] prefix = new int[0];
            if (withResets && reset != ResetStrategy.NONE) {
                // each sample's reset stream is derived from (seed, update, sample): independent of generation
                SplittableRandom rng = new SplittableRandom(Seeds.derive(Seeds.derive(config.seed(), u, RESET_STREAM), i, 0));
                prefix = reset.prefix(p, rng);
            }
            forced.add(prefix);
        }
        GenerationConfig g = GenerationConfig.builder(config.responseLength(), eos).setTemperature(config.temperature())
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
        Rollout r = Generator.generate(policy, queries, forced, g, genSeed);
        List<int[]> responses = new ArrayList<>(n);
        boolean[] hasEos = new boolean[n];
        for (int b = 0; b < n; b++) {
            responses.add(r.response(b));
            hasEos[b] = r.hasEos(b, eos);
        }
        ResponseBatch batch = ResponseBatch.of(queries, responses, eos);
        int width = batch.responseWidth();
        int[][] forcedMask = new int[n][width];
        for (int b = 0; b < n; b++) {
            System.arraycopy(r.forcedMask()[b], 0, forcedMask[b], 0, width);
        }
        float[][] old = new float[n][];
        float[][] ref = new float[n][];
        float[][] values = new float[n][];
        float[] entropy = new float[n];
        for (int off = 0; off < n; off += config.microBatchSize()) {
            int[] part = range(off, Math.min(n, off + config.microBatchSize()));
            try (NDManager m = policy.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.select(part).toTensors(m);
                Sequences.Result cur = Sequences.responseLogprobs(policy, t, config.temperature(), true);
                NDArray refLp = Sequences.responseLogprobs(reference, t, config.temperature(), false).logprobs();
                NDArray v = criticValues(t);
                NDArray ent = TensorOps.where(t.responseMask(), cur.entropy()).sum(new int[] {1});
                NDArray zeroedOld = TensorOps.where(t.responseMask(), cur.logprobs());
                NDArray zeroedRef = TensorOps.where(t.responseMask(), refLp);
                NDArray zeroedV = TensorOps.where(t.responseMask(), v);
                for (int k = 0; k < part.length; k++) {
                    old[part[k]] = zeroedOld.get(k).toFloatArray();
                    ref[part[k]] = zeroedRef.get(k).toFloatArray();
                    values[part[k]] = zeroedV.get(k).toFloatArray();
                    entropy[part[k]] = ent.getFloat(k);
                }
            }
        }
        double[] scores = scores(reward, batch, queries, responses);
        if (config.noEosScore() != null) {
            for (int b = 0; b < n; b++) {
                if (!hasEos[b]) {
                    scores[b] = config.noEosScore();
                }
            }
        }
        return new RolloutData(batch, queries, responses, forcedMask, old, ref, values, entropy, scores, hasEos);
    }

    private double[] scores(RewardSource source, ResponseBatch batch, List<int[]> queries, List<int[]> responses) {
        int n = queries.size();
        if (source instanceof RewardSource.Function f) {
            double[] s = f.function().score(queries, responses);
            if (s.length != n) {
                throw new IllegalStateException("reward function returned " + s.length + " scores for " + n + " responses");
            }
            return s;
        }
        if (source instanceof RewardSource.Model rm) {
            double[] out = new double[n];
            for (int off = 0; off < n; off += config.microBatchSize()) {
                int[] part = range(off, Math.min(n, off + config.microBatchSize()));
                try (NDManager m = rm.model().manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = batch.select(part).toTensors(m);
                    float[] s = rm.model().score(t.ids(), t.mask()).toFloatArray();
                    for (int k = 0; k < part.length; k++) {
                        out[part[k]] = s[k];
                    }
                }
            }
            return out;
        }
        RewardSource.Weighted w = (RewardSource.Weighted) source;
        double[] out = new double[n];
        for (int k = 0; k < w.sources().size(); k++) {
            double[] s = scores(w.sources().get(k), batch, queries, responses);
            for (int i = 0; i < n; i++) {
                out[i] += w.weights().get(k) * s[i];
            }
        }
        return out;
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
            RolloutData d = collect(part, step, false, Seeds.derive(config.seed(), off, EVAL_STREAM));
            for (int b = 0; b < part.size(); b++) {
                score += d.scores()[b];
                for (int t = 0; t < d.batch().responseWidth(); t++) {
                    if (d.batch().responseMask()[b][t] == 1) {
                        kl += d.oldLogprobs()[b][t] - d.refLogprobs()[b][t];
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
                out[b] = java.util.Arrays.copyOfRange(flat, b * width, (b + 1) * width);
            }
            return out;
        }
    }

    private void saveCheckpoint(long step, AdamW policyOpt, AdamW criticOpt) throws IOException {
        if (runDir == null) {
            return;
        }
        TrainerState st = new TrainerState(algorithm, step, 0, config.seed(), step * config.batchSize(),
                Map.of("kl_coef", Json.MAPPER.valueToTree(beta)));
        Provenance prov = Provenance.capture(algorithm, config.seed(), dataId, provenanceConfig, command);
        AtomicDirectory.write(runDir.model(), dir -> {
            policy.save(dir);
            tokenizer.save(dir);
            st.write(dir);
            policyOpt.save(dir.resolve(Checkpoint.OPTIMIZER_FILE));
            prov.write(dir);
            Path c = Files.createDirectories(dir.resolve("critic"));
            critic.save(c);
            tokenizer.save(c);
            criticOpt.save(c.resolve(Checkpoint.OPTIMIZER_FILE));
        });
    }

    private static int[] permutation(int n, long seed) {
        int[] p = range(0, n);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    private static float[][] rowsOf(float[][] a, int[] rows) {
        float[][] out = new float[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            out[k] = a[rows[k]];
        }
        return out;
    }

    private static int[][] rowsOf(int[][] a, int[] rows) {
        int[][] out = new int[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            out[k] = a[rows[k]];
        }
        return out;
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
    public static final class Builder extends TrainerBuilder<Builder> {
        private PpoConfig config;
        private String algorithm = "ppo";
        private CausalLm policy;
        private CausalLm reference;
        private ScalarModel critic;
        private RewardSource reward;
        private Tokenizer tokenizer;
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
         * Sets the policy (trained in place; usually the SFT model).
         *
         * @param p policy
         * @return this
         */
        public Builder setPolicy(CausalLm p) {
            this.policy = p;
            return this;
        }

        /**
         * Sets the frozen reference policy π_ref (usually a copy of the SFT model).
         *
         * @param r reference
         * @return this
         */
        public Builder setReference(CausalLm r) {
            this.reference = r;
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
         * Sets the tokenizer.
         *
         * @param t tokenizer
         * @return this
         */
        public Builder setTokenizer(Tokenizer t) {
            this.tokenizer = t;
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
         */
        public PpoTrainer build() {
            if (config == null || policy == null || reference == null || critic == null || reward == null
                    || tokenizer == null || prompts == null) {
                throw new IllegalArgumentException(
                        "config, policy, reference, critic, reward, tokenizer and prompts are required");
            }
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("no training prompts");
            }
            if (policy == reference) {
                throw new IllegalArgumentException("the reference must be a separate (frozen) copy of the policy");
            }
            checkCommon();
            return new PpoTrainer(this);
        }
    }
}
