package org.rlhf4j.algorithms.reduce;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Selects a small representative subset of comparisons, after TL;DR's codebook-based data reduction (Wang et al.,
 * ICCV 2023, sec. 3: a codebook over sample embeddings, samples kept per code).
 *
 * <p>Steps, in order (N input rows, target T = max(1, round(f·N))):
 * <ol>
 *   <li>Contradictions: rows with the same prompt and the same two responses ({@link ReductionRow#pairKey()}) that
 *       appear with both labels are all dropped.</li>
 *   <li>Exact duplicates: of rows with equal (prompt, chosen, rejected) texts, the first is kept.</li>
 *   <li>The M rows left are embedded ({@link Embedder}; unit vectors) and a codebook of K = min(K_asked, M, T) codes
 *       is learned ({@link KMeans}).</li>
 *   <li>Near-duplicates: within each code, rows are visited by distance to the code vector (ties by line) and a row
 *       whose cosine similarity x_i·x_j with a row already accepted in the code exceeds the threshold is dropped.
 *       The a_k rows accepted are the code's distinct rows.</li>
 *   <li>Allocation: code k keeps q_k rows ({@link Allocation#largestRemainder}: proportional to a_k, at least one,
 *       &Sigma; q_k = min(T, &Sigma; a_k)) — the q_k distinct rows nearest its code vector.</li>
 * </ol>
 * Redundancy therefore earns no budget: a code made of copies has few distinct rows and the budget goes to the
 * other codes. Deterministic: the same rows, settings and seed give the same subset.
 */
public final class DataReducer {

    private static final Logger LOG = LoggerFactory.getLogger(DataReducer.class);

    private final double fraction;
    private final int codebookSize;
    private final long seed;
    private final double dedupThreshold;
    private final int maxIterations;
    private final Embedder embedder;

    private DataReducer(Builder b) {
        this.fraction = b.fraction;
        this.codebookSize = b.codebookSize;
        this.seed = b.seed;
        this.dedupThreshold = b.dedupThreshold;
        this.maxIterations = b.maxIterations;
        this.embedder = b.embedder != null ? b.embedder : new HashedEmbedder();
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
     * Returns the target size for a fraction of n rows.
     *
     * @param fraction f in (0, 1]
     * @param n rows
     * @return max(1, round(f·n)), or 0 when n is 0
     */
    public static int target(double fraction, int n) {
        return n == 0 ? 0 : (int) Math.max(1, Math.round(fraction * n));
    }

    /**
     * Reduces rows.
     *
     * @param rows the comparisons, each with a distinct line
     * @return the report, whose {@link ReductionReport#keptLines()} are the rows to write
     * @throws IOException when the embedder's model fails
     * @throws IllegalArgumentException when two rows share a line
     */
    public ReductionReport reduce(List<ReductionRow> rows) throws IOException {
        int n = rows.size();
        int target = target(fraction, n);
        // 1. contradictions: the same comparison with both labels
        Map<String, List<ReductionRow>> byPair = new LinkedHashMap<>();
        for (ReductionRow r : rows) {
            byPair.computeIfAbsent(r.pairKey(), k -> new ArrayList<>()).add(r);
        }
        List<Long> contradictory = new ArrayList<>();
        for (List<ReductionRow> g : byPair.values()) {
            String first = g.get(0).chosen();
            if (g.stream().anyMatch(r -> !r.chosen().equals(first))) {
                g.forEach(r -> contradictory.add(r.line()));
            }
        }
        contradictory.sort(null);
        java.util.Set<Long> contra = new java.util.HashSet<>(contradictory);
        // 2. exact duplicates
        Map<String, Long> firstOf = new HashMap<>();
        List<ReductionReport.Duplicate> exact = new ArrayList<>();
        List<ReductionRow> pool = new ArrayList<>();
        java.util.Set<Long> lines = new java.util.HashSet<>();
        for (ReductionRow r : rows) {
            if (!lines.add(r.line())) {
                throw new IllegalArgumentException("two rows have line " + r.line());
            }
            if (contra.contains(r.line())) {
                continue;
            }
            String key = r.prompt() + '\u0000' + r.chosen() + '\u0000' + r.rejected();
            Long seen = firstOf.putIfAbsent(key, r.line());
            if (seen != null) {
                exact.add(new ReductionReport.Duplicate(r.line(), seen, 1.0));
            } else {
                pool.add(r);
            }
        }
        int m = pool.size();
        if (m == 0) {
            return new ReductionReport(n, fraction, target, 0, embedder.describe(), seed, dedupThreshold, 0, 0, true,
                    0, List.of(), List.of(), contradictory, exact, List.of(), 0, null);
        }
        // 3. embed and learn the codebook
        double[][] x = embedder.embed(pool);
        if (x.length != m) {
            throw new IllegalStateException("embedder returned " + x.length + " vectors for " + m + " rows");
        }
        int k = Math.min(codebookSize, Math.min(m, target));
        Codebook cb = KMeans.builder().setK(k).optSeed(seed).optMaxIterations(maxIterations).build().fit(x);
        LOG.info("codebook: K={} over {} rows, {} iterations, inertia {}", k, m, cb.iterations(), cb.inertia());
        // 4. near-duplicates within each code, visiting rows by distance to the code vector
        List<List<Integer>> members = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            members.add(new ArrayList<>());
        }
        for (int i = 0; i < m; i++) {
            members.get(cb.assignment()[i]).add(i);
        }
        List<ReductionReport.Duplicate> near = new ArrayList<>();
        List<List<Integer>> distinct = new ArrayList<>();
        int[] sizes = new int[k];
        int[] distinctCounts = new int[k];
        for (int c = 0; c < k; c++) {
            double[] centre = cb.centroids()[c];
            double[] d = new double[m];
            for (int i : members.get(c)) {
                d[i] = KMeans.dist2(x[i], centre);
            }
            List<Integer> order = new ArrayList<>(members.get(c));
            order.sort(Comparator.<Integer>comparingDouble(i -> d[i]).thenComparingLong(i -> pool.get(i).line()));
            List<Integer> accepted = new ArrayList<>();
            for (int i : order) {
                int dup = -1;
                double best = Double.NEGATIVE_INFINITY;
                for (int j : accepted) {
                    double cos = dot(x[i], x[j]);
                    if (cos > dedupThreshold && cos > best) {
                        best = cos;
                        dup = j;
                    }
                }
                if (dup >= 0) {
                    near.add(new ReductionReport.Duplicate(pool.get(i).line(), pool.get(dup).line(), best));
                } else {
                    accepted.add(i);
                }
            }
            distinct.add(accepted);
            sizes[c] = order.size();
            distinctCounts[c] = accepted.size();
        }
        near.sort(Comparator.comparingLong(ReductionReport.Duplicate::line));
        // 5. allocation and selection
        int[] quota = Allocation.largestRemainder(distinctCounts, target);
        List<Long> kept = new ArrayList<>();
        List<ReductionReport.Code> codes = new ArrayList<>();
        int notSelected = 0;
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < quota[c]; j++) {
                kept.add(pool.get(distinct.get(c).get(j)).line());
            }
            notSelected += distinctCounts[c] - quota[c];
            codes.add(new ReductionReport.Code(c, sizes[c], distinctCounts[c], quota[c]));
        }
        kept.sort(null);
        if (kept.size() < target) {
            LOG.warn("only {} distinct rows remain of the {} asked for", kept.size(), target);
        }
        return new ReductionReport(n, fraction, target, kept.size(), embedder.describe(), seed, dedupThreshold, k,
                cb.iterations(), cb.converged(), cb.inertia(), codes, kept, contradictory, exact, near, notSelected,
                null);
    }

    /**
     * Returns a uniformly random subset of rows (the baseline reductions are compared with): a seeded partial
     * Fisher–Yates shuffle of the row indices, no deduplication.
     *
     * @param rows the rows
     * @param size rows to draw, 0 &le; size &le; rows
     * @param seed the seed
     * @return the drawn rows' lines, ascending
     */
    public static List<Long> randomSubset(List<ReductionRow> rows, int size, long seed) {
        if (size < 0 || size > rows.size()) {
            throw new IllegalArgumentException("size must be in [0, " + rows.size() + "], got " + size);
        }
        int[] idx = new int[rows.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int j = i + rng.nextInt(idx.length - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            out.add(rows.get(idx[i]).line());
        }
        out.sort(null);
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int t = 0; t < a.length; t++) {
            s += a[t] * b[t];
        }
        return s;
    }

    /** Builder of {@link DataReducer}. */
    public static final class Builder {

        private double fraction = Double.NaN;
        private int codebookSize = 256;
        private long seed = 0;
        private double dedupThreshold = 0.995;
        private int maxIterations = 50;
        private Embedder embedder;

        private Builder() {}

        /**
         * Sets the fraction of the input rows to keep (required).
         *
         * @param f in (0, 1]
         * @return this builder
         */
        public Builder setFraction(double f) {
            if (!(f > 0 && f <= 1)) {
                throw new IllegalArgumentException("fraction must be in (0, 1], got " + f);
            }
            this.fraction = f;
            return this;
        }

        /**
         * Sets the number of codes K asked for (default 256; capped by the target and the rows left).
         *
         * @param k &ge; 1
         * @return this builder
         */
        public Builder optCodebookSize(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("codebook size must be >= 1, got " + k);
            }
            this.codebookSize = k;
            return this;
        }

        /**
         * Sets the k-means seed (default 0).
         *
         * @param s the seed
         * @return this builder
         */
        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /**
         * Sets the near-duplicate threshold: rows of a code with cosine similarity above it are duplicates (default
         * 0.995; 1 or more turns the check off).
         *
         * @param t in (−1, 1] (or above 1 to disable)
         * @return this builder
         */
        public Builder optDedupThreshold(double t) {
            if (!(t > -1)) {
                throw new IllegalArgumentException("dedup threshold must be > -1, got " + t);
            }
            this.dedupThreshold = t;
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
                throw new IllegalArgumentException("max iterations must be >= 1, got " + n);
            }
            this.maxIterations = n;
            return this;
        }

        /**
         * Sets the embedder (default {@link HashedEmbedder}).
         *
         * @param e the embedder
         * @return this builder
         */
        public Builder optEmbedder(Embedder e) {
            this.embedder = Objects.requireNonNull(e, "embedder");
            return this;
        }

        /**
         * Builds the reducer.
         *
         * @return the reducer
         * @throws IllegalStateException when the fraction was not set
         */
        public DataReducer build() {
            if (Double.isNaN(fraction)) {
                throw new IllegalStateException("setFraction is required");
            }
            return new DataReducer(this);
        }
    }
}
