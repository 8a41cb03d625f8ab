package org.rlhf4j.algorithms.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Compares two summaries of the same post. Implementations: {@link RewardModelJudge} (higher reward wins) and
 * {@link LlmJudge} (an LLM behind an OpenAI-compatible API, asked in both presentation orders).
 */
public sealed interface Judge permits RewardModelJudge, LlmJudge {

    /**
     * Judges one matchup.
     *
     * @param matchup the two summaries
     * @return the judgement
     * @throws JudgeException when the judge cannot be reached (LLM retries exhausted, a non-retryable HTTP error)
     */
    Judgement judge(Matchup matchup);

    /**
     * Judges several matchups (implementations may batch).
     *
     * @param matchups the matchups
     * @return one judgement per matchup, in order
     */
    default List<Judgement> judgeAll(List<Matchup> matchups) {
        List<Judgement> out = new ArrayList<>(matchups.size());
        for (Matchup m : matchups) {
            out.add(judge(m));
        }
        return out;
    }

    /**
     * Returns a short description for reports (never contains credentials).
     *
     * @return e.g. {@code rm} or {@code llm:gpt-4o/dpo-concise}
     */
    String describe();
}
