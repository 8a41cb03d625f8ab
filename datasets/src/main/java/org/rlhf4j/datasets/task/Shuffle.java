package org.rlhf4j.datasets.task;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded shuffling: Fisher-Yates over {@link SplittableRandom}, so a (seed, epoch) pair always gives the same order
 * on every JVM (SplittableRandom's algorithm is specified).
 */
public final class Shuffle {

    private Shuffle() {}

    /**
     * Returns a random permutation of {@code 0..n-1}: start from the identity, then for {@code i = n-1} down to 1
     * swap position {@code i} with {@code j = rng.nextInt(i + 1)}, rng = {@code new SplittableRandom(seed)}.
     *
     * @param n the size
     * @param seed the seed
     * @return the permutation
     */
    public static int[] permutation(int n, long seed) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * Returns the permutation of one epoch, derived from (seed, epoch) alone so a resumed run reproduces it.
     *
     * @param n the size
     * @param seed the run seed
     * @param epoch the epoch number
     * @return the permutation
     */
    public static int[] epochPermutation(int n, long seed, long epoch) {
        return permutation(n, mix(seed, epoch));
    }

    /**
     * Returns a shuffled copy of a list.
     *
     * @param items the items
     * @param seed the seed
     * @param <T> the item type
     * @return a new list, items in the order of {@link #permutation(int, long)}
     */
    public static <T> List<T> shuffled(List<T> items, long seed) {
        int[] p = permutation(items.size(), seed);
        List<T> out = new ArrayList<>(items.size());
        for (int i : p) {
            out.add(items.get(i));
        }
        return out;
    }

    /**
     * Splits one epoch's permutation into batches of indices.
     *
     * @param n the dataset size
     * @param batchSize rows per batch
     * @param seed the run seed
     * @param epoch the epoch number
     * @param dropLast whether to drop a last batch smaller than {@code batchSize}
     * @return the index batches
     */
    public static List<int[]> batches(int n, int batchSize, long seed, long epoch, boolean dropLast) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        int[] p = epochPermutation(n, seed, epoch);
        List<int[]> out = new ArrayList<>();
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            if (dropLast && end - start < batchSize) {
                break;
            }
            out.add(java.util.Arrays.copyOfRange(p, start, end));
        }
        return out;
    }

    /**
     * Mixes two longs into a seed (the SplitMix64 finaliser over {@code seed + golden * (epoch + 1)}).
     *
     * @param seed the seed
     * @param epoch the epoch
     * @return the mixed seed
     */
    public static long mix(long seed, long epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
