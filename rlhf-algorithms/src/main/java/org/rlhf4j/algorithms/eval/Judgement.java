package org.rlhf4j.algorithms.eval;

import java.util.Objects;

/**
 * A judge's decision on one {@link Matchup}.
 *
 * <p>Order-free judges (the reward model) fill {@code orderAB} only. Judges that see the summaries in a position
 * (LLMs) are asked twice, with A shown first and with B shown first; both answers are stored in the matchup's own
 * labels (an answer "first summary" in the B-first order is recorded as B). The combined verdict is the common
 * answer when both orders agree, {@link Verdict#TIE} when both are valid but disagree (position-inconsistent), and
 * {@link Verdict#INVALID} when either answer is unusable.
 *
 * @param verdict the combined verdict
 * @param orderAB the answer with A shown first (in matchup labels)
 * @param orderBA the answer with B shown first (in matchup labels), or null when only one order was asked
 * @param detail human-readable detail (scores, or the judge's explanations)
 */
public record Judgement(Verdict verdict, Verdict orderAB, Verdict orderBA, String detail) {

    /**
     * Checks the parts.
     *
     * @param verdict verdict
     * @param orderAB answer with A first
     * @param orderBA answer with B first, may be null
     * @param detail detail
     */
    public Judgement {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(orderAB, "orderAB");
        detail = detail == null ? "" : detail;
    }

    /**
     * A single-order judgement (order-free judges).
     *
     * @param verdict the verdict
     * @param detail detail
     * @return the judgement
     */
    public static Judgement single(Verdict verdict, String detail) {
        return new Judgement(verdict, verdict, null, detail);
    }

    /**
     * Combines the answers of both presentation orders (see the class comment for the rule).
     *
     * @param orderAB answer with A first, in matchup labels
     * @param orderBA answer with B first, in matchup labels
     * @param detail detail
     * @return the judgement
     */
    public static Judgement bothOrders(Verdict orderAB, Verdict orderBA, String detail) {
        Verdict v;
        if (orderAB == Verdict.INVALID || orderBA == Verdict.INVALID) {
            v = Verdict.INVALID;
        } else if (orderAB == orderBA) {
            v = orderAB;
        } else {
            v = Verdict.TIE;
        }
        return new Judgement(v, orderAB, orderBA, detail);
    }

    /**
     * Returns whether both presentation orders were asked.
     *
     * @return true for two-order judgements
     */
    public boolean bothOrdersAsked() {
        return orderBA != null;
    }

    /**
     * Returns whether both orders gave a valid answer (the denominator of position consistency).
     *
     * @return true when both answers are valid
     */
    public boolean bothOrdersValid() {
        return orderBA != null && orderAB != Verdict.INVALID && orderBA != Verdict.INVALID;
    }

    /**
     * Returns whether both orders gave the same valid answer.
     *
     * @return true when position-consistent
     */
    public boolean positionConsistent() {
        return bothOrdersValid() && orderAB == orderBA;
    }
}
