package org.rlhf4j.algorithms.reduce;

/**
 * A learned codebook: the code vectors (k-means centroids) and each row's code.
 *
 * @param centroids {@code [K][D]} code vectors
 * @param assignment each row's code index in {@code [0, K)}
 * @param iterations Lloyd iterations run
 * @param inertia sum over rows of the squared distance to the row's code, &Sigma;_i ||x_i − c_{a(i)}||²
 * @param converged whether the last iteration changed no assignment
 */
public record Codebook(double[][] centroids, int[] assignment, int iterations, double inertia, boolean converged) {

    /**
     * Returns the number of codes.
     *
     * @return K
     */
    public int size() {
        return centroids.length;
    }

    /**
     * Counts the rows per code.
     *
     * @return {@code [K]} counts
     */
    public int[] counts() {
        int[] c = new int[centroids.length];
        for (int a : assignment) {
            c[a]++;
        }
        return c;
    }
}
