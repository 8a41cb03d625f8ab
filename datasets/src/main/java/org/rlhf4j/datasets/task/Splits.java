package org.rlhf4j.datasets.task;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Deterministic train / hold-out splits: by a hash of each row's id (stable when rows are added, removed or
 * reordered) or by a seeded permutation (exact hold-out size).
 */
public final class Splits {

    private Splits() {}

    /**
     * The two parts of a split, each in the input order.
     *
     * @param train rows kept for training
     * @param holdout rows held out
     * @param <T> the row type
     */
    public record Parts<T>(List<T> train, List<T> holdout) {

        /**
         * Copies the lists.
         *
         * @param train train rows
         * @param holdout held-out rows
         */
        public Parts {
            train = List.copyOf(train);
            holdout = List.copyOf(holdout);
        }
    }

    /**
     * Maps an id to a number in [0, 1): the first 8 bytes of SHA-256(seed as 8 big-endian bytes, id as UTF-8),
     * top 53 bits, times 2^-53.
     *
     * @param id the row id
     * @param seed the seed
     * @return the hash in [0, 1)
     */
    public static double unitHash(String id, long seed) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(ByteBuffer.allocate(8).putLong(seed).array());
            md.update(id.getBytes(StandardCharsets.UTF_8));
            long bits = ByteBuffer.wrap(md.digest()).getLong();
            return (bits >>> 11) * 0x1.0p-53;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    /**
     * Splits rows by the hash of their ids: a row is held out when {@code unitHash(id, seed) < fraction}.
     *
     * @param rows the rows
     * @param id extracts a row's id
     * @param fraction the expected held-out fraction, in [0, 1]
     * @param seed the seed
     * @param <T> the row type
     * @return the parts
     */
    public static <T> Parts<T> byId(List<T> rows, Function<T, String> id, double fraction, long seed) {
        checkFraction(fraction);
        List<T> train = new ArrayList<>();
        List<T> hold = new ArrayList<>();
        for (T row : rows) {
            (unitHash(id.apply(row), seed) < fraction ? hold : train).add(row);
        }
        return new Parts<>(train, hold);
    }

    /**
     * Splits rows by a seeded permutation: the rows at the first {@code round(n * fraction)} positions of
     * {@link Shuffle#permutation(int, long)} are held out.
     *
     * @param rows the rows
     * @param fraction the held-out fraction, in [0, 1]
     * @param seed the seed
     * @param <T> the row type
     * @return the parts
     */
    public static <T> Parts<T> byPermutation(List<T> rows, double fraction, long seed) {
        checkFraction(fraction);
        int n = rows.size();
        int k = (int) Math.round(n * fraction);
        boolean[] hold = new boolean[n];
        int[] p = Shuffle.permutation(n, seed);
        for (int i = 0; i < k; i++) {
            hold[p[i]] = true;
        }
        List<T> train = new ArrayList<>();
        List<T> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            (hold[i] ? held : train).add(rows.get(i));
        }
        return new Parts<>(train, held);
    }

    private static void checkFraction(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be in [0, 1], got " + fraction);
        }
    }
}
