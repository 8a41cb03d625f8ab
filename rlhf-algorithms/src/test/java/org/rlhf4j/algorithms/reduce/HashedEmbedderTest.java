package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class HashedEmbedderTest {

    @Test
    void fnv1aMatchesThePublishedTestVectors() {
        // FNV-1a 64 test vectors (Fowler/Noll/Vo reference): "" and "a"
        assertThat(HashedEmbedder.fnv1a64("")).isEqualTo(0xcbf29ce484222325L);
        assertThat(HashedEmbedder.fnv1a64("a")).isEqualTo(0xaf63dc4c8601ec8cL);
        assertThat(HashedEmbedder.fnv1a64("foobar")).isEqualTo(0x85944171f73967e8L);
    }

    @Test
    void wordsAreLowerCasedRunsOfLettersAndDigits() {
        assertThat(HashedEmbedder.words("Hello, WORLD!  it's 2x_3")).containsExactly("hello", "world", "it", "s",
                "2x", "3");
        assertThat(HashedEmbedder.words("")).isEmpty();
    }

    @Test
    void unitVectorsSymmetricInTheResponsesAndBlindToCaseAndPunctuation() {
        HashedEmbedder e = new HashedEmbedder(64, true);
        List<ReductionRow> rows = List.of(
                ReductionRow.of(1, "my cat ate my homework", " the cat did it", " dog"),
                ReductionRow.of(2, "My cat ate my HOMEWORK.", " dog", " The cat did it!"),
                ReductionRow.of(3, "stock prices fell today", " markets down", " prices up"));
        double[][] v = e.embed(rows);
        for (double[] x : v) {
            assertThat(DataReducer.dot(x, x)).isCloseTo(1.0, within(1e-12));
        }
        assertThat(DataReducer.dot(v[0], v[1])).isCloseTo(1.0, within(1e-12));
        assertThat(DataReducer.dot(v[0], v[2])).isLessThan(0.5);
    }

    /**
     * Two rows, one word each in the prompt ("a" vs "b", no bigrams), same response "c": prompt block weights are
     * tf·idf with idf = ln(3/2) + 1 for both words, so each prompt block is a one-hot; the response block has
     * idf = ln(3/3) + 1 = 1 in one bucket. Each row: (1/√2)·one-hot(a) + (1/√2)·one-hot(c).
     */
    @Test
    void tfIdfBlocksByHand() {
        HashedEmbedder e = new HashedEmbedder(1024, false);
        double[][] v = e.embed(List.of(ReductionRow.of(1, "a", "c", ""), ReductionRow.of(2, "b", "c", "")));
        int a = e.bucket("w:a");
        int b = e.bucket("w:b");
        int c = 1024 + e.bucket("w:c");
        assertThat(a).isNotEqualTo(b);
        double s = 1 / Math.sqrt(2);
        assertThat(v[0][a]).isCloseTo(s, within(1e-12));
        assertThat(v[0][c]).isCloseTo(s, within(1e-12));
        assertThat(v[1][b]).isCloseTo(s, within(1e-12));
        assertThat(DataReducer.dot(v[0], v[1])).isCloseTo(0.5, within(1e-12));
        // counts: a repeated word counts twice
        assertThat(e.counts(List.of("x x y"))[e.bucket("w:x")]).isEqualTo(2.0);
    }
}
