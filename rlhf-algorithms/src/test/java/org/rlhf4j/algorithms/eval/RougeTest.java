package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ROUGE against values computed by hand. */
class RougeTest {

    @Test
    void tokenisationMatchesRougeScoreDefaults() {
        assertThat(Rouge.tokenize("Hello, WORLD!! it's 2024")).containsExactly("hello", "world", "it", "s", "2024");
        assertThat(Rouge.tokenize("café au lait")).containsExactly("caf", "au", "lait");
        assertThat(Rouge.tokenize(" ... ")).isEmpty();
        // no stemming
        assertThat(Rouge.score("cats running", "cat run").rouge1()).isZero();
    }

    @Test
    void overlappingSentences() {
        // cand: the cat sat on the mat; ref: the cat is on the mat
        // unigrams: overlap the×2 + cat + on + mat = 5 of 6 each; bigrams: the-cat, on-the, the-mat = 3 of 5 each;
        // LCS "the cat on the mat" = 5
        Rouge.Scores s = Rouge.score("The cat sat on the mat.", "the cat is on the mat");
        assertThat(s.rouge1()).isCloseTo(5.0 / 6, within(1e-12));
        assertThat(s.rouge2()).isCloseTo(3.0 / 5, within(1e-12));
        assertThat(s.rougeL()).isCloseTo(5.0 / 6, within(1e-12));
    }

    @Test
    void unequalLengthsAndClipping() {
        // cand a b c d, ref a c: R1 overlap 2, P = 1/2, R = 1, F = 2/3; no common bigram; LCS a c = 2
        Rouge.Prf p1 = Rouge.rougeN(List.of("a", "b", "c", "d"), List.of("a", "c"), 1);
        assertThat(p1.precision()).isEqualTo(0.5);
        assertThat(p1.recall()).isEqualTo(1.0);
        assertThat(p1.f1()).isCloseTo(2.0 / 3, within(1e-12));
        Rouge.Scores s = Rouge.score("a b c d", "a c");
        assertThat(s.rouge2()).isZero();
        assertThat(s.rougeL()).isCloseTo(2.0 / 3, within(1e-12));
        // the the the vs the cat: overlap min(3, 1) = 1, P = 1/3, R = 1/2, F = 0.4
        assertThat(Rouge.score("the the the", "the cat").rouge1()).isCloseTo(0.4, within(1e-12));
        // LCS order matters: b a vs a b = 1
        assertThat(Rouge.lcs(List.of("b", "a"), List.of("a", "b"))).isEqualTo(1);
        assertThat(Rouge.score("", "the cat")).isEqualTo(new Rouge.Scores(0, 0, 0));
        assertThat(Rouge.score("one", "one").rouge2()).isZero(); // no bigram on either side
    }

    @Test
    void meanIsThePerSummaryAverage() {
        Rouge.Scores m = Rouge.mean(List.of("the cat sat on the mat", "x y", "a b c d"),
                List.of("the cat is on the mat", "x y", "a c"));
        assertThat(m.rouge1()).isCloseTo((5.0 / 6 + 1 + 2.0 / 3) / 3, within(1e-12));
        assertThat(m.rouge2()).isCloseTo((0.6 + 1 + 0) / 3, within(1e-12));
        assertThat(m.rougeL()).isCloseTo((5.0 / 6 + 1 + 2.0 / 3) / 3, within(1e-12));
    }
}
