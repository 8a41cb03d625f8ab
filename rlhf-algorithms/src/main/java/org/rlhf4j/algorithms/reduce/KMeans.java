package org.rlhf4j.algorithms.reduce;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Seeded k-means in double precision on the host: k-means++ seeding (Arthur and Vassilvitskii, "k-means++: The
 * Advantages of Careful Seeding", SODA 2007) followed by Lloyd iterations. The result depends only on the data, K and
 * the seed (assignments are computed in parallel, but every sum runs in row order).
 *
 * <p>Seeding: c_1 is a uniformly drawn row; each further c_j is row i drawn with probability
 * D(x_i)² / &Sigma;_l D(x_l)², D(x) being the distance to the nearest code chosen so far (a draw u·&Sigma; walked
 * through the cumulative sum; when all D are 0, the first row not yet a code). Lloyd: a(i) = argmin_k ||x_i − c_k||²
 * (ties to the lower k), then c_k = mean of {x_i : a(i) = k}; a code left without rows keeps its vector. It stops
 * when no assignment changes or after {@code maxIterations}.
 */
public final class KMeans {

    private final int k;
    private final long seed;
    private final int maxIterations;

    private KMeans(Builder b) {
        this.k = b.k;
        this.seed = b.seed;
        this.maxIterations = b.maxIterations;
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Learns a codebook.
     *
     * @param x {@code [N][D]} rows, N &ge; K
     * @return the codebook
     * @throws IllegalArgumentException when there are fewer rows than codes or the rows' dimensions differ
     */
    public Codebook fit(double[][] x) {
        int n = x.length;
        if (n < k) {
            throw new IllegalArgumentException("k-means needs at least K=" + k + " rows, got " + n);
        }
        int d = x[0].length;
        for (int i = 0; i < n; i++) {
            if (x[i].length != d) {
                throw new IllegalArgumentException("row " + i + " has " + x[i].length + " dimensions, row 0 has " + d);
            }
        }
        double[][] c = seed(x);
        int[] a = new int[n];
        Arrays.fill(a, -1);
        int it = 0;
        boolean converged = false;
        while (it < maxIterations) {
            it++;
            int[] next = assign(x, c);
            boolean changed = !Arrays.equals(next, a);
            a = next;
            if (!changed) {
                converged = true;
                break;
            }
            c = update(x, a, c);
        }
        double inertia = 0;
        for (int i = 0; i < n; i++) {
            inertia += dist2(x[i], c[a[i]]);
        }
        return new Codebook(c, a, it, inertia, converged);
    }

    /** k-means++ seeding. */
    double[][] seed(double[][] x) {
        int n = x.length;
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] c = new double[k][];
        boolean[] used = new boolean[n];
        int first = rng.nextInt(n);
        c[0] = x[first].clone();
        used[first] = true;
        double[] dmin = new double[n];
        double[] c0 = c[0];
        IntStream.range(0, n).parallel().forEach(i -> dmin[i] = dist2(x[i], c0));
        for (int j = 1; j < k; j++) {
            double total = 0;
            for (int i = 0; i < n; i++) {
                total += dmin[i];
            }
            int pick = -1;
            if (total > 0) {
                double u = rng.nextDouble() * total;
                double cum = 0;
                for (int i = 0; i < n; i++) {
                    cum += dmin[i];
                    if (dmin[i] > 0 && cum > u) {
                        pick = i;
                        break;
                    }
                }
                if (pick < 0) { // u landed on the rounding error of the last sum: take the last row with D > 0
                    for (int i = n - 1; i >= 0; i--) {
                        if (dmin[i] > 0) {
                            pick = i;
                            break;
                        }
                    }
                }
            } else {
                for (int i = 0; i < n; i++) {
                    if (!used[i]) {
                        pick = i;
                        break;
                    }
                }
            }
            c[j] = x[pick].clone();
            used[pick] = true;
            double[] cj = c[j];
            IntStream.range(0, n).parallel().forEach(i -> dmin[i] = Math.min(dmin[i], dist2(x[i], cj)));
        }
        return c;
    }

    static int[] assign(double[][] x, double[][] c) {
        int[] a = new int[x.length];
        IntStream.range(0, x.length).parallel().forEach(i -> a[i] = nearest(x[i], c));
        return a;
    }

    /**
     * Returns the index of the nearest code (squared Euclidean distance; ties to the lower index).
     *
     * @param v the vector
     * @param c the codes
     * @return the code index
     */
    static int nearest(double[] v, double[][] c) {
        int best = 0;
        double bd = Double.POSITIVE_INFINITY;
        for (int j = 0; j < c.length; j++) {
            double dd = dist2(v, c[j]);
            if (dd < bd) {
                bd = dd;
                best = j;
            }
        }
        return best;
    }

    static double[][] update(double[][] x, int[] a, double[][] old) {
        int d = x[0].length;
        double[][] sum = new double[old.length][d];
        int[] cnt = new int[old.length];
        for (int i = 0; i < x.length; i++) {
            double[] s = sum[a[i]];
            for (int t = 0; t < d; t++) {
                s[t] += x[i][t];
            }
            cnt[a[i]]++;
        }
        double[][] c = new double[old.length][];
        for (int j = 0; j < old.length; j++) {
            if (cnt[j] == 0) {
                c[j] = old[j];
            } else {
                for (int t = 0; t < d; t++) {
                    sum[j][t] /= cnt[j];
                }
                c[j] = sum[j];
            }
        }
        return c;
    }

    /**
     * Returns the squared Euclidean distance.
     *
     * @param a a vector
     * @param b a vector of the same length
     * @return &Sigma;_t (a_t − b_t)²
     */
    static double dist2(double[] a, double[] b) {
        double s = 0;
        for (int t = 0; t < a.length; t++) {
            double e = a[t] - b[t];
            s += e * e;
        }
        return s;
    }

    /** Builder of {@link KMeans}. */
    public static final class Builder {

        private int k = -1;
        private long seed = 0;
        private int maxIterations = 50;

        private Builder() {}

        /**
         * Sets the number of codes (required).
         *
         * @param k K &ge; 1
         * @return this builder
         */
        public Builder setK(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("K must be >= 1, got " + k);
            }
            this.k = k;
            return this;
        }

        /**
         * Sets the seed of the k-means++ draws (default 0).
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets the most Lloyd iterations (default 50).
         *
         * @param n &ge; 1
         * @return this builder
         */
        public Builder optMaxIterations(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxIterations must be >= 1, got " + n);
            }
            this.maxIterations = n;
            return this;
        }

        /**
         * Builds the clusterer.
         *
         * @return the clusterer
         * @throws IllegalStateException when K was not set
         */
        public KMeans build() {
            if (k < 1) {
                throw new IllegalStateException("setK is required");
            }
            return new KMeans(this);
        }
    }
}
