package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.algorithms.sft.SftTrainer;
import org.rlhf4j.core.io.Json;

/**
 * What a training stage reports: the typed form of the JSON object its command prints ({@link #toMap()}, which
 * {@link Rlhf4jCli#runExample(String...)} returns) and writes as the pipeline's {@code summary.json}. The pipeline
 * reads these records, not the printed line; {@link #read(String, JsonNode)} reads a finished stage's
 * {@code summary.json} back, older ones included (a field they lack is null).
 */
public sealed interface StageResult permits StageResult.Sft, StageResult.Reward, StageResult.Ppo, StageResult.Dpo,
        StageResult.Online {

    /**
     * Returns the stage name.
     *
     * @return {@code sft}, {@code reward}, {@code ppo}, {@code drpo} or {@code dpo}
     */
    String stage();

    /**
     * Returns the saved model directory.
     *
     * @return the path, as printed
     */
    String model();

    /**
     * Returns what the stage's rows are.
     *
     * @return {@code samples}, {@code pairs} or {@code prompts}
     */
    String unit();

    /**
     * Returns the training rows kept after encoding.
     *
     * @return the count, or null when the summary does not have it
     */
    Integer trainRows();

    /**
     * Returns the held-out rows it was evaluated on (the reward model: its pooled held-out pairs).
     *
     * @return the count, or null when unknown
     */
    Integer evalRows();

    /**
     * Returns the summary as the command prints it: a map in field order, absent values left out.
     *
     * @return the map
     */
    Map<String, Object> toMap();

    /**
     * Reads a stage's {@code summary.json}.
     *
     * @param stage the stage name ({@code sft}, {@code reward}, {@code ppo}, {@code drpo}, {@code dpo})
     * @param n the parsed file
     * @return the result
     * @throws IllegalArgumentException when the stage is unknown
     * @throws JsonProcessingException when an evaluation in it is malformed
     */
    static StageResult read(String stage, JsonNode n) throws JsonProcessingException {
        Objects.requireNonNull(n, "n");
        return switch (stage) {
            case "sft" -> Sft.read(n);
            case "reward" -> Reward.read(n);
            case "ppo", "drpo" -> Ppo.read(stage, n);
            case "dpo" -> Dpo.read(n);
            case "grpo", "rloo" -> Online.read(stage, n);
            default -> throw new IllegalArgumentException("unknown stage '" + stage
                    + "' (sft, reward, ppo, drpo, dpo, grpo, rloo)");
        };
    }

    private static Integer intOrNull(JsonNode n) {
        return n.isNumber() ? n.asInt() : null;
    }

    private static Double doubleOrNull(JsonNode n) {
        return n.isNumber() ? n.asDouble() : null;
    }

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) {
                m.put((String) keysAndValues[i], keysAndValues[i + 1]);
            }
        }
        return m;
    }

    /**
     * The SFT stage.
     *
     * @param model the saved model
     * @param steps updates completed
     * @param trainSamples training samples
     * @param evalSamples held-out samples
     * @param evalLossBefore held-out loss before training
     * @param evalLoss held-out loss after the last evaluation, or null when none ran
     * @param evalPerplexity its perplexity, or null
     */
    record Sft(String model, long steps, Integer trainSamples, Integer evalSamples, Double evalLossBefore,
            Double evalLoss, Double evalPerplexity) implements StageResult {

        /**
         * Returns the result of a run.
         *
         * @param model the saved model
         * @param r the trainer's result
         * @param before the evaluation before training
         * @param trainSamples training samples
         * @param evalSamples held-out samples
         * @return the result
         */
        static Sft of(String model, SftTrainer.Result r, SftTrainer.Evaluation before, int trainSamples,
                int evalSamples) {
            SftTrainer.Evaluation last = r.evaluations().isEmpty() ? null
                    : r.evaluations().get(r.evaluations().size() - 1);
            return new Sft(model, r.steps(), trainSamples, evalSamples, before.loss(),
                    last == null ? null : last.loss(), last == null ? null : last.perplexity());
        }

        static Sft read(JsonNode n) {
            return new Sft(n.path("model").asText(), n.path("steps").asLong(), intOrNull(n.path("train_samples")),
                    intOrNull(n.path("eval_samples")), doubleOrNull(n.path("eval_loss_before")),
                    doubleOrNull(n.path("eval_loss")), doubleOrNull(n.path("eval_perplexity")));
        }

        @Override
        public String stage() {
            return "sft";
        }

        @Override
        public String unit() {
            return "samples";
        }

        @Override
        public Integer trainRows() {
            return trainSamples;
        }

        @Override
        public Integer evalRows() {
            return evalSamples;
        }

        @Override
        public Map<String, Object> toMap() {
            return map("stage", stage(), "model", model, "steps", steps, "train_samples", trainSamples,
                    "eval_samples", evalSamples, "eval_loss_before", evalLossBefore, "eval_loss", evalLoss,
                    "eval_perplexity", evalPerplexity);
        }
    }

    /**
     * The reward-model stage.
     *
     * @param model the saved model
     * @param steps updates completed
     * @param trainPairs training pairs
     * @param eval per evaluation set, the final evaluation
     * @param heldout the held-out sets pooled
     * @param referenceMeanBefore mean reference score before the normalisation, or null without one
     * @param referenceMeanAfter after it, or null
     */
    record Reward(String model, long steps, Integer trainPairs, Map<String, SetEvaluation> eval, Heldout heldout,
            Double referenceMeanBefore, Double referenceMeanAfter) implements StageResult {

        /**
         * Evaluation sets pooled into {@link #heldout()}: the held-out comparison splits (bundled and full: valid1,
         * valid2; a file given with {@code --eval-data}: eval). The bundled {@code confidence*} sets come from
         * OpenAI's batch18, which may overlap training, and are reported per confidence only.
         */
        static final List<String> HELDOUT_SETS = List.of("valid1", "valid2", "eval");

        /**
         * The final evaluation on one set.
         *
         * @param accuracy fraction of pairs ranked right
         * @param margin mean score margin
         * @param pairs pairs
         */
        record SetEvaluation(double accuracy, double margin, int pairs) {}

        /**
         * The held-out sets pooled.
         *
         * @param sets the sets of {@link #HELDOUT_SETS} that were evaluated
         * @param correct pairs ranked right
         * @param pairs pairs
         */
        record Heldout(List<String> sets, int correct, int pairs) {

            /**
             * Returns the accuracy.
             *
             * @return correct / pairs, or null without pairs
             */
            Double accuracy() {
                return pairs == 0 ? null : (double) correct / pairs;
            }
        }

        /**
         * Copies the parts.
         *
         * @param model model
         * @param steps steps
         * @param trainPairs training pairs
         * @param eval evaluations
         * @param heldout pooled held-out
         * @param referenceMeanBefore mean before
         * @param referenceMeanAfter mean after
         */
        public Reward {
            eval = Collections.unmodifiableMap(new LinkedHashMap<>(eval));
            Objects.requireNonNull(heldout, "heldout");
        }

        /**
         * Returns the result of a run: the evaluations of the last step, the held-out sets pooled.
         *
         * @param model the saved model
         * @param r the trainer's result
         * @param trainPairs training pairs
         * @return the result
         */
        static Reward of(String model, RewardTrainer.Result r, int trainPairs) {
            Map<String, SetEvaluation> evals = new LinkedHashMap<>();
            for (RewardTrainer.Evaluation e : r.evaluations()) {
                if (e.step() == r.steps()) {
                    evals.put(e.set(), new SetEvaluation(e.accuracy(), e.margin(), e.pairs()));
                }
            }
            return new Reward(model, r.steps(), trainPairs, evals, pool(evals),
                    r.normalization() == null ? null : r.normalization().meanBefore(),
                    r.normalization() == null ? null : r.normalization().meanAfter());
        }

        /** Pools the sets of {@link #HELDOUT_SETS}, in evaluation order. */
        private static Heldout pool(Map<String, SetEvaluation> evals) {
            int correct = 0;
            int pairs = 0;
            List<String> sets = new ArrayList<>();
            for (Map.Entry<String, SetEvaluation> e : evals.entrySet()) {
                if (HELDOUT_SETS.contains(e.getKey())) {
                    sets.add(e.getKey());
                    correct += (int) Math.round(e.getValue().accuracy() * e.getValue().pairs());
                    pairs += e.getValue().pairs();
                }
            }
            return new Heldout(List.copyOf(sets), correct, pairs);
        }

        /**
         * Reads a summary: its {@code heldout} entry, or for a summary written before that entry existed, the sets
         * of {@link #HELDOUT_SETS} in {@code eval} pooled.
         */
        static Reward read(JsonNode n) {
            Map<String, SetEvaluation> evals = new LinkedHashMap<>();
            n.path("eval").fields().forEachRemaining(e -> evals.put(e.getKey(), new SetEvaluation(
                    e.getValue().path("accuracy").asDouble(), e.getValue().path("margin").asDouble(),
                    e.getValue().path("pairs").asInt())));
            JsonNode h = n.path("heldout");
            Heldout heldout;
            if (h.path("pairs").asInt() > 0) {
                List<String> sets = new ArrayList<>();
                h.path("sets").forEach(s -> sets.add(s.asText()));
                heldout = new Heldout(List.copyOf(sets), h.path("correct").asInt(), h.path("pairs").asInt());
            } else {
                heldout = pool(evals);
            }
            return new Reward(n.path("model").asText(), n.path("steps").asLong(), intOrNull(n.path("train_pairs")),
                    evals, heldout, doubleOrNull(n.path("reference_mean_before")),
                    doubleOrNull(n.path("reference_mean_after")));
        }

        /**
         * Returns the pooled held-out accuracy as the evaluation checks take it.
         *
         * @return the accuracy, or null without held-out pairs
         */
        EvaluationChecks.JudgeAccuracy heldoutAccuracy() {
            return heldout.pairs() == 0 ? null
                    : new EvaluationChecks.JudgeAccuracy("reward model", heldout.correct(), heldout.pairs());
        }

        @Override
        public String stage() {
            return "reward";
        }

        @Override
        public String unit() {
            return "pairs";
        }

        @Override
        public Integer trainRows() {
            return trainPairs;
        }

        @Override
        public Integer evalRows() {
            return heldout.pairs() == 0 ? null : heldout.pairs();
        }

        @Override
        public Map<String, Object> toMap() {
            Map<String, Object> evals = new LinkedHashMap<>();
            eval.forEach((set, e) -> evals.put(set, map("accuracy", e.accuracy(), "margin", e.margin(), "pairs",
                    e.pairs())));
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("sets", heldout.sets());
            h.put("correct", heldout.correct());
            h.put("pairs", heldout.pairs());
            h.put("accuracy", heldout.accuracy());
            return map("stage", stage(), "model", model, "steps", steps, "train_pairs", trainPairs, "eval", evals,
                    "heldout", h, "reference_mean_before", referenceMeanBefore, "reference_mean_after",
                    referenceMeanAfter);
        }
    }

    /**
     * The PPO or DR-PO stage.
     *
     * @param stage {@code ppo} or {@code drpo}
     * @param model the saved model
     * @param updates updates completed
     * @param trainPrompts training prompts
     * @param evalPrompts held-out prompts
     * @param evalBefore held-out evaluation before training, or null when the summary lacks it
     * @param evalAfter after the last evaluation, or null when none ran
     * @param klCoef the KL coefficient at the end
     * @param betaMix DR-PO's reset probability, or null for PPO
     * @param resetSource DR-PO's reset source, or null for PPO
     */
    record Ppo(String stage, String model, long updates, Integer trainPrompts, Integer evalPrompts,
            PpoTrainer.Evaluation evalBefore, PpoTrainer.Evaluation evalAfter, Double klCoef, Double betaMix,
            String resetSource) implements StageResult {

        /**
         * Returns the result of a run.
         *
         * @param stage {@code ppo} or {@code drpo}
         * @param model the saved model
         * @param r the trainer's result
         * @param before the evaluation before training
         * @param trainPrompts training prompts
         * @param evalPrompts held-out prompts
         * @param betaMix DR-PO's β_mix, or null
         * @param resetSource DR-PO's reset source, or null
         * @return the result
         */
        static Ppo of(String stage, String model, PpoTrainer.Result r, PpoTrainer.Evaluation before, int trainPrompts,
                int evalPrompts, Double betaMix, String resetSource) {
            return new Ppo(stage, model, r.steps(), trainPrompts, evalPrompts, before,
                    r.evaluations().isEmpty() ? null : r.evaluations().get(r.evaluations().size() - 1), r.klCoef(),
                    betaMix, resetSource);
        }

        static Ppo read(String stage, JsonNode n) throws JsonProcessingException {
            return new Ppo(stage, n.path("model").asText(), n.path("updates").asLong(),
                    intOrNull(n.path("train_prompts")), intOrNull(n.path("eval_prompts")), evaluation(n.path("eval_before")),
                    evaluation(n.path("eval_after")), doubleOrNull(n.path("kl_coef")), doubleOrNull(n.path("beta_mix")),
                    n.path("reset_source").isTextual() ? n.path("reset_source").asText() : null);
        }

        private static PpoTrainer.Evaluation evaluation(JsonNode n) throws JsonProcessingException {
            return n.isObject() ? Json.MAPPER.treeToValue(n, PpoTrainer.Evaluation.class) : null;
        }

        @Override
        public String unit() {
            return "prompts";
        }

        @Override
        public Integer trainRows() {
            return trainPrompts;
        }

        @Override
        public Integer evalRows() {
            return evalPrompts;
        }

        @Override
        public Map<String, Object> toMap() {
            return map("stage", stage, "model", model, "updates", updates, "train_prompts", trainPrompts,
                    "eval_prompts", evalPrompts, "eval_before", evalBefore, "eval_after", evalAfter, "kl_coef", klCoef,
                    "beta_mix", betaMix, "reset_source", resetSource);
        }
    }

    /**
     * The DPO stage.
     *
     * @param model the saved model
     * @param steps updates completed
     * @param trainPairs training pairs
     * @param evalPairs held-out pairs
     * @param evalLossBefore held-out loss before training
     * @param evalLoss held-out loss after the last evaluation, or null when none ran
     * @param evalAccuracy implicit-reward accuracy, or null
     * @param evalMargin implicit-reward margin, or null
     * @param evalRewardsChosen mean implicit reward of the chosen responses, or null
     * @param evalRewardsRejected of the rejected ones, or null
     */
    record Dpo(String model, long steps, Integer trainPairs, Integer evalPairs, Double evalLossBefore, Double evalLoss,
            Double evalAccuracy, Double evalMargin, Double evalRewardsChosen, Double evalRewardsRejected)
            implements StageResult {

        /**
         * Returns the result of a run.
         *
         * @param model the saved model
         * @param r the trainer's result
         * @param before the evaluation before training
         * @param trainPairs training pairs
         * @param evalPairs held-out pairs
         * @return the result
         */
        static Dpo of(String model, DpoTrainer.Result r, DpoTrainer.Evaluation before, int trainPairs, int evalPairs) {
            DpoTrainer.Evaluation last = r.evaluations().isEmpty() ? null
                    : r.evaluations().get(r.evaluations().size() - 1);
            return new Dpo(model, r.steps(), trainPairs, evalPairs, before.loss(), last == null ? null : last.loss(),
                    last == null ? null : last.accuracy(), last == null ? null : last.margin(),
                    last == null ? null : last.rewardChosen(), last == null ? null : last.rewardRejected());
        }

        static Dpo read(JsonNode n) {
            return new Dpo(n.path("model").asText(), n.path("steps").asLong(), intOrNull(n.path("train_pairs")),
                    intOrNull(n.path("eval_pairs")), doubleOrNull(n.path("eval_loss_before")),
                    doubleOrNull(n.path("eval_loss")), doubleOrNull(n.path("eval_accuracy")),
                    doubleOrNull(n.path("eval_margin")), doubleOrNull(n.path("eval_rewards_chosen")),
                    doubleOrNull(n.path("eval_rewards_rejected")));
        }

        @Override
        public String stage() {
            return "dpo";
        }

        @Override
        public String unit() {
            return "pairs";
        }

        @Override
        public Integer trainRows() {
            return trainPairs;
        }

        @Override
        public Integer evalRows() {
            return evalPairs;
        }

        @Override
        public Map<String, Object> toMap() {
            return map("stage", stage(), "model", model, "steps", steps, "train_pairs", trainPairs, "eval_pairs",
                    evalPairs, "eval_loss_before", evalLossBefore, "eval_loss", evalLoss, "eval_accuracy", evalAccuracy,
                    "eval_margin", evalMargin, "eval_rewards_chosen", evalRewardsChosen, "eval_rewards_rejected",
                    evalRewardsRejected);
        }
    }

    /**
     * A critic-free online RL stage (GRPO, RLOO): greedy held-out rewards before and after.
     *
     * @param stage {@code grpo} or {@code rloo}
     * @param model the saved model
     * @param updates updates completed
     * @param rewardFn the reward functions ({@code NAME[=W],...})
     * @param trainPrompts training prompts
     * @param evalPrompts held-out prompts
     * @param evalRewardBefore mean greedy reward before training
     * @param evalReward mean greedy reward after training
     * @param evalLengthBefore mean greedy completion length before (tokens)
     * @param evalLength mean greedy completion length after
     */
    record Online(String stage, String model, long updates, String rewardFn, Integer trainPrompts, Integer evalPrompts,
            Double evalRewardBefore, Double evalReward, Double evalLengthBefore, Double evalLength)
            implements StageResult {

        static Online read(String stage, JsonNode n) {
            return new Online(stage, n.path("model").asText(), n.path("updates").asLong(),
                    n.path("reward_fn").isTextual() ? n.path("reward_fn").asText() : null,
                    intOrNull(n.path("train_prompts")), intOrNull(n.path("eval_prompts")),
                    doubleOrNull(n.path("eval_reward_before")), doubleOrNull(n.path("eval_reward")),
                    doubleOrNull(n.path("eval_length_before")), doubleOrNull(n.path("eval_length")));
        }

        @Override
        public String unit() {
            return "prompts";
        }

        @Override
        public Integer trainRows() {
            return trainPrompts;
        }

        @Override
        public Integer evalRows() {
            return evalPrompts;
        }

        @Override
        public Map<String, Object> toMap() {
            return map("stage", stage, "model", model, "updates", updates, "reward_fn", rewardFn, "train_prompts",
                    trainPrompts, "eval_prompts", evalPrompts, "eval_reward_before", evalRewardBefore, "eval_reward",
                    evalReward, "eval_length_before", evalLengthBefore, "eval_length", evalLength);
        }
    }
}
