package org.rlhf4j.datasets.stats;

import java.util.Arrays;

/**
 * Nearest-rank percentiles of integer samples: the p-th percentile of n sorted values is the value at 1-based rank
 * {@code ceil(p / 100 * n)}.
 *
 * @param count number of samples
 * @param p50 median
 * @param p90 90th percentile
 * @param p99 99th percentile
 * @param max largest value
 */
public record Percentiles(int count, int p50, int p90, int p99, int max) {

    /**
     * Computes the percentiles (all zero for no samples).
     *
     * @param values the samples (not modified)
     * @param n how many of them to use, from the start
     * @return the percentiles
     */
    public static Percentiles of(int[] values, int n) {
        if (n == 0) {
            return new Percentiles(0, 0, 0, 0, 0);
        }
        int[] s = Arrays.copyOf(values, n);
        Arrays.sort(s);
        return new Percentiles(n, rank(s, 50), rank(s, 90), rank(s, 99), s[n - 1]);
    }

    /**
     * Returns the nearest-rank percentile of sorted values.
     *
     * @param sorted values in ascending order, at least one
     * @param p the percentile in (0, 100]
     * @return the value
     */
    public static int rank(int[] sorted, double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        int r = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(1, r) - 1];
    }
}
