package org.rlhf4j.algorithms.eval;

import java.util.List;
import java.util.Map;

/**
 * What {@link PolicyEvaluator} measured for one policy (or one file of summaries). Metrics that were not requested
 * are null.
 *
 * @param name the policy's name in reports
 * @param prompts prompts evaluated
 * @param skipped prompts skipped, by reason (too long for the task's limits, no reference, no opponent summary)
 * @param temperature sampling temperature of the summaries (0 = greedy), or null for given summaries
 * @param meanLength mean summary length in tokens (EOS included when present)
 * @param eosFraction share of summaries that ended with EOS within the token budget
 * @param referenceMeanLength mean length of the prompts' human reference summaries in tokens, encoded as
 *     {@code " " + text + EOS} (EOS counted, as in {@code meanLength}); the yardstick of
 *     {@link PolicyFlag#LENGTH_COLLAPSE}
 * @param rmScore mean reward-model score of the summaries as written, or null without a reward model
 * @param rmScoreNoEosPenalized mean score with PPO's rule (a summary without EOS scores {@code noEosScore}), or null
 * @param opponentRmScore mean reward-model score of the opponent's summaries (the references by default), or null
 * @param kl mean over prompts of Σ_t (log π(y_t) − log π_ref(y_t)) on samples y ~ π at {@code klTemperature}, or
 *     null without a reference policy
 * @param klTemperature τ of the KL samples and log-probabilities, or null
 * @param rouge mean ROUGE F1 against the reference summaries
 * @param opponent what the summaries were judged against ({@code reference} or a name)
 * @param judge the judge's description, or null without a judge
 * @param winRate win rate against the opponent, or null without a judge
 * @param samples the first few summaries with their reference and verdict
 * @param summaries every evaluated summary, in prompt order
 * @param withoutSummaryMarker for a scaffolded policy ({@code Facts: … Summary: …}), the outputs without the
 *     {@code Summary:} marker (evaluated as written); null when the policy is not scaffolded
 * @param grounding judge the grounding judge's description, or null without one
 * @param hallucination the share of summaries with an unsupported claim, or null without a grounding judge
 * @param groundings the grounding judgement of every summary, in prompt order, or null without a grounding judge
 */
public record PolicyEvaluation(
        String name,
        int prompts,
        Map<String, Integer> skipped,
        Double temperature,
        double meanLength,
        double eosFraction,
        Double referenceMeanLength,
        Double rmScore,
        Double rmScoreNoEosPenalized,
        Double opponentRmScore,
        Double kl,
        Double klTemperature,
        Rouge.Scores rouge,
        String opponent,
        String judge,
        WinRate.Result winRate,
        List<Sample> samples,
        List<Summary> summaries,
        Integer withoutSummaryMarker,
        String groundingJudge,
        HallucinationRate.Result hallucination,
        List<Grounding> groundings) {

    /**
     * An evaluation without scaffold and grounding measurements.
     *
     * @param name name
     * @param prompts prompts
     * @param skipped skipped
     * @param temperature temperature
     * @param meanLength mean length
     * @param eosFraction EOS fraction
     * @param referenceMeanLength reference mean length
     * @param rmScore RM score
     * @param rmScoreNoEosPenalized penalised RM score
     * @param opponentRmScore opponent RM score
     * @param kl KL
     * @param klTemperature KL temperature
     * @param rouge ROUGE
     * @param opponent opponent
     * @param judge judge
     * @param winRate win rate
     * @param samples samples
     * @param summaries summaries
     */
    public PolicyEvaluation(String name, int prompts, Map<String, Integer> skipped, Double temperature,
            double meanLength, double eosFraction, Double referenceMeanLength, Double rmScore,
            Double rmScoreNoEosPenalized, Double opponentRmScore, Double kl, Double klTemperature, Rouge.Scores rouge,
            String opponent, String judge, WinRate.Result winRate, List<Sample> samples, List<Summary> summaries) {
        this(name, prompts, skipped, temperature, meanLength, eosFraction, referenceMeanLength, rmScore,
                rmScoreNoEosPenalized, opponentRmScore, kl, klTemperature, rouge, opponent, judge, winRate, samples,
                summaries, null, null, null, null);
    }

    /**
     * A sample summary for reports.
     *
     * @param id prompt id
     * @param summary the policy's summary
     * @param opponent the opponent's summary (the reference by default)
     * @param verdict the judge's verdict (A = the policy), or null without a judge
     * @param detail the judge's detail, or null
     */
    public record Sample(String id, String summary, String opponent, Verdict verdict, String detail) {}

    /**
     * One evaluated summary.
     *
     * @param id prompt id
     * @param summary the text (no EOS)
     * @param tokens its length in tokens (EOS included when present)
     * @param eos whether it ended with EOS within the token budget
     * @param dominantTokenShare share of its tokens (EOS excluded) taken by the most frequent one, 1 when empty
     *     ({@link EvaluationChecks#dominantTokenShare})
     */
    public record Summary(String id, String summary, int tokens, boolean eos, double dominantTokenShare) {}
}
