package org.rlhf4j.algorithms.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardInput;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;

/**
 * Sampling for critic-free online RL (GRPO, RLOO): G completions of each prompt, laid out consecutively (rows
 * {@code p·G .. p·G + G − 1} belong to prompt p, as TRL repeats each prompt G times), scored by a
 * {@link CompositeReward}.
 */
public final class GroupRollouts {

    private GroupRollouts() {}

    /**
     * One generation batch.
     *
     * @param batch the (query, completion) rows, queries left-padded, completions right-padded and truncated after
     *     the first EOS (EOS kept)
     * @param prompts the prompt of each row
     * @param completions each row's completion ids (unpadded)
     * @param truncated whether a row ended without EOS (it hit the completion-length limit)
     * @param scores the reward functions' scores (per function and combined; NaN where none applied)
     */
    public record Batch(ResponseBatch batch, List<Encoded.PromptOnly> prompts, List<int[]> completions,
            boolean[] truncated, CompositeReward.Scores scores) {

        /**
         * Returns the number of completions.
         *
         * @return B = prompts × G
         */
        public int size() {
            return completions.size();
        }

        /**
         * Returns the share of completions cut at the length limit (TRL's {@code completions/clipped_ratio}).
         *
         * @return a share in [0, 1]
         */
        public double clippedRatio() {
            int n = 0;
            for (boolean t : truncated) {
                n += t ? 1 : 0;
            }
            return (double) n / truncated.length;
        }

        /**
         * Returns the completion lengths in tokens (EOS included).
         *
         * @return one length per row
         */
        public double[] lengths() {
            double[] out = new double[completions.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = completions.get(i).length;
            }
            return out;
        }
    }

    /**
     * Generates G completions of each prompt and scores them.
     *
     * @param policy the policy (sampled without gradients)
     * @param tokenizer decodes prompts and completions for the reward functions; its EOS id pads
     * @param prompts the prompts
     * @param fields each prompt's row fields passed to the reward functions (e.g. {@code answer})
     * @param numGenerations G
     * @param generation sampling settings (EOS stops a row)
     * @param seed the generation stream's seed
     * @param reward the reward functions
     * @return the batch
     */
    public static Batch collect(CausalLm policy, Tokenizer tokenizer, List<Encoded.PromptOnly> prompts,
            Function<Encoded.PromptOnly, Map<String, Object>> fields, int numGenerations, GenerationConfig generation,
            long seed, CompositeReward reward) {
        return collect(policy, tokenizer, prompts, fields, numGenerations, generation, seed, reward, new PhaseTimes());
    }

    /**
     * Generates G completions of each prompt and scores them, adding the sampling time to {@code time/generate} and
     * the reward functions' (decoding included) to {@code time/score}.
     *
     * @param policy the policy (sampled without gradients)
     * @param tokenizer decodes prompts and completions for the reward functions; its EOS id pads
     * @param prompts the prompts
     * @param fields each prompt's row fields passed to the reward functions (e.g. {@code answer})
     * @param numGenerations G
     * @param generation sampling settings (EOS stops a row)
     * @param seed the generation stream's seed
     * @param reward the reward functions
     * @param times the update's phase timer
     * @return the batch
     */
    public static Batch collect(CausalLm policy, Tokenizer tokenizer, List<Encoded.PromptOnly> prompts,
            Function<Encoded.PromptOnly, Map<String, Object>> fields, int numGenerations, GenerationConfig generation,
            long seed, CompositeReward reward, PhaseTimes times) {
        if (numGenerations < 1) {
            throw new IllegalArgumentException("numGenerations must be >= 1, got " + numGenerations);
        }
        int eos = tokenizer.eosTokenId();
        List<Encoded.PromptOnly> rows = new ArrayList<>(prompts.size() * numGenerations);
        List<int[]> queries = new ArrayList<>(rows.size());
        for (Encoded.PromptOnly p : prompts) {
            for (int g = 0; g < numGenerations; g++) {
                rows.add(p);
                queries.add(p.query().ids());
            }
        }
        long t0 = System.nanoTime();
        Rollout r = Generator.generate(policy, queries, null, generation, seed);
        t0 = times.add(PhaseTimes.Phase.GENERATE, t0);
        List<int[]> completions = new ArrayList<>(rows.size());
        boolean[] truncated = new boolean[rows.size()];
        List<Map<String, Object>> rowFields = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            completions.add(r.response(i));
            truncated[i] = !r.hasEos(i, eos); // TRL: is_truncated = no EOS among the completion's tokens
            rowFields.add(fields.apply(rows.get(i)));
        }
        CompositeReward.Scores scores = reward.score(RewardInput.batch(tokenizer, queries, completions, rowFields));
        times.add(PhaseTimes.Phase.SCORE, t0);
        return new Batch(ResponseBatch.of(queries, completions, eos), List.copyOf(rows), List.copyOf(completions),
                truncated, scores);
    }

    /**
     * A greedy evaluation on held-out prompts.
     *
     * @param step the update after which it ran
     * @param reward mean combined reward (completions no function applied to skipped)
     * @param rewards mean score per reward function
     * @param meanLength mean completion length in tokens
     * @param prompts number of prompts
     */
    public record Evaluation(long step, double reward, Map<String, Double> rewards, double meanLength, int prompts) {

        /**
         * Returns the evaluation as metrics: {@code eval/reward}, {@code eval/rewards/<name>/mean},
         * {@code eval/completions/mean_length}.
         *
         * @return name to value, in that order
         */
        public Map<String, Double> metrics() {
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("eval/reward", reward);
            rewards.forEach((name, v) -> row.put("eval/rewards/" + name + "/mean", v));
            row.put("eval/completions/mean_length", meanLength);
            return row;
        }
    }

    /**
     * Evaluates a policy greedily: one completion per prompt (at most {@code maxCompletionLength} tokens), scored by
     * the reward functions.
     *
     * @param policy the policy
     * @param tokenizer its tokenizer
     * @param data the prompts
     * @param fields each prompt's row fields
     * @param reward the reward functions
     * @param maxCompletionLength the completion budget
     * @param chunk prompts per generation call
     * @param step the update to label the result with
     * @return the evaluation
     */
    public static Evaluation evaluateGreedy(CausalLm policy, Tokenizer tokenizer, List<Encoded.PromptOnly> data,
            Function<Encoded.PromptOnly, Map<String, Object>> fields, CompositeReward reward, int maxCompletionLength,
            int chunk, long step) {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("no prompts to evaluate");
        }
        GenerationConfig greedy = GenerationConfig.greedy(maxCompletionLength, tokenizer.eosTokenId());
        List<String> names = reward.names();
        double[] total = new double[data.size()];
        double[][] per = new double[names.size()][data.size()];
        double length = 0;
        for (int off = 0; off < data.size(); off += Math.max(1, chunk)) {
            List<Encoded.PromptOnly> part = data.subList(off, Math.min(data.size(), off + Math.max(1, chunk)));
            Batch g = collect(policy, tokenizer, part, fields, 1, greedy, 0, reward);
            for (int i = 0; i < part.size(); i++) {
                total[off + i] = g.scores().total()[i];
                for (int j = 0; j < names.size(); j++) {
                    per[j][off + i] = g.scores().perFunction()[j][i];
                }
                length += g.completions().get(i).length;
            }
        }
        Map<String, Double> means = new LinkedHashMap<>();
        for (int j = 0; j < names.size(); j++) {
            means.put(names.get(j), CompositeReward.nanMean(per[j]));
        }
        return new Evaluation(step, CompositeReward.nanMean(total), means, length / data.size(), data.size());
    }

    /**
     * Per-token log-probabilities of a batch's completions under a model at temperature τ, without gradients, 0 at
     * padding, in micro-batches.
     *
     * @param model the model (policy at generation time, or the reference)
     * @param batch the rows
     * @param temperature τ (log-probs from z/τ, as at sampling)
     * @param microBatch rows per forward
     * @return {@code [B][T]} log-probs
     */
    public static float[][] logprobs(CausalLm model, ResponseBatch batch, double temperature, int microBatch) {
        int n = batch.size();
        float[][] out = new float[n][];
        for (int off = 0; off < n; off += microBatch) {
            int[] rows = new int[Math.min(n, off + microBatch) - off];
            for (int k = 0; k < rows.length; k++) {
                rows[k] = off + k;
            }
            try (NDManager m = model.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.select(rows).toTensors(m);
                NDArray lp = TensorOps.where(t.responseMask(),
                        Sequences.responseLogprobs(model, t, temperature, false).logprobs().stopGradient());
                for (int k = 0; k < rows.length; k++) {
                    out[rows[k]] = lp.get(k).toFloatArray();
                }
            }
        }
        return out;
    }
}
