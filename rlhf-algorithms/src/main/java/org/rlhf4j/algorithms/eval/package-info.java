/**
 * Evaluation of summarisation policies: pairwise {@link org.rlhf4j.algorithms.eval.Judge judges} (the reward model,
 * or an LLM behind an OpenAI-compatible HTTP API asked in both presentation orders), win rates with ties and
 * invalid answers accounted for, agreement with human labels ({@link org.rlhf4j.algorithms.eval.WinRate}), ROUGE
 * ({@link org.rlhf4j.algorithms.eval.Rouge}), and the per-policy report of
 * {@link org.rlhf4j.algorithms.eval.PolicyEvaluator} (RM score, KL to a reference policy, length, ROUGE, win rate),
 * 95 % Wilson intervals ({@link org.rlhf4j.algorithms.eval.Interval}), and what a report must say about them
 * ({@link org.rlhf4j.algorithms.eval.EvaluationChecks}: a judge at chance, broken outputs as
 * {@link org.rlhf4j.algorithms.eval.PolicyFlag}s, warnings, a ranking that presents neither as a result); the human
 * comparisons a judge is checked against ({@link org.rlhf4j.algorithms.eval.HumanComparisons}) and summary files
 * ({@link org.rlhf4j.algorithms.eval.SummaryFiles}).
 */
package org.rlhf4j.algorithms.eval;
