package org.rlhf4j.algorithms.common;

import java.util.SplittableRandom;
import org.rlhf4j.core.train.Seeds;

/**
 * The order in which training samples are visited: an endless concatenation of epoch permutations, each a seeded
 * Fisher–Yates shuffle derived from (seed, epoch). Step s takes stream positions [s·B, (s+1)·B), so the samples of
 * any step are a pure function of (seed, s) and a resumed run sees exactly what an uninterrupted run would have.
 */
public final class DataStream {

    /** Seed stream tag of the shuffle. */
    static final long SHUFFLE_STREAM = 0x5F;

    private final int size;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] cachedPerm;

    /**
     * Creates a stream over {@code size} samples.
     *
     * @param size number of samples (&gt; 0)
     * @param seed the run seed
     */
    public DataStream(int size, long seed) {
        if (size < 1) {
            throw new IllegalArgumentException("dataset is empty (size " + size + ")");
        }
        this.size = size;
        this.seed = seed;
    }

    /**
     * Returns the sample indices of one step.
     *
     * @param step the step
     * @param batchSize B
     * @return B indices into the dataset
     */
    public int[] indices(long step, int batchSize) {
        int[] out = new int[batchSize];
        long start = step * batchSize;
        for (int i = 0; i < batchSize; i++) {
            long pos = start + i;
            int epoch = (int) (pos / size);
            out[i] = permutation(epoch)[(int) (pos % size)];
        }
        return out;
    }

    /**
     * Returns the (fractional) epoch reached after a number of steps.
     *
     * @param steps completed steps
     * @param batchSize B
     * @return steps·B / size
     */
    public double epoch(long steps, int batchSize) {
        return (double) steps * batchSize / size;
    }

    private int[] permutation(int epoch) {
        if (epoch != cachedEpoch) {
            int[] p = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = i;
            }
            SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, epoch, SHUFFLE_STREAM));
            for (int i = size - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int tmp = p[i];
                p[i] = p[j];
                p[j] = tmp;
            }
            cachedPerm = p;
            cachedEpoch = epoch;
        }
        return cachedPerm;
    }
}
