package org.rlhf4j.datasets.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CollatorTest {

    static final List<int[]> QUERIES = List.of(new int[] {5, 6, 7}, new int[] {8}, new int[] {9, 10});
    static final List<int[]> RESPONSES = List.of(new int[] {1}, new int[] {2, 3, 4}, new int[] {50256, 11});

    @Test
    void leftPadsQueries() {
        Padded p = Collator.leftPad(QUERIES, 50257);
        assertThat(p.ids()).isEqualTo(new long[][] {{5, 6, 7}, {50257, 50257, 8}, {50257, 9, 10}});
        assertThat(p.mask()).isEqualTo(new int[][] {{1, 1, 1}, {0, 0, 1}, {0, 1, 1}});
        assertThat(p.positionIds()).isEqualTo(new long[][] {{0, 1, 2}, {0, 0, 0}, {0, 0, 1}});
        assertThat(p.rows()).isEqualTo(3);
        assertThat(p.width()).isEqualTo(3);
    }

    @Test
    void leftPadsToAFixedWidthAndRejectsLongerRows() {
        Padded p = Collator.leftPad(List.of(new int[] {4, 2}), 0, 4);
        assertThat(p.ids()).isEqualTo(new long[][] {{0, 0, 4, 2}});
        assertThat(p.mask()).isEqualTo(new int[][] {{0, 0, 1, 1}});
        assertThatThrownBy(() -> Collator.leftPad(QUERIES, 0, 2))
                .hasMessage("sequence 0 has 3 tokens, more than the width 2");
    }

    @Test
    void rightPadsResponses() {
        Padded p = Collator.rightPad(RESPONSES, -1);
        assertThat(p.ids()).isEqualTo(new long[][] {{1, -1, -1}, {2, 3, 4}, {50256, 11, -1}});
        assertThat(p.mask()).isEqualTo(new int[][] {{1, 0, 0}, {1, 1, 1}, {1, 1, 0}});
    }

    @Test
    void collatesQueryAndResponseSoResponsesStartInOneColumn() {
        Batch b = Collator.collate(QUERIES, RESPONSES, 0);
        Padded all = b.concatenated();
        assertThat(all.ids()).isEqualTo(new long[][] {
            {5, 6, 7, 1, 0, 0},
            {0, 0, 8, 2, 3, 4},
            {0, 9, 10, 50256, 11, 0}});
        assertThat(all.mask()).isEqualTo(new int[][] {
            {1, 1, 1, 1, 0, 0},
            {0, 0, 1, 1, 1, 1},
            {0, 1, 1, 1, 1, 0}});
        assertThat(all.positionIds()[1]).containsExactly(0, 0, 0, 1, 2, 3);
        assertThat(b.size()).isEqualTo(3);
        assertThatThrownBy(() -> Collator.collate(QUERIES, RESPONSES.subList(0, 2), 0))
                .hasMessage("3 queries but 2 responses");
    }

    @Test
    void emptyBatchIsEmpty() {
        Padded p = Collator.leftPad(List.of(), 0);
        assertThat(p.rows()).isZero();
        assertThat(p.width()).isZero();
    }
}
