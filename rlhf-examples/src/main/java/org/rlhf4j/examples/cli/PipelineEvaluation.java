package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.algorithms.eval.GroundingJudge;
import org.rlhf4j.algorithms.eval.HallucinationRate;
import org.rlhf4j.algorithms.eval.Interval;
import org.rlhf4j.algorithms.eval.PolicyEvaluation;
import org.rlhf4j.algorithms.eval.PolicyEvaluator;
import org.rlhf4j.algorithms.eval.PolicyFlag;
import org.rlhf4j.algorithms.eval.RewardModelJudge;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.Presets;

/**
 * Evaluates every trained policy of a pipeline the same way: greedy summaries of held-out prompts, scored by the
 * pipeline's reward model, compared with the human reference by the reward-model judge, KL to the SFT policy; with
 * a grounding judge also the hallucination rate.
 */
final class PipelineEvaluation {

    private PipelineEvaluation() {}

    /**
     * One row of the results table.
     *
     * @param policy policy name (its stage)
     * @param rmScore mean reward-model score of its summaries with PPO's rule (a summary without EOS scores −1)
     * @param rmScoreRaw mean reward-model score of its summaries as written
     * @param referenceRmScore mean reward-model score of the human references
     * @param klToSft mean Σ_t log π − log π_SFT over sampled summaries (τ = 0.7)
     * @param winRate win rate against the references by the reward-model judge (ties ½)
     * @param winRateCi95 its 95 % Wilson interval, ties ½ ({@link org.rlhf4j.algorithms.eval.WinRate.Result#ci95()})
     * @param flags what is broken in its summaries ({@link EvaluationChecks})
     * @param meanLength mean summary length in tokens
     * @param referenceMeanLength mean length of the human references in tokens
     * @param eosFraction fraction of summaries ending with EOS
     * @param rouge1 ROUGE-1 F1 against the references
     * @param sample one summary, for reading
     * @param full the evaluator's whole result
     * @param hallucination share of summaries with a claim the post does not support, with its 95 % interval, by
     *     the grounding judge ({@code pipeline --grounding}); null (and absent from pipeline.json) without one
     */
    record Row(String policy, double rmScore, double rmScoreRaw, double referenceRmScore, double klToSft, double winRate,
            @JsonProperty("win_rate_ci95") Interval winRateCi95, List<PolicyFlag> flags, double meanLength,
            double referenceMeanLength, double eosFraction, double rouge1, String sample, PolicyEvaluation full,
            @JsonInclude(JsonInclude.Include.NON_NULL) HallucinationRate.Result hallucination) {}

    /**
     * The evaluation: the table and the size of what was evaluated.
     *
     * @param rows one per policy, in order
     * @param modelType the policies' architecture ({@code model_type})
     * @param layers their layers
     * @param hiddenSize their width
     * @param policyParameters parameters of each policy (the SFT model's count; every policy starts from it)
     * @param rewardModelParameters parameters of the reward model
     * @param prompts held-out prompts asked for (each policy may skip some; see its {@code full.skipped})
     */
    record Result(List<Row> rows, String modelType, int layers, int hiddenSize, long policyParameters,
            long rewardModelParameters, int prompts) {}

    static Result run(Path stagesRoot, List<String> policies, String preset, int limit, String device, PrintWriter err,
            GroundingJudge grounding) throws Exception {
        Presets p = Presets.named(preset);
        Path sft = stagesRoot.resolve("sft").resolve("model");
        // held-out prompts of the preset's data: the bundled valid split, or the downloaded one for gpt2 / pythia
        List<PromptRow> prompts = DataSource.parse(p.data()).builtIn().promptRows("valid");
        prompts = prompts.subList(0, Math.min(limit, prompts.size()));
        List<Row> rows = new ArrayList<>();
        ModelConfig cfg;
        long policyParameters;
        long rmParameters;
        try (NDManager m = NDManager.newBaseManager(ModelOptions.DeviceOption.parse(device));
                Tokenizer tok = Checkpoint.tokenizerFor(sft);
                CausalLm reference = org.rlhf4j.algorithms.common.Adapters.load(sft, m);
                ScalarModel rm = org.rlhf4j.algorithms.common.Adapters.loadScalar(stagesRoot.resolve("reward").resolve("model"), m, 0)) {
            cfg = reference.config();
            // a LoRA stage's model: the base's parameters plus the adapter's (what the model computes with)
            policyParameters = reference.weights().count() + (reference instanceof org.rlhf4j.core.lora.LoraModel l
                    ? l.base().weights().count() : 0);
            rmParameters = rm.weights().count() + rm.base().map(b -> b.weights().count()).orElse(0L);
            TldrTask task = new TldrTask(tok, p.task());
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).build();
            for (String name : policies) {
                err.println("pipeline: evaluating " + name + " on " + prompts.size() + " held-out prompts");
                try (NDManager pm = m.newSubManager();
                        CausalLm policy = org.rlhf4j.algorithms.common.Adapters.load(stagesRoot.resolve(name).resolve("model"), pm)) {
                    PolicyEvaluator.Builder b = PolicyEvaluator.builder().setPolicy(policy).setTask(task)
                            .setPrompts(prompts).optName(name).optRewardModel(rm).optReferencePolicy(reference)
                            .optJudge(judge).optTemperature(0.0).optKlTemperature(p.ppo().temperature())
                            .optMaxNewTokens(p.ppo().responseLength()).optSeed(1).optNumSamples(3)
                            .optGroundingJudge(grounding);
                    if (p.ppo().noEosScore() != null) {
                        b.optNoEosScore(p.ppo().noEosScore());
                    }
                    PolicyEvaluation e = b.build().evaluate();
                    rows.add(new Row(name, orNaN(e.rmScoreNoEosPenalized()), orNaN(e.rmScore()),
                            orNaN(e.opponentRmScore()), orNaN(e.kl()),
                            e.winRate() == null ? Double.NaN : e.winRate().winRate(),
                            e.winRate() == null ? new Interval(Double.NaN, Double.NaN) : e.winRate().ci95(),
                            EvaluationChecks.check(e).flags(), e.meanLength(), orNaN(e.referenceMeanLength()),
                            e.eosFraction(), e.rouge() == null ? Double.NaN : e.rouge().rouge1(),
                            e.samples().isEmpty() ? "" : e.samples().get(0).summary(), e, e.hallucination()));
                }
            }
        }
        return new Result(rows, cfg.modelType(), cfg.numLayers(), cfg.hiddenSize(), policyParameters, rmParameters,
                prompts.size());
    }

    private static double orNaN(Double d) {
        return d == null ? Double.NaN : d;
    }
}
