package org.rlhf4j.algorithms.rewards;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A weighted combination of reward functions, as TRL's {@code reward_funcs} with {@code reward_weights}: the
 * combined score of completion i is the NaN-skipping sum {@code Σ_k w_k · s_k(i)} over the functions that apply
 * (TRL's {@code nansum}); a completion no function applies to is unscorable and its combined score is NaN (TRL 1.13
 * marks these rows NaN and logs a warning).
 *
 * <p>{@link Scores#metrics()} gives TRL's metric names: {@code rewards/<name>/mean}, {@code rewards/<name>/std} per
 * function over the completions it applies to, and {@code reward}, {@code reward_std} over the scorable combined
 * scores.
 */
public final class CompositeReward {

    private static final Logger LOG = LoggerFactory.getLogger(CompositeReward.class);

    /**
     * One reward function and its weight.
     *
     * @param fn the function
     * @param weight its weight (finite; may be 0 or negative, as in TRL)
     */
    public record Term(RewardFn fn, double weight) {
        /** Validates. */
        public Term {
            Objects.requireNonNull(fn, "fn");
            if (!Double.isFinite(weight)) {
                throw new IllegalArgumentException("reward weight of '" + fn.name() + "' must be finite, got " + weight);
            }
        }
    }

    private final List<Term> terms;

    private CompositeReward(List<Term> terms) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("need at least one reward function, got none");
        }
        Set<String> seen = new HashSet<>();
        for (Term t : terms) {
            if (!seen.add(t.fn().name())) {
                throw new IllegalArgumentException("reward function names must be unique (they key the metrics), got '"
                        + t.fn().name() + "' twice; rename one with RewardFn.named");
            }
        }
        this.terms = List.copyOf(terms);
    }

    /**
     * Combines weighted reward functions.
     *
     * @param terms the functions and weights (at least one; unique names)
     * @return the combination
     */
    public static CompositeReward of(List<Term> terms) {
        return new CompositeReward(terms);
    }

    /**
     * Combines reward functions with weight 1 each (TRL's default {@code reward_weights}).
     *
     * @param fns the functions
     * @return the combination
     */
    public static CompositeReward of(RewardFn... fns) {
        List<Term> t = new ArrayList<>(fns.length);
        for (RewardFn f : fns) {
            t.add(new Term(f, 1.0));
        }
        return new CompositeReward(t);
    }

    /**
     * Returns the terms.
     *
     * @return the functions and weights, in order
     */
    public List<Term> terms() {
        return terms;
    }

    /**
     * Returns the function names.
     *
     * @return one name per term, in order
     */
    public List<String> names() {
        List<String> out = new ArrayList<>(terms.size());
        for (Term t : terms) {
            out.add(t.fn().name());
        }
        return out;
    }

    /**
     * Scores a batch with every function and combines the scores.
     *
     * @param batch the completions
     * @return per-function and combined scores
     */
    public Scores score(List<RewardInput> batch) {
        int n = batch.size();
        int k = terms.size();
        double[][] per = new double[k][];
        for (int j = 0; j < k; j++) {
            RewardFn fn = terms.get(j).fn();
            List<Double> s = fn.score(batch);
            if (s == null || s.size() != n) {
                throw new IllegalStateException("reward function '" + fn.name() + "' returned "
                        + (s == null ? "null" : s.size() + " rewards") + " for " + n + " completions; it must return one"
                        + " reward per completion");
            }
            per[j] = new double[n];
            for (int i = 0; i < n; i++) {
                Double v = s.get(i);
                per[j][i] = v == null ? Double.NaN : v;
            }
        }
        double[] total = new double[n];
        int firstUnscorable = -1;
        for (int i = 0; i < n; i++) {
            double sum = 0.0;
            boolean any = false;
            for (int j = 0; j < k; j++) {
                if (!Double.isNaN(per[j][i])) {
                    sum += terms.get(j).weight() * per[j][i];
                    any = true;
                }
            }
            total[i] = any ? sum : Double.NaN;
            if (!any && firstUnscorable < 0) {
                firstUnscorable = i;
            }
        }
        if (firstUnscorable >= 0) {
            RewardInput in = batch.get(firstUnscorable);
            LOG.warn("All reward functions {} returned None for completion {} (prompt={}, completion={}, fields={}); "
                    + "make sure at least one reward function returns a reward", names(), firstUnscorable,
                    quote(in.prompt()), quote(in.completion()), in.fields());
        }
        return new Scores(names(), per, total);
    }

    private static String quote(String s) {
        return '"' + (s.length() > 200 ? s.substring(0, 200) + "..." : s) + '"';
    }

    /**
     * Scores of a batch.
     *
     * @param names the function names
     * @param perFunction {@code [function][completion]} scores, NaN where the function did not apply
     * @param total combined score per completion, NaN where no function applied (unscorable)
     */
    public record Scores(List<String> names, double[][] perFunction, double[] total) {

        /**
         * Returns one function's scores.
         *
         * @param name the function's name
         * @return its scores, NaN where it did not apply
         */
        public double[] of(String name) {
            int j = names.indexOf(name);
            if (j < 0) {
                throw new IllegalArgumentException("no reward function '" + name + "', have " + names);
            }
            return perFunction[j];
        }

        /**
         * Returns whether some function applied to a completion.
         *
         * @param i the completion
         * @return whether its combined score is defined
         */
        public boolean scorable(int i) {
            return !Double.isNaN(total[i]);
        }

        /**
         * Returns TRL's reward metrics of this batch: {@code rewards/<name>/mean} and {@code rewards/<name>/std} per
         * function (NaN-skipping mean and Bessel-corrected std of its scores), then {@code reward} and
         * {@code reward_std} of the combined scores (unscorable completions skipped). A std over fewer than two
         * values is NaN, as TRL's {@code nanstd}.
         *
         * @return metric name to value, in that order
         */
        public Map<String, Double> metrics() {
            Map<String, Double> m = new LinkedHashMap<>();
            for (int j = 0; j < names.size(); j++) {
                m.put("rewards/" + names.get(j) + "/mean", nanMean(perFunction[j]));
                m.put("rewards/" + names.get(j) + "/std", nanStd(perFunction[j]));
            }
            m.put("reward", nanMean(total));
            m.put("reward_std", nanStd(total));
            return m;
        }

        @Override
        public String toString() {
            return "Scores[names=" + names + ", perFunction=" + Arrays.deepToString(perFunction) + ", total="
                    + Arrays.toString(total) + "]";
        }
    }

    /**
     * Returns the mean of the non-NaN values (torch.nanmean).
     *
     * @param x the values
     * @return their mean, NaN when all are NaN
     */
    public static double nanMean(double[] x) {
        double sum = 0;
        int c = 0;
        for (double v : x) {
            if (!Double.isNaN(v)) {
                sum += v;
                c++;
            }
        }
        return c == 0 ? Double.NaN : sum / c;
    }

    /**
     * Returns the Bessel-corrected standard deviation of the non-NaN values (TRL's {@code nanstd}).
     *
     * @param x the values
     * @return their std, NaN when fewer than two are not NaN
     */
    public static double nanStd(double[] x) {
        double mean = nanMean(x);
        double ss = 0;
        int c = 0;
        for (double v : x) {
            if (!Double.isNaN(v)) {
                ss += (v - mean) * (v - mean);
                c++;
            }
        }
        return c < 2 ? Double.NaN : Math.sqrt(ss / (c - 1));
    }
}
