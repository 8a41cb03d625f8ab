package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The hallucination rate of a policy from its {@link Grounding} judgements: the share of its summaries with at least
 * one claim the post does not support.
 *
 * <pre>
 *   hallucination rate = unsupported / (supported + unsupported)
 *   ci95 = Wilson score interval of unsupported successes in supported + unsupported trials ({@link Interval})
 * </pre>
 *
 * Malformed judgements are left out of the rate and its interval and counted (as invalid judgements are in
 * {@link WinRate}); a malformed reply is never read as supported.
 */
public final class HallucinationRate {

    private HallucinationRate() {}

    /**
     * A hallucination rate.
     *
     * @param summaries judgements made (malformed included)
     * @param supported summaries whose every claim is supported
     * @param unsupported summaries with at least one unsupported claim
     * @param malformed judgements whose reply was unusable (excluded from the rate)
     * @param claims claims checked, over the valid judgements
     * @param unsupportedClaims of those, the unsupported ones
     * @param rate unsupported / (supported + unsupported), NaN when nothing was valid
     */
    public record Result(int summaries, int supported, int unsupported, int malformed, int claims,
            int unsupportedClaims, double rate) {

        /**
         * Returns the valid judgements, the trials of the rate.
         *
         * @return supported + unsupported
         */
        public int valid() {
            return supported + unsupported;
        }

        /**
         * Returns the 95 % Wilson score interval of the rate ([NaN, NaN] when nothing was valid).
         *
         * @return the interval
         */
        @JsonProperty("ci95")
        public Interval ci95() {
            return Interval.wilson95(unsupported, valid());
        }
    }

    /**
     * Counts the judgements.
     *
     * @param judgements one per summary
     * @return the rate
     */
    public static Result of(List<Grounding> judgements) {
        int supported = 0;
        int unsupported = 0;
        int malformed = 0;
        int claims = 0;
        int unsupportedClaims = 0;
        for (Grounding g : judgements) {
            switch (g.status()) {
                case SUPPORTED -> supported++;
                case UNSUPPORTED -> unsupported++;
                case MALFORMED -> malformed++;
            }
            if (g.status() != Grounding.Status.MALFORMED) {
                claims += g.claims().size();
                unsupportedClaims += g.unsupportedClaims();
            }
        }
        int valid = supported + unsupported;
        return new Result(judgements.size(), supported, unsupported, malformed, claims, unsupportedClaims,
                valid == 0 ? Double.NaN : (double) unsupported / valid);
    }
}
