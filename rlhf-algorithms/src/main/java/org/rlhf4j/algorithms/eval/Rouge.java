package org.rlhf4j.algorithms.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L F1 of a candidate summary against one reference (Lin 2004), computed like Google's
 * {@code rouge-score} package with its defaults.
 *
 * <p>Tokens: the text lower-cased, every run of characters outside {@code [a-z0-9]} replaced by a space, split on
 * spaces (non-ASCII letters are separators, as in {@code rouge-score}). No stemming: {@code rouge-score} applies the
 * Porter stemmer only with {@code use_stemmer=True}, which is off by default; scores with stemming would be
 * somewhat higher.
 *
 * <pre>
 *   ROUGE-N:  overlap = Σ_g min(count_cand(g), count_ref(g)) over n-grams g
 *             P = overlap / #cand n-grams,  R = overlap / #ref n-grams
 *   ROUGE-L:  P = LCS(cand, ref) / |cand|,  R = LCS(cand, ref) / |ref|
 *   F1 = 2PR / (P + R), and 0 when P + R = 0 (an empty candidate or reference scores 0)
 * </pre>
 *
 * A corpus score is the mean of the per-summary F1 values.
 */
public final class Rouge {

    private Rouge() {}

    /**
     * F1 values of one summary, or means over a set.
     *
     * @param rouge1 ROUGE-1 F1
     * @param rouge2 ROUGE-2 F1
     * @param rougeL ROUGE-L F1
     */
    public record Scores(double rouge1, double rouge2, double rougeL) {}

    /**
     * Precision, recall and F1.
     *
     * @param precision P
     * @param recall R
     * @param f1 2PR / (P + R)
     */
    public record Prf(double precision, double recall, double f1) {

        static Prf of(double overlap, int candidate, int reference) {
            double p = candidate == 0 ? 0 : overlap / candidate;
            double r = reference == 0 ? 0 : overlap / reference;
            return new Prf(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
        }
    }

    /**
     * Tokenises like {@code rouge-score}'s default tokenizer (lower case, {@code [^a-z0-9]+} as separators).
     *
     * @param text the text
     * @return the tokens
     */
    public static List<String> tokenize(String text) {
        String norm = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ").strip();
        List<String> out = new ArrayList<>();
        if (norm.isEmpty()) {
            return out;
        }
        for (String t : norm.split(" ")) {
            out.add(t);
        }
        return out;
    }

    /**
     * ROUGE-N of token lists.
     *
     * @param candidate candidate tokens
     * @param reference reference tokens
     * @param n the n-gram order (>= 1)
     * @return precision, recall, F1
     */
    public static Prf rougeN(List<String> candidate, List<String> reference, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        Map<List<String>, Integer> c = ngrams(candidate, n);
        Map<List<String>, Integer> r = ngrams(reference, n);
        int overlap = 0;
        for (Map.Entry<List<String>, Integer> e : c.entrySet()) {
            overlap += Math.min(e.getValue(), r.getOrDefault(e.getKey(), 0));
        }
        return Prf.of(overlap, Math.max(0, candidate.size() - n + 1), Math.max(0, reference.size() - n + 1));
    }

    /**
     * ROUGE-L (summary-level LCS, no sentence splitting) of token lists.
     *
     * @param candidate candidate tokens
     * @param reference reference tokens
     * @return precision, recall, F1
     */
    public static Prf rougeL(List<String> candidate, List<String> reference) {
        return Prf.of(lcs(candidate, reference), candidate.size(), reference.size());
    }

    /**
     * Returns the length of the longest common subsequence.
     *
     * @param a one sequence
     * @param b the other
     * @return |LCS(a, b)|
     */
    public static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> out = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            out.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
        }
        return out;
    }

    /**
     * ROUGE-1/2/L F1 of one candidate.
     *
     * @param candidate the candidate summary
     * @param reference the reference summary
     * @return the F1 values
     */
    public static Scores score(String candidate, String reference) {
        List<String> c = tokenize(candidate);
        List<String> r = tokenize(reference);
        return new Scores(rougeN(c, r, 1).f1(), rougeN(c, r, 2).f1(), rougeL(c, r).f1());
    }

    /**
     * Mean ROUGE-1/2/L F1 over aligned lists.
     *
     * @param candidates candidate summaries
     * @param references reference summaries, same length
     * @return the means (all 0 for empty lists)
     */
    public static Scores mean(List<String> candidates, List<String> references) {
        if (candidates.size() != references.size()) {
            throw new IllegalArgumentException(
                    "need one reference per candidate, got " + candidates.size() + " and " + references.size());
        }
        double r1 = 0;
        double r2 = 0;
        double rl = 0;
        for (int i = 0; i < candidates.size(); i++) {
            Scores s = score(candidates.get(i), references.get(i));
            r1 += s.rouge1();
            r2 += s.rouge2();
            rl += s.rougeL();
        }
        int n = Math.max(1, candidates.size());
        return new Scores(r1 / n, r2 / n, rl / n);
    }
}
