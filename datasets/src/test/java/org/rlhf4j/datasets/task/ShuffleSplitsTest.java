package org.rlhf4j.datasets.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ShuffleSplitsTest {

    @Test
    void permutationIsSeededAndValid() {
        int[] a = Shuffle.permutation(1000, 42);
        int[] b = Shuffle.permutation(1000, 42);
        int[] c = Shuffle.permutation(1000, 43);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertThat(sorted).isEqualTo(IntStream.range(0, 1000).toArray());
        assertThat(a).isNotEqualTo(sorted);
    }

    @Test
    void permutationFollowsTheDocumentedAlgorithm() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
        int[] p = {0, 1, 2, 3, 4};
        for (int i = 4; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        assertThat(Shuffle.permutation(5, 7)).isEqualTo(p);
    }

    @Test
    void shuffledListAndEpochBatchesAreDeterministic() {
        List<String> items = List.of("a", "b", "c", "d", "e", "f", "g");
        assertThat(Shuffle.shuffled(items, 1)).isEqualTo(Shuffle.shuffled(items, 1)).hasSameElementsAs(items);
        List<int[]> e0 = Shuffle.batches(7, 3, 5, 0, false);
        List<int[]> e0b = Shuffle.batches(7, 3, 5, 0, false);
        List<int[]> e1 = Shuffle.batches(7, 3, 5, 1, false);
        assertThat(e0).hasSize(3);
        assertThat(e0.get(2)).hasSize(1);
        for (int i = 0; i < 3; i++) {
            assertThat(e0.get(i)).isEqualTo(e0b.get(i));
        }
        assertThat(Shuffle.epochPermutation(7, 5, 0)).isNotEqualTo(Shuffle.epochPermutation(7, 5, 1));
        assertThat(Shuffle.batches(7, 3, 5, 1, true)).hasSize(2);
        assertThat(e1.stream().mapToInt(x -> x.length).sum()).isEqualTo(7);
        assertThatThrownBy(() -> Shuffle.batches(7, 0, 5, 0, true)).hasMessage("batchSize must be positive, got 0");
    }

    @Test
    void idSplitIsStableUnderReorderingAndRoughlySized() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ids.add("t3_" + i);
        }
        Splits.Parts<String> a = Splits.byId(ids, s -> s, 0.1, 3);
        List<String> reversed = new ArrayList<>(ids);
        Collections.reverse(reversed);
        Splits.Parts<String> b = Splits.byId(reversed, s -> s, 0.1, 3);
        assertThat(b.holdout()).hasSameElementsAs(a.holdout());
        assertThat(a.holdout().size()).isBetween(150, 250);
        assertThat(a.train().size() + a.holdout().size()).isEqualTo(2000);
        assertThat(Splits.byId(ids, s -> s, 0.1, 4).holdout()).isNotEqualTo(a.holdout());
        assertThat(Splits.unitHash("t3_1", 3)).isEqualTo(Splits.unitHash("t3_1", 3)).isBetween(0.0, 1.0);
    }

    @Test
    void permutationSplitHasTheExactSize() {
        List<Integer> rows = IntStream.range(0, 50).boxed().toList();
        Splits.Parts<Integer> p = Splits.byPermutation(rows, 0.2, 9);
        assertThat(p.holdout()).hasSize(10);
        assertThat(p.train()).hasSize(40).isSorted();
        assertThat(Splits.byPermutation(rows, 0.2, 9)).isEqualTo(p);
        assertThatThrownBy(() -> Splits.byPermutation(rows, 1.5, 9))
                .hasMessage("fraction must be in [0, 1], got 1.5");
    }
}
