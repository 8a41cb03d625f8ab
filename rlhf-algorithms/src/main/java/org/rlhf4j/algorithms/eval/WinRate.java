package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Win rates and agreement with human labels from a list of {@link Judgement}s.
 *
 * <pre>
 *   win rate = (wins + ½·ties) / (wins + losses + ties)        (A is the evaluated policy, B its opponent)
 *   position consistency = #(both orders valid and equal) / #(both orders valid)
 *   first-position rate  = #(answers choosing the summary shown first) / #(valid single-order answers)
 * </pre>
 *
 * Invalid judgements are excluded from every rate and counted. A first-position rate of 0.5 means no position bias;
 * 1.0 means the judge always picks whatever it is shown first (its win rates are then meaningless).
 *
 * <p>Ties: a {@link Verdict#TIE} (equal reward-model scores or identical texts; for LLM judges also a
 * position-inconsistent pair) counts as half a win, in the rate and in its 95 % interval ({@link Result#ci95()}: the
 * Wilson score interval of (wins + ½·ties) successes in wins + losses + ties trials, conservative when there are
 * ties, see {@link Interval}).
 */
public final class WinRate {

    private WinRate() {}

    /**
     * Position statistics of two-order judges.
     *
     * @param pairs judgements with both orders valid
     * @param consistent of those, the ones whose two answers agree
     * @param consistency consistent / pairs (NaN when pairs = 0)
     * @param answers valid single-order answers
     * @param firstPositionRate share of answers choosing the summary shown first (NaN when answers = 0)
     */
    public record Position(int pairs, int consistent, double consistency, int answers, double firstPositionRate) {}

    /**
     * A win rate.
     *
     * @param comparisons judgements made (invalid included)
     * @param wins A preferred
     * @param losses B preferred
     * @param ties ties (for LLM judges including position-inconsistent ones)
     * @param invalid invalid judgements (excluded from the rate)
     * @param winRate (wins + ½ ties) / (wins + losses + ties), NaN when nothing was valid
     * @param position position statistics, or null for order-free judges
     */
    public record Result(int comparisons, int wins, int losses, int ties, int invalid, double winRate, Position position) {

        /**
         * Returns the valid judgements, the trials of the rate: wins + losses + ties.
         *
         * @return the count
         */
        public int valid() {
            return wins + losses + ties;
        }

        /**
         * Returns the 95 % Wilson score interval of the win rate, ties counted as half a win ([NaN, NaN] when nothing
         * was valid).
         *
         * @return the interval
         */
        @JsonProperty("ci95")
        public Interval ci95() {
            return Interval.wilson95(wins + 0.5 * ties, valid());
        }
    }

    /**
     * Agreement of a judge with human labels.
     *
     * @param comparisons judgements made (invalid included)
     * @param agree judge chose the labeller's choice
     * @param disagree judge chose the other summary
     * @param ties ties
     * @param invalid invalid judgements
     * @param agreement (agree + ½ ties) / (agree + disagree + ties), NaN when nothing was valid
     */
    public record Agreement(int comparisons, int agree, int disagree, int ties, int invalid, double agreement) {}

    /**
     * Agreement overall and by the labellers' confidence.
     *
     * @param overall all comparisons
     * @param byConfidence confidence (1–9) to agreement, for rows that have one
     * @param position position statistics, or null for order-free judges
     */
    public record HumanAgreement(Agreement overall, Map<Integer, Agreement> byConfidence, Position position) {}

    /**
     * Computes a win rate of A over B.
     *
     * @param judgements the judgements (A = evaluated summaries)
     * @return the result
     */
    public static Result of(List<Judgement> judgements) {
        int w = 0;
        int l = 0;
        int t = 0;
        int inv = 0;
        for (Judgement j : judgements) {
            switch (j.verdict()) {
                case A -> w++;
                case B -> l++;
                case TIE -> t++;
                case INVALID -> inv++;
            }
        }
        int valid = w + l + t;
        return new Result(judgements.size(), w, l, t, inv, valid == 0 ? Double.NaN : (w + 0.5 * t) / valid,
                position(judgements));
    }

    /**
     * Computes position statistics; null when no judgement asked both orders.
     *
     * @param judgements the judgements
     * @return the statistics, or null
     */
    public static Position position(List<Judgement> judgements) {
        int pairs = 0;
        int consistent = 0;
        int answers = 0;
        int first = 0;
        boolean any = false;
        for (Judgement j : judgements) {
            if (!j.bothOrdersAsked()) {
                continue;
            }
            any = true;
            if (j.bothOrdersValid()) {
                pairs++;
                consistent += j.positionConsistent() ? 1 : 0;
            }
            if (j.orderAB() != Verdict.INVALID) {
                answers++;
                first += j.orderAB() == Verdict.A ? 1 : 0; // A was shown first
            }
            if (j.orderBA() != Verdict.INVALID) {
                answers++;
                first += j.orderBA() == Verdict.B ? 1 : 0; // B was shown first
            }
        }
        if (!any) {
            return null;
        }
        return new Position(pairs, consistent, pairs == 0 ? Double.NaN : (double) consistent / pairs, answers,
                answers == 0 ? Double.NaN : (double) first / answers);
    }

    /**
     * Computes agreement with human labels: judgement i compared summary 0 (as A) with summary 1 (as B) of a row
     * whose labeller chose {@code humanChoice[i]}.
     *
     * @param judgements judgements, A = summary 0
     * @param humanChoices the labellers' choices (0 or 1)
     * @param confidences the labellers' confidences (null entries allowed), or null
     * @return the agreement
     */
    public static HumanAgreement humanAgreement(List<Judgement> judgements, int[] humanChoices, Integer[] confidences) {
        if (humanChoices.length != judgements.size() || (confidences != null && confidences.length != judgements.size())) {
            throw new IllegalArgumentException("need one human choice (and confidence) per judgement: "
                    + judgements.size() + " judgements, " + humanChoices.length + " choices"
                    + (confidences == null ? "" : ", " + confidences.length + " confidences"));
        }
        Counter all = new Counter();
        Map<Integer, Counter> by = new TreeMap<>();
        for (int i = 0; i < judgements.size(); i++) {
            int c = humanChoices[i];
            if (c != 0 && c != 1) {
                throw new IllegalArgumentException("human choice " + i + " must be 0 or 1, got " + c);
            }
            Verdict human = c == 0 ? Verdict.A : Verdict.B;
            Verdict v = judgements.get(i).verdict();
            all.add(v, human);
            if (confidences != null && confidences[i] != null) {
                by.computeIfAbsent(confidences[i], k -> new Counter()).add(v, human);
            }
        }
        Map<Integer, Agreement> byOut = new TreeMap<>();
        by.forEach((k, v) -> byOut.put(k, v.result()));
        return new HumanAgreement(all.result(), byOut, position(judgements));
    }

    private static final class Counter {
        int n;
        int agree;
        int disagree;
        int ties;
        int invalid;

        void add(Verdict v, Verdict human) {
            n++;
            switch (v) {
                case TIE -> ties++;
                case INVALID -> invalid++;
                default -> {
                    if (v == human) {
                        agree++;
                    } else {
                        disagree++;
                    }
                }
            }
        }

        Agreement result() {
            int valid = agree + disagree + ties;
            return new Agreement(n, agree, disagree, ties, invalid, valid == 0 ? Double.NaN : (agree + 0.5 * ties) / valid);
        }
    }
}
