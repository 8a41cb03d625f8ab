package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DataReducerTest {

    static ReductionRow row(long line, String p, String c, String r) {
        return ReductionRow.of(line, p, c, r);
    }

    @Test
    void contradictionsDropEveryRowOfTheGroupAndExactCopiesKeepTheFirst() throws Exception {
        List<ReductionRow> rows = List.of(
                row(1, "post one", " a", " b"),
                row(2, "post one", " b", " a"), // contradicts 1 (and 3)
                row(3, "post one", " a", " b"),
                row(4, "post two", " c", " d"),
                row(5, "post two", " c", " d"), // exact copy of 4
                row(6, "post three", " e", " f"));
        ReductionReport r = DataReducer.builder().setFraction(1.0).build().reduce(rows);
        assertThat(r.contradictory()).containsExactly(1L, 2L, 3L);
        assertThat(r.exactDuplicates()).containsExactly(new ReductionReport.Duplicate(5, 4, 1.0));
        assertThat(r.keptLines()).containsExactly(4L, 6L);
        assertThat(r.target()).isEqualTo(6);
        assertThat(r.kept()).isEqualTo(2);
        assertThat(r.toMap().get("shortfall")).isEqualTo(4);
    }

    @Test
    void nearDuplicatesAreDroppedInFavourOfTheRowNearerTheCode() throws Exception {
        List<ReductionRow> rows = List.of(
                row(1, "The cat sat", " on the mat", " nowhere"),
                row(2, "the cat sat.", " On the mat!", " nowhere"), // same words: cosine 1
                row(3, "quantum physics lecture", " waves", " particles"));
        ReductionReport r = DataReducer.builder().setFraction(1.0).optCodebookSize(2).build().reduce(rows);
        assertThat(r.nearDuplicates()).hasSize(1);
        ReductionReport.Duplicate d = r.nearDuplicates().get(0);
        assertThat(java.util.Set.of(d.line(), d.of())).containsExactlyInAnyOrder(1L, 2L);
        assertThat(d.cosine()).isGreaterThan(0.995);
        assertThat(r.keptLines()).hasSize(2).contains(3L);
        // a threshold above 1 turns the check off
        ReductionReport off = DataReducer.builder().setFraction(1.0).optCodebookSize(2).optDedupThreshold(1.5)
                .build().reduce(rows);
        assertThat(off.nearDuplicates()).isEmpty();
        assertThat(off.keptLines()).containsExactly(1L, 2L, 3L);
    }

    /** 40 rows in 4 topics of 10, 10, 10, 10 distinct rows; 25% → 10 rows, codes keep in proportion. */
    @Test
    void targetIsExactAndEveryTopicIsKept() throws Exception {
        List<ReductionRow> rows = new ArrayList<>();
        String[] topics = {"cooking pasta recipe", "football match goal", "stock market crash", "guitar chord song"};
        for (int t = 0; t < 4; t++) {
            for (int i = 0; i < 10; i++) {
                rows.add(row(rows.size() + 1, topics[t] + " w" + i, " answer" + i + " good", " answer" + i + " bad"));
            }
        }
        ReductionReport r = DataReducer.builder().setFraction(0.25).optCodebookSize(4).optSeed(3).build().reduce(rows);
        assertThat(r.target()).isEqualTo(10);
        assertThat(r.kept()).isEqualTo(10);
        assertThat(r.codebookSize()).isEqualTo(4);
        int[] perTopic = new int[4];
        for (long l : r.keptLines()) {
            perTopic[(int) ((l - 1) / 10)]++;
        }
        assertThat(java.util.Arrays.stream(perTopic).min().orElseThrow())
                .as("per topic %s", java.util.Arrays.toString(perTopic)).isGreaterThanOrEqualTo(2);
        int keptSum = r.codes().stream().mapToInt(ReductionReport.Code::kept).sum();
        int sizeSum = r.codes().stream().mapToInt(ReductionReport.Code::size).sum();
        assertThat(keptSum).isEqualTo(10);
        assertThat(sizeSum).isEqualTo(40);
        assertThat(r.notSelected()).isEqualTo(30);
        // deterministic
        assertThat(DataReducer.builder().setFraction(0.25).optCodebookSize(4).optSeed(3).build().reduce(rows)
                .keptLines()).isEqualTo(r.keptLines());
    }

    @Test
    void reportJsonNamesCodesDropsAndLines() throws Exception {
        List<ReductionRow> rows = List.of(
                row(1, "p", " a", " b"), row(2, "p", " b", " a"), row(3, "q", " c", " d"), row(4, "q", " c", " d"),
                row(5, "r s t", " e", " f"));
        Map<String, Object> m = DataReducer.builder().setFraction(0.4).build().reduce(rows).toMap();
        assertThat(m).containsEntry("input_rows", 5).containsEntry("target", 2).containsEntry("kept", 2);
        @SuppressWarnings("unchecked")
        Map<String, Object> dropped = (Map<String, Object>) m.get("dropped");
        assertThat(dropped.get("contradictory")).isEqualTo(Map.of("count", 2, "lines", List.of(1L, 2L)));
        @SuppressWarnings("unchecked")
        Map<String, Object> exact = (Map<String, Object>) dropped.get("exact_duplicate");
        assertThat(exact.get("count")).isEqualTo(1);
        assertThat(exact.get("rows")).isEqualTo(List.of(Map.of("line", 4L, "of", 3L, "cosine", 1.0)));
        @SuppressWarnings("unchecked")
        Map<String, Object> cb = (Map<String, Object>) m.get("codebook");
        assertThat(cb.get("size")).isEqualTo(2);
        assertThat((List<?>) cb.get("codes")).hasSize(2);
        assertThat(m.get("kept_lines")).isEqualTo(List.of(3L, 5L));
        assertThat(m).doesNotContainKey("judge");
    }

    @Test
    void randomSubsetIsSeededAndChecksItsSize() {
        List<ReductionRow> rows = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            rows.add(row(i, "p" + i, " a", " b"));
        }
        List<Long> a = DataReducer.randomSubset(rows, 5, 9);
        assertThat(a).hasSize(5).isSorted().doesNotHaveDuplicates();
        assertThat(DataReducer.randomSubset(rows, 5, 9)).isEqualTo(a);
        assertThat(DataReducer.randomSubset(rows, 20, 1)).hasSize(20);
        assertThatThrownBy(() -> DataReducer.randomSubset(rows, 21, 1)).hasMessageContaining("got 21");
    }

    @Test
    void argumentChecksNameTheBadValue() {
        assertThatThrownBy(() -> DataReducer.builder().setFraction(0)).hasMessageContaining("got 0.0");
        assertThatThrownBy(() -> DataReducer.builder().setFraction(1.5)).hasMessageContaining("got 1.5");
        assertThatThrownBy(() -> DataReducer.builder().optCodebookSize(0)).hasMessageContaining("got 0");
        assertThatThrownBy(() -> DataReducer.builder().build()).hasMessageContaining("setFraction");
        assertThatThrownBy(() -> DataReducer.builder().setFraction(0.5).build()
                .reduce(List.of(row(1, "a", "b", "c"), row(1, "d", "e", "f")))).hasMessageContaining("line 1");
        assertThat(DataReducer.target(0.25, 10)).isEqualTo(3); // round(2.5) = 3
        assertThat(DataReducer.target(0.01, 10)).isEqualTo(1);
    }
}
