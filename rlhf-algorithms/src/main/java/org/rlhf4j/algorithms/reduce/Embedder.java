package org.rlhf4j.algorithms.reduce;

import java.io.IOException;
import java.util.List;

/**
 * Turns comparisons into vectors for the codebook and the near-duplicate check. Embeddings are symmetric in the two
 * responses (swapping chosen and rejected gives the same vector), so that the codebook groups comparisons by what
 * they compare, not by their label; labels are handled by the contradiction check.
 */
public interface Embedder {

    /**
     * Embeds rows.
     *
     * @param rows the comparisons
     * @return one L2-normalised vector per row (all of the same dimension)
     * @throws IOException when a model fails to run
     */
    double[][] embed(List<ReductionRow> rows) throws IOException;

    /**
     * Describes the embedding for the report.
     *
     * @return e.g. {@code hashed-tfidf(dims=512,bigrams)}
     */
    String describe();

    /**
     * Scales a vector to unit L2 norm in place (a zero vector stays zero).
     *
     * @param v the vector
     * @return {@code v}
     */
    static double[] normalize(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        if (s > 0) {
            double inv = 1 / Math.sqrt(s);
            for (int i = 0; i < v.length; i++) {
                v[i] *= inv;
            }
        }
        return v;
    }
}
