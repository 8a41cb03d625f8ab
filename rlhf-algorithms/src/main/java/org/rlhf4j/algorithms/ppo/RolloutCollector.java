package org.rlhf4j.algorithms.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.common.PhaseTimes;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardInput;
import org.rlhf4j.algorithms.rewards.RewardModelFn;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.Seeds;
import org.rlhf4j.datasets.task.Encoded;

/**
 * Steps 1–3 of a PPO update (numbered as in {@link PpoTrainer}): generates responses, teacher-forcing a reset prefix
 * when asked (DR-PO), scores them, and computes rollout log-probs, reference log-probs and critic values, all without
 * gradients, into one {@link RolloutBatch}. Training and evaluation collect the same way.
 */
final class RolloutCollector {

    private final PpoConfig config;
    private final CausalLm policy;
    private final CausalLm reference;
    private final ScalarModel critic;
    private final RewardSource reward;
    private final Tokenizer tokenizer;
    private final ResetStrategy reset;

    RolloutCollector(PpoConfig config, CausalLm policy, CausalLm reference, ScalarModel critic, RewardSource reward,
            Tokenizer tokenizer, ResetStrategy reset) {
        this.config = config;
        this.policy = policy;
        this.reference = reference;
        this.critic = critic;
        this.reward = reward;
        this.tokenizer = tokenizer;
        this.reset = reset;
    }

    /**
     * Generates, scores and evaluates one batch of rollouts (steps 1–3).
     *
     * @param prompts the prompts, one row each
     * @param u the update (seeds the resets)
     * @param withResets whether to apply the reset strategy (never for evaluation)
     * @param genSeed seed of the generation stream
     * @return the rollout batch
     */
    RolloutBatch collect(List<Encoded.PromptOnly> prompts, long u, boolean withResets, long genSeed) {
        return collect(prompts, u, withResets, genSeed, new PhaseTimes());
    }

    /**
     * Generates, scores and evaluates one batch of rollouts (steps 1–3), adding each step's wall time to
     * {@code times} (generate, score, forward).
     *
     * @param prompts the prompts, one row each
     * @param u the update (seeds the resets)
     * @param withResets whether to apply the reset strategy (never for evaluation)
     * @param genSeed seed of the generation stream
     * @param times the update's phase timer
     * @return the rollout batch
     */
    RolloutBatch collect(List<Encoded.PromptOnly> prompts, long u, boolean withResets, long genSeed,
            PhaseTimes times) {
        long t0 = System.nanoTime();
        int n = prompts.size();
        int eos = tokenizer.eosTokenId();
        // 1. generate: exactly responseLength tokens at τ, truncated after the first EOS; a reset teacher-forces a
        //    prefix of the prompt's reference
        List<int[]> queries = new ArrayList<>(n);
        List<int[]> forced = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Encoded.PromptOnly p = prompts.get(i);
            queries.add(p.query().ids());
            int[] prefix = new int[0];
            if (withResets && reset != ResetStrategy.NONE) {
                // each sample's reset stream is derived from (seed, update, sample): independent of generation
                SplittableRandom rng = new SplittableRandom(
                        Seeds.derive(Seeds.derive(config.seed(), u, PpoTrainer.RESET_STREAM), i, 0));
                prefix = reset.prefix(p, rng);
            }
            forced.add(prefix);
        }
        GenerationConfig g = GenerationConfig.builder(config.responseLength(), eos).setTemperature(config.temperature())
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
        Rollout r = Generator.generate(policy, queries, forced, g, genSeed);
        t0 = times.add(PhaseTimes.Phase.GENERATE, t0);
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

        // 2. score the whole response (forced prefix included) at its last real token (as TRL's get_reward)
        Map<String, Double> rewardMetrics = new LinkedHashMap<>();
        double[] scores = score(reward, batch, prompts, queries, responses, rewardMetrics);
        t0 = times.add(PhaseTimes.Phase.SCORE, t0);
        if (config.noEosScore() != null) {
            for (int b = 0; b < n; b++) {
                if (!hasEos[b]) {
                    // differs from TRL: the score is replaced by noEosScore (N+ details, TRL's former
                    // non_eos_penalty); TRL's PPOTrainer now subtracts missing_eos_penalty from it
                    scores[b] = config.noEosScore();
                }
            }
        }

        // 3. rollout log-probs log π_old, reference log-probs log π_ref and values V_old, 0 at padding
        float[][] logprobs = new float[n][];
        float[][] refLogprobs = new float[n][];
        float[][] values = new float[n][];
        float[] entropySum = new float[n];
        for (int off = 0; off < n; off += config.microBatchSize()) {
            int[] part = range(off, Math.min(n, off + config.microBatchSize()));
            try (NDManager m = policy.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.select(part).toTensors(m);
                // differs from TRL: log π_old comes from a forward pass over the sampled tokens, not from the
                // sampler's logits as in TRL (and both divide z by τ, where TRL divides by τ + 1e-7)
                Sequences.Result cur = Sequences.responseLogprobs(policy, t, config.temperature(), true);
                NDArray ref = Sequences.responseLogprobs(reference, t, config.temperature(), false).logprobs();
                NDArray v = criticValues(critic, t);
                float[] lp = TensorOps.where(t.responseMask(), cur.logprobs()).toFloatArray();
                float[] refLp = TensorOps.where(t.responseMask(), ref).toFloatArray();
                float[] val = TensorOps.where(t.responseMask(), v).toFloatArray();
                float[] ent = TensorOps.where(t.responseMask(), cur.entropy()).sum(new int[] {1}).toFloatArray();
                for (int k = 0; k < part.length; k++) {
                    logprobs[part[k]] = Arrays.copyOfRange(lp, k * width, (k + 1) * width);
                    refLogprobs[part[k]] = Arrays.copyOfRange(refLp, k * width, (k + 1) * width);
                    values[part[k]] = Arrays.copyOfRange(val, k * width, (k + 1) * width);
                    entropySum[part[k]] = ent[k];
                }
            }
        }
        times.add(PhaseTimes.Phase.FORWARD, t0);
        return RolloutBatch.of(batch, queries, responses, forcedMask, logprobs, refLogprobs, values, entropySum,
                scores, hasEos, rewardMetrics);
    }

    /**
     * Scores a batch with a reward source: a reward model read at each response's last real token, a function, a
     * weighted sum of sources, or reward functions (whose per-function metrics go to {@code metrics}). Every
     * permitted {@link RewardSource} has its branch; an unknown one is an error.
     */
    private double[] score(RewardSource source, ResponseBatch batch, List<Encoded.PromptOnly> prompts,
            List<int[]> queries, List<int[]> responses, Map<String, Double> metrics) {
        int n = queries.size();
        if (source instanceof RewardSource.Model rm) {
            return new RewardModelFn(RewardModelFn.DEFAULT_NAME, rm.model(), tokenizer.eosTokenId(),
                    config.microBatchSize()).scoreBatch(batch);
        } else if (source instanceof RewardSource.Function f) {
            double[] s = f.function().score(queries, responses);
            if (s.length != n) {
                throw new IllegalStateException("reward function returned " + s.length + " scores for " + n + " responses");
            }
            return s;
        } else if (source instanceof RewardSource.Weighted w) {
            double[] out = new double[n];
            for (int k = 0; k < w.sources().size(); k++) {
                double[] s = score(w.sources().get(k), batch, prompts, queries, responses, metrics);
                for (int i = 0; i < n; i++) {
                    out[i] += w.weights().get(k) * s[i];
                }
            }
            return out;
        } else if (source instanceof RewardSource.Functions fns) {
            List<RewardInput> inputs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                // PPO's prompts carry no row fields; the prompt text is the query's source text
                inputs.add(new RewardInput(prompts.get(i).query().text(), tokenizer.decode(responses.get(i), true),
                        Map.of(), queries.get(i), responses.get(i)));
            }
            CompositeReward.Scores s = fns.reward().score(inputs);
            for (int i = 0; i < n; i++) {
                if (!s.scorable(i)) {
                    throw new IllegalStateException("every reward function " + s.names() + " returned null for response "
                            + i + " of prompt '" + prompts.get(i).id() + "'; PPO needs a score for every response");
                }
            }
            Map<String, Double> m = s.metrics();
            m.remove("reward");
            m.remove("reward_std");
            metrics.putAll(m);
            return s.total();
        }
        // RewardSource is sealed: a new permitted type must get its branch above
        throw new IllegalStateException("unhandled reward source " + source.getClass().getName());
    }

    /**
     * Critic values at the positions that predict response tokens (the state before each response token).
     *
     * @param critic the critic
     * @param t the batch tensors
     * @return {@code [B, T_r]} values
     */
    static NDArray criticValues(ScalarModel critic, ResponseBatch.Tensors t) {
        long width = t.responseIds().getShape().get(1);
        int q = t.queryWidth();
        NDArray h = critic.hidden(t.ids(), t.mask()).get(new NDIndex(":, " + (q - 1) + ":" + (q - 1 + width) + ", :"));
        return critic.head(h);
    }

    static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }
}
