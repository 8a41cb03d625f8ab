package org.rlhf4j.algorithms.reduce;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model-free, deterministic text embedding: TF-IDF weighted hashed bags of words and word bigrams, one block for
 * the prompt and one for the two responses together, each L2-normalised, concatenated and scaled by 1/&radic;2.
 *
 * <p>Tokens are the maximal runs of letters and digits of the lower-cased text ({@link Character#isLetterOrDigit}),
 * so case, punctuation and whitespace do not count. A feature f (a word {@code w} or a bigram {@code w1 w2}) goes to
 * bucket {@code FNV-1a-64(f) mod dims}. Within a block, bucket j of row i weighs
 * {@code tf(i, j) · idf(j)} with the smoothed idf of scikit-learn's {@code TfidfVectorizer}:
 * {@code idf(j) = ln((1 + N) / (1 + df(j))) + 1}, df counted over the rows. The response block pools chosen and
 * rejected, so the vector does not depend on the label. Rows with the same words (up to case and punctuation) get
 * cosine similarity 1.
 */
public final class HashedEmbedder implements Embedder {

    private final int dims;
    private final boolean bigrams;

    /**
     * Creates the embedder.
     *
     * @param dims buckets per block (the vector has {@code 2 · dims} entries), &ge; 8
     * @param bigrams whether word bigrams are features too
     */
    public HashedEmbedder(int dims, boolean bigrams) {
        if (dims < 8) {
            throw new IllegalArgumentException("dims must be >= 8, got " + dims);
        }
        this.dims = dims;
        this.bigrams = bigrams;
    }

    /** Creates the default embedder: 256 buckets per block, with bigrams. */
    public HashedEmbedder() {
        this(256, true);
    }

    @Override
    public String describe() {
        return "hashed-tfidf(dims=" + dims + "x2," + (bigrams ? "words+bigrams" : "words") + ")";
    }

    @Override
    public double[][] embed(List<ReductionRow> rows) {
        int n = rows.size();
        double[][] prompt = new double[n][];
        double[][] resp = new double[n][];
        for (int i = 0; i < n; i++) {
            ReductionRow r = rows.get(i);
            prompt[i] = counts(List.of(r.prompt()));
            resp[i] = counts(List.of(r.chosen(), r.rejected()));
        }
        weigh(prompt);
        weigh(resp);
        double[][] out = new double[n][2 * dims];
        double s = 1 / Math.sqrt(2);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < dims; j++) {
                out[i][j] = prompt[i][j] * s;
                out[i][dims + j] = resp[i][j] * s;
            }
            // a block without any token is zero: renormalise so the other block alone has unit norm
            Embedder.normalize(out[i]);
        }
        return out;
    }

    /** Multiplies by idf and L2-normalises each row of one block. */
    private void weigh(double[][] block) {
        int n = block.length;
        int[] df = new int[dims];
        for (double[] v : block) {
            for (int j = 0; j < dims; j++) {
                if (v[j] > 0) {
                    df[j]++;
                }
            }
        }
        double[] idf = new double[dims];
        for (int j = 0; j < dims; j++) {
            // scikit-learn TfidfVectorizer(smooth_idf=True): idf = ln((1 + n) / (1 + df)) + 1
            idf[j] = Math.log((1.0 + n) / (1.0 + df[j])) + 1;
        }
        for (double[] v : block) {
            for (int j = 0; j < dims; j++) {
                v[j] *= idf[j];
            }
            Embedder.normalize(v);
        }
    }

    /** Hashed feature counts of some texts. */
    double[] counts(List<String> texts) {
        double[] v = new double[dims];
        for (String t : texts) {
            List<String> words = words(t);
            for (int i = 0; i < words.size(); i++) {
                v[bucket("w:" + words.get(i))]++;
                if (bigrams && i > 0) {
                    v[bucket("b:" + words.get(i - 1) + ' ' + words.get(i))]++;
                }
            }
        }
        return v;
    }

    int bucket(String feature) {
        return (int) Long.remainderUnsigned(fnv1a64(feature), dims);
    }

    /**
     * Splits a text into lower-case words: maximal runs of letters and digits.
     *
     * @param text the text
     * @return the words in order
     */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        String lower = text.toLowerCase(Locale.ROOT);
        int start = -1;
        for (int i = 0; i < lower.length(); ) {
            int cp = lower.codePointAt(i);
            boolean w = Character.isLetterOrDigit(cp);
            if (w && start < 0) {
                start = i;
            } else if (!w && start >= 0) {
                out.add(lower.substring(start, i));
                start = -1;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            out.add(lower.substring(start));
        }
        return out;
    }

    /**
     * FNV-1a 64-bit hash of the UTF-8 bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
     *
     * @param s the string
     * @return the hash
     */
    static long fnv1a64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
