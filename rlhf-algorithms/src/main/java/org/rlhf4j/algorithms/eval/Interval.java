package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A confidence interval [lo, hi] of a proportion; written to JSON as the array {@code [lo, hi]}.
 *
 * <p>{@link #wilson95} gives the Wilson score interval (Wilson 1927), which unlike the normal approximation
 * p̂ ± z·√(p̂(1−p̂)/n) stays inside [0, 1] and keeps close to its nominal coverage at small n and near 0 or 1:
 *
 * <pre>
 *   p̂ = successes / n,   z = 1.959964 (95 %)
 *   centre = (p̂ + z²/(2n)) / (1 + z²/n)
 *   half   = z·√(p̂(1−p̂)/n + z²/(4n²)) / (1 + z²/n)
 *   [lo, hi] = [centre − half, centre + half]
 * </pre>
 *
 * E.g. 7 of 10 gives [0.3968, 0.8922]. Successes may be fractional (a win rate counts a tie as ½ a win): every trial
 * then scores 0, ½ or 1 and its variance is at most p(1−p), so the interval is conservative (at least as wide as
 * needed).
 *
 * @param lo the lower bound (NaN when there were no trials)
 * @param hi the upper bound (NaN when there were no trials)
 */
public record Interval(double lo, double hi) {

    /** The standard normal quantile of a two-sided 95 % interval, Φ⁻¹(0.975). */
    public static final double Z95 = 1.959963984540054;

    /**
     * Returns the 95 % Wilson score interval of a proportion.
     *
     * @param successes successes, 0 ≤ successes ≤ trials (may be fractional)
     * @param trials trials, ≥ 0; with 0 the interval is [NaN, NaN]
     * @return the interval
     */
    public static Interval wilson95(double successes, int trials) {
        return wilson(successes, trials, Z95);
    }

    /**
     * Returns the Wilson score interval of a proportion for a given normal quantile.
     *
     * @param successes successes, 0 ≤ successes ≤ trials (may be fractional)
     * @param trials trials, ≥ 0; with 0 the interval is [NaN, NaN]
     * @param z the normal quantile (1.96 for 95 %), &gt; 0
     * @return the interval
     */
    public static Interval wilson(double successes, int trials, double z) {
        if (trials < 0) {
            throw new IllegalArgumentException("trials must be >= 0, got " + trials);
        }
        if (!(successes >= 0) || successes > trials) {
            throw new IllegalArgumentException("successes must be in [0, trials = " + trials + "], got " + successes);
        }
        if (!(z > 0) || Double.isInfinite(z)) {
            throw new IllegalArgumentException("z must be > 0 and finite, got " + z);
        }
        if (trials == 0) {
            return new Interval(Double.NaN, Double.NaN);
        }
        double n = trials;
        double p = successes / n;
        double z2 = z * z;
        double denom = 1 + z2 / n;
        double centre = (p + z2 / (2 * n)) / denom;
        double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
        return new Interval(Math.max(0, centre - half), Math.min(1, centre + half));
    }

    /**
     * Returns whether the interval contains a value (bounds included); false for an undefined interval.
     *
     * @param x the value
     * @return true when lo ≤ x ≤ hi
     */
    public boolean contains(double x) {
        return lo <= x && x <= hi;
    }

    /**
     * Returns whether the interval is defined (it had at least one trial).
     *
     * @return false for [NaN, NaN]
     */
    public boolean defined() {
        return !Double.isNaN(lo) && !Double.isNaN(hi);
    }

    /**
     * Returns {@code [lo, hi]}, the JSON form.
     *
     * @return a new array
     */
    @JsonValue
    public double[] toArray() {
        return new double[] {lo, hi};
    }
}
