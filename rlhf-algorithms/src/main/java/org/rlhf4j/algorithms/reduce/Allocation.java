package org.rlhf4j.algorithms.reduce;

import java.util.ArrayList;
import java.util.List;

/** How many rows each code keeps: proportional shares rounded by largest remainder, at least one per non-empty code. */
public final class Allocation {

    private Allocation() {}

    /**
     * Splits a total over codes in proportion to their sizes, at least one per non-empty code, summing exactly to
     * the total.
     *
     * <p>With K' non-empty codes, A = &Sigma; a_k rows and R = total − K': every non-empty code first gets 1; the
     * rest is shared in proportion to a_k − 1 (what the code can still give): s_k = R·(a_k − 1)/(A − K'). Code k
     * gets q_k = 1 + &lfloor;s_k&rfloor;, and the R − &Sigma; &lfloor;s_k&rfloor; rows left go one each to the
     * codes with the largest remainders s_k − &lfloor;s_k&rfloor; (Hamilton's method; ties to the lower code index).
     * Then 1 &le; q_k &le; a_k and &Sigma; q_k = total. When total &ge; A every code keeps all its rows.
     *
     * @param sizes a_k &ge; 0 per code
     * @param total rows to keep, at least the number of non-empty codes
     * @return q_k per code
     * @throws IllegalArgumentException when a size is negative or the total is below the number of non-empty codes
     */
    public static int[] largestRemainder(int[] sizes, int total) {
        int nonEmpty = 0;
        long all = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 0) {
                throw new IllegalArgumentException("size of code " + i + " must be >= 0, got " + sizes[i]);
            }
            nonEmpty += sizes[i] > 0 ? 1 : 0;
            all += sizes[i];
        }
        if (total >= all) {
            return sizes.clone();
        }
        if (total < nonEmpty) {
            throw new IllegalArgumentException("cannot keep at least one row of each of the " + nonEmpty
                    + " non-empty codes with a total of " + total + " (use fewer codes)");
        }
        int[] q = new int[sizes.length];
        long rest = total - nonEmpty;
        long spare = all - nonEmpty; // > rest >= 0 here
        double[] rem = new double[sizes.length];
        long given = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] == 0) {
                continue;
            }
            // integer numerator: s_k = rest·(a_k − 1)/spare exactly split into floor and remainder
            long num = rest * (sizes[i] - 1L);
            long fl = num / spare;
            q[i] = 1 + (int) fl;
            rem[i] = (double) (num - fl * spare) / spare;
            given += fl;
        }
        long left = rest - given;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] > 0) {
                order.add(i);
            }
        }
        order.sort((x, y) -> rem[x] != rem[y] ? Double.compare(rem[y], rem[x]) : Integer.compare(x, y));
        for (int j = 0; j < left; j++) {
            q[order.get(j)]++;
        }
        return q;
    }
}
