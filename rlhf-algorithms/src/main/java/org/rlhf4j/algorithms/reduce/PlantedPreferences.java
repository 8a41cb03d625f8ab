package org.rlhf4j.algorithms.reduce;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * A synthetic, redundant and noisy preference data set whose truth is known, to test data reduction honestly.
 *
 * <p>There are C clusters (topics); cluster c has its own topic words {@code tC_J}, a good marker {@code gC} and a
 * bad marker {@code bC}. A row of cluster c: the prompt is 6 topic words and 2 of 20 shared filler words; both
 * responses are 3 fillers with the cluster's good (chosen) or bad (rejected) marker at a random place. The rule
 * "the response with gC wins" is learnable, but only from rows of cluster c: a reward model that never saw the
 * cluster scores its held-out pairs at chance. The training set is
 * <ul>
 *   <li>{@code common} clusters: {@code commonBase} distinct rows each, every one copied {@code copies} times — exact
 *       copies, copies differing only in case and punctuation (near-duplicates), and for every fourth base row 3
 *       exact copies with the label flipped (contradictions);</li>
 *   <li>{@code medium} clusters of {@code mediumRows} distinct rows;</li>
 *   <li>{@code rare} clusters of {@code rareRows} distinct rows.</li>
 * </ul>
 * The held-out set has {@code heldOutPerCluster} fresh rows of every cluster, so each cluster weighs the same. Rows
 * are shuffled; lines are 1-based positions.
 *
 * @param train the training rows
 * @param heldOut the held-out rows
 * @param clusterOfLine the cluster of each training row, by line − 1
 * @param clusters C
 */
public record PlantedPreferences(List<ReductionRow> train, List<ReductionRow> heldOut, int[] clusterOfLine,
        int clusters) {

    /** The number of shared filler words. */
    static final int FILLERS = 20;

    /** Topic words per cluster. */
    static final int TOPIC_WORDS = 6;

    /**
     * Copies the lists.
     *
     * @param train train
     * @param heldOut heldOut
     * @param clusterOfLine clusterOfLine
     * @param clusters clusters
     */
    public PlantedPreferences {
        train = List.copyOf(train);
        heldOut = List.copyOf(heldOut);
    }

    /**
     * Generates the default planted set: 2 common clusters of 8 base rows × 40 copies, 4 medium clusters of 40 rows,
     * 16 rare clusters of 4 rows (864 training rows, of which 240 distinct in content), 10 held-out rows per cluster.
     *
     * @param seed the generator's seed
     * @return the data
     */
    public static PlantedPreferences standard(long seed) {
        return generate(seed, 2, 8, 40, 4, 40, 16, 4, 10);
    }

    /**
     * Generates a planted set.
     *
     * @param seed seed
     * @param common redundant clusters
     * @param commonBase distinct rows per redundant cluster
     * @param copies rows per distinct redundant row (the original included)
     * @param medium medium clusters
     * @param mediumRows rows per medium cluster
     * @param rare rare clusters
     * @param rareRows rows per rare cluster
     * @param heldOutPerCluster held-out rows per cluster
     * @return the data
     */
    public static PlantedPreferences generate(long seed, int common, int commonBase, int copies, int medium,
            int mediumRows, int rare, int rareRows, int heldOutPerCluster) {
        SplittableRandom rng = new SplittableRandom(seed);
        int clusters = common + medium + rare;
        List<String[]> rows = new ArrayList<>(); // prompt, chosen, rejected, cluster
        for (int c = 0; c < common; c++) {
            for (int b = 0; b < commonBase; b++) {
                String[] base = row(rng, c);
                for (int k = 0; k < copies; k++) {
                    if (b % 4 == 0 && k >= copies - 3) { // contradictions: exact copies, label flipped
                        rows.add(new String[] {base[0], base[2], base[1], base[3]});
                    } else if (k % 2 == 0) { // exact copy
                        rows.add(base.clone());
                    } else { // near-duplicate: case and punctuation differ
                        rows.add(new String[] {vary(rng, base[0]), vary(rng, base[1]), vary(rng, base[2]), base[3]});
                    }
                }
            }
        }
        for (int c = common; c < common + medium; c++) {
            for (int i = 0; i < mediumRows; i++) {
                rows.add(row(rng, c));
            }
        }
        for (int c = common + medium; c < clusters; c++) {
            for (int i = 0; i < rareRows; i++) {
                rows.add(row(rng, c));
            }
        }
        Collections.shuffle(rows, new java.util.Random(rng.nextLong()));
        List<ReductionRow> train = new ArrayList<>();
        int[] clusterOf = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            String[] r = rows.get(i);
            train.add(ReductionRow.of(i + 1, r[0], r[1], r[2]));
            clusterOf[i] = Integer.parseInt(r[3]);
        }
        List<ReductionRow> held = new ArrayList<>();
        for (int c = 0; c < clusters; c++) {
            for (int i = 0; i < heldOutPerCluster; i++) {
                String[] r = row(rng, c);
                held.add(ReductionRow.of(held.size() + 1, r[0], r[1], r[2]));
            }
        }
        return new PlantedPreferences(train, held, clusterOf, clusters);
    }

    /** One row of cluster c: prompt, chosen, rejected, cluster. */
    private static String[] row(SplittableRandom rng, int c) {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < TOPIC_WORDS; i++) {
            p.add("t" + c + "_" + rng.nextInt(TOPIC_WORDS));
        }
        p.add("f" + rng.nextInt(FILLERS));
        p.add("f" + rng.nextInt(FILLERS));
        Collections.shuffle(p, new java.util.Random(rng.nextLong()));
        return new String[] {String.join(" ", p), response(rng, "g" + c), response(rng, "b" + c), Integer.toString(c)};
    }

    private static String response(SplittableRandom rng, String marker) {
        List<String> w = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            w.add("f" + rng.nextInt(FILLERS));
        }
        w.add(rng.nextInt(4), marker);
        return " " + String.join(" ", w);
    }

    /** Upper-cases one random word and appends a full stop. */
    private static String vary(SplittableRandom rng, String s) {
        String[] w = s.split(" ", -1);
        int i = rng.nextInt(w.length);
        w[i] = w[i].toUpperCase(Locale.ROOT);
        return String.join(" ", w) + ".";
    }

    /**
     * Returns how many distinct clusters some training lines cover.
     *
     * @param lines 1-based training lines
     * @param fromCluster only clusters with index &ge; this count (e.g. the rare ones)
     * @return the number of clusters with at least one line
     */
    public int coverage(List<Long> lines, int fromCluster) {
        boolean[] seen = new boolean[clusters];
        for (long l : lines) {
            seen[clusterOfLine[(int) (l - 1)]] = true;
        }
        int n = 0;
        for (int c = fromCluster; c < clusters; c++) {
            n += seen[c] ? 1 : 0;
        }
        return n;
    }

    /**
     * Returns a word-level tokenizer for this data: lower-cased maximal runs of letters, digits and underscores,
     * each mapped to its id ({@code <eos>} is 0, unknown words 1).
     *
     * @return the tokenizer
     */
    public Tokenizer tokenizer() {
        List<String> vocab = new ArrayList<>(List.of("<eos>", "<unk>"));
        for (int i = 0; i < FILLERS; i++) {
            vocab.add("f" + i);
        }
        for (int c = 0; c < clusters; c++) {
            vocab.add("g" + c);
            vocab.add("b" + c);
            for (int j = 0; j < TOPIC_WORDS; j++) {
                vocab.add("t" + c + "_" + j);
            }
        }
        return new WordTokenizer(vocab);
    }

    /** A word-level tokenizer over a fixed vocabulary (id 0 is EOS, id 1 unknown). */
    static final class WordTokenizer implements Tokenizer {

        private final List<String> vocab;
        private final Map<String, Integer> ids = new HashMap<>();

        WordTokenizer(List<String> vocab) {
            this.vocab = List.copyOf(vocab);
            for (int i = 0; i < vocab.size(); i++) {
                ids.put(vocab.get(i), i);
            }
        }

        @Override
        public int[] encode(String text) {
            List<Integer> out = new ArrayList<>();
            for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z0-9_]+")) {
                if (!w.isEmpty()) {
                    out.add(ids.getOrDefault(w, 1));
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public String decode(int[] tokens, boolean skipSpecialTokens) {
            List<String> w = new ArrayList<>();
            for (int t : tokens) {
                if (!(skipSpecialTokens && t == 0)) {
                    w.add(vocab.get(t));
                }
            }
            return String.join(" ", w);
        }

        @Override
        public int vocabSize() {
            return vocab.size();
        }

        @Override
        public int eosTokenId() {
            return 0;
        }

        @Override
        public void save(Path dir) {
            throw new UnsupportedOperationException("the planted word tokenizer is not saved");
        }

        @Override
        public void close() {}
    }
}
