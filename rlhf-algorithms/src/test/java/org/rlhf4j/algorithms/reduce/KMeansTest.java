package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class KMeansTest {

    /** Two well-separated pairs on a line: the codes are the pair means, whatever the seed. */
    @Test
    void twoClustersOnALineConvergeToTheHandComputedMeans() {
        double[][] x = {{0}, {1}, {10}, {12}};
        for (long seed = 0; seed < 5; seed++) {
            Codebook cb = KMeans.builder().setK(2).optSeed(seed).build().fit(x);
            assertThat(cb.converged()).isTrue();
            double[] c = {cb.centroids()[0][0], cb.centroids()[1][0]};
            java.util.Arrays.sort(c);
            assertThat(c[0]).isCloseTo(0.5, within(1e-12));
            assertThat(c[1]).isCloseTo(11.0, within(1e-12));
            assertThat(cb.assignment()[0]).isEqualTo(cb.assignment()[1]);
            assertThat(cb.assignment()[2]).isEqualTo(cb.assignment()[3]).isNotEqualTo(cb.assignment()[0]);
            // inertia: 0.25 + 0.25 + 1 + 1
            assertThat(cb.inertia()).isCloseTo(2.5, within(1e-12));
        }
    }

    /**
     * A Lloyd step by hand: codes (0,0) and (4,0) seeded; points (0,0), (1,0), (3,0), (4,0), (4,2). Assignment
     * {0,1} → code 0, {3,4,(4,2)} → code 1; means (0.5,0) and (11/3, 2/3); the second assignment is the same.
     */
    @Test
    void lloydUpdateMatchesHandComputation() {
        double[][] x = {{0, 0}, {1, 0}, {3, 0}, {4, 0}, {4, 2}};
        double[][] c = {{0, 0}, {4, 0}};
        int[] a = KMeans.assign(x, c);
        assertThat(a).containsExactly(0, 0, 1, 1, 1);
        double[][] c2 = KMeans.update(x, a, c);
        assertThat(c2[0]).containsExactly(new double[] {0.5, 0}, within(1e-12));
        assertThat(c2[1]).containsExactly(new double[] {11.0 / 3, 2.0 / 3}, within(1e-12));
        assertThat(KMeans.assign(x, c2)).containsExactly(0, 0, 1, 1, 1);
    }

    @Test
    void tiesGoToTheLowerCodeAndEmptyCodesKeepTheirVector() {
        assertThat(KMeans.nearest(new double[] {1}, new double[][] {{0}, {2}})).isZero();
        double[][] old = {{0}, {100}};
        double[][] c = KMeans.update(new double[][] {{1}, {3}}, new int[] {0, 0}, old);
        assertThat(c[0][0]).isEqualTo(2.0);
        assertThat(c[1]).isSameAs(old[1]);
    }

    /** k-means++: the second seed is never a copy of the first when another point exists (D = 0 has no weight). */
    @Test
    void seedingNeverPicksAZeroDistancePointWhileOthersRemain() {
        double[][] x = {{0}, {0}, {0}, {0}, {5}};
        for (long seed = 0; seed < 20; seed++) {
            double[][] c = KMeans.builder().setK(2).optSeed(seed).build().seed(x);
            assertThat(Math.abs(c[0][0] - c[1][0])).isEqualTo(5.0);
        }
        // all identical: falls back to distinct rows in order, still K codes
        double[][] same = {{1}, {1}, {1}};
        assertThat(KMeans.builder().setK(3).build().seed(same)).hasNumberOfRows(3);
    }

    @Test
    void sameSeedSameCodebookAndChecks() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        double[][] x = new double[200][4];
        for (double[] v : x) {
            for (int j = 0; j < 4; j++) {
                v[j] = r.nextDouble();
            }
        }
        Codebook a = KMeans.builder().setK(7).optSeed(11).build().fit(x);
        Codebook b = KMeans.builder().setK(7).optSeed(11).build().fit(x);
        assertThat(a.assignment()).isEqualTo(b.assignment());
        assertThat(a.inertia()).isEqualTo(b.inertia());
        assertThat(a.counts()).hasSize(7);
        assertThatThrownBy(() -> KMeans.builder().setK(0)).hasMessageContaining("got 0");
        assertThatThrownBy(() -> KMeans.builder().setK(3).build().fit(new double[][] {{1}, {2}}))
                .hasMessageContaining("K=3").hasMessageContaining("got 2");
        assertThatThrownBy(() -> KMeans.builder().setK(1).build().fit(new double[][] {{1}, {2, 3}}))
                .hasMessageContaining("row 1 has 2 dimensions");
    }
}
