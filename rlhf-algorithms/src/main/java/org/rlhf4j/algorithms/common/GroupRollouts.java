package org.rlhf4j.algorithms.common;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardInput;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
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
        Rollout r = Generator.generate(policy, queries, null, generation, seed);
        List<int[]> completions = new ArrayList<>(rows.size());
        boolean[] truncated = new boolean[rows.size()];
        List<Map<String, Object>> rowFields = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            completions.add(r.response(i));
            truncated[i] = !r.hasEos(i, eos); // TRL: is_truncated = no EOS among the completion's tokens
            rowFields.add(fields.apply(rows.get(i)));
        }
        CompositeReward.Scores scores = reward.score(RewardInput.batch(tokenizer, queries, completions, rowFields));
        return new Batch(ResponseBatch.of(queries, completions, eos), List.copyOf(rows), List.copyOf(completions),
                truncated, scores);
    }
}
