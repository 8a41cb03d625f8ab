package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AllocationTest {

    /**
     * sizes 10, 5, 1, total 6: each non-empty code gets 1, R = 3 shared over a_k − 1 = 9, 4, 0 (sum 13):
     * s = 27/13 = 2.077, 12/13 = 0.923, 0 → floors 2, 0, 0 (given 2), one left → largest remainder 0.923 (code 1).
     * q = 3, 2, 1.
     */
    @Test
    void handComputedLargestRemainder() {
        assertThat(Allocation.largestRemainder(new int[] {10, 5, 1}, 6)).containsExactly(3, 2, 1);
    }

    @Test
    void tiesGoToTheLowerIndexAndEmptyCodesGetNothing() {
        // sizes 3, 0, 3, total 3: base 1, 1 → R = 1 over spare 2 + 2: s = 0.5, 0.5 → code 0 gets it
        assertThat(Allocation.largestRemainder(new int[] {3, 0, 3}, 3)).containsExactly(2, 0, 1);
    }

    @Test
    void totalIsExactAndWithinCapacity() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int trial = 0; trial < 500; trial++) {
            int k = 1 + r.nextInt(20);
            int[] sizes = new int[k];
            int all = 0;
            int nonEmpty = 0;
            for (int i = 0; i < k; i++) {
                sizes[i] = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(50);
                all += sizes[i];
                nonEmpty += sizes[i] > 0 ? 1 : 0;
            }
            if (nonEmpty == 0) {
                continue;
            }
            int total = nonEmpty + r.nextInt(all - nonEmpty + 5);
            int[] q = Allocation.largestRemainder(sizes, total);
            int sum = 0;
            for (int i = 0; i < k; i++) {
                assertThat(q[i]).isBetween(sizes[i] > 0 ? 1 : 0, sizes[i]);
                sum += q[i];
            }
            assertThat(sum).isEqualTo(Math.min(total, all));
        }
    }

    @Test
    void keepsEverythingWhenTheTotalExceedsTheRowsAndRejectsTooSmallTotals() {
        assertThat(Allocation.largestRemainder(new int[] {2, 3}, 10)).containsExactly(2, 3);
        assertThatThrownBy(() -> Allocation.largestRemainder(new int[] {2, 3, 4}, 2))
                .hasMessageContaining("3 non-empty codes").hasMessageContaining("total of 2");
        assertThatThrownBy(() -> Allocation.largestRemainder(new int[] {-1}, 2)).hasMessageContaining("got -1");
    }
}
