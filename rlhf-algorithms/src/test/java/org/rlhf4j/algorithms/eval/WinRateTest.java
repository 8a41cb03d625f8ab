package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Win rates, position statistics and human agreement against counts done by hand. */
class WinRateTest {

    static Judgement one(Verdict v) {
        return Judgement.single(v, "");
    }

    @Test
    void tiesCountHalfAndInvalidIsExcluded() {
        WinRate.Result r = WinRate.of(List.of(one(Verdict.A), one(Verdict.A), one(Verdict.B), one(Verdict.TIE),
                one(Verdict.INVALID)));
        assertThat(r.comparisons()).isEqualTo(5);
        assertThat(r.wins()).isEqualTo(2);
        assertThat(r.losses()).isEqualTo(1);
        assertThat(r.ties()).isEqualTo(1);
        assertThat(r.invalid()).isEqualTo(1);
        assertThat(r.winRate()).isEqualTo(2.5 / 4);
        assertThat(r.position()).isNull();
        assertThat(WinRate.of(List.of(one(Verdict.INVALID))).winRate()).isNaN();
    }

    @Test
    void winRateIntervalCountsTiesAsHalf() {
        // 2 wins, 1 loss, 1 tie, 1 invalid: 2.5 of 4 valid
        WinRate.Result r = new WinRate.Result(5, 2, 1, 1, 1, 0.625, null);
        assertThat(r.valid()).isEqualTo(4);
        assertThat(r.ci95()).isEqualTo(Interval.wilson95(2.5, 4));
        assertThat(org.rlhf4j.core.io.Json.compact(r)).contains("\"ci95\":[0.2194");
    }

    @Test
    void positionConsistencyAndFirstPositionRate() {
        // (A,A): consistent; A-first answer picked the first shown, B-first answer did not
        // (A,B): inconsistent, both answers picked the first shown
        // (B,invalid): not a valid pair; its one valid answer (A first, chose B) did not pick the first shown
        List<Judgement> js = List.of(Judgement.bothOrders(Verdict.A, Verdict.A, ""),
                Judgement.bothOrders(Verdict.A, Verdict.B, ""), Judgement.bothOrders(Verdict.B, Verdict.INVALID, ""));
        WinRate.Result r = WinRate.of(js);
        assertThat(r.wins()).isEqualTo(1);
        assertThat(r.ties()).isEqualTo(1);
        assertThat(r.invalid()).isEqualTo(1);
        assertThat(r.winRate()).isEqualTo(0.75);
        assertThat(r.position().pairs()).isEqualTo(2);
        assertThat(r.position().consistent()).isEqualTo(1);
        assertThat(r.position().consistency()).isEqualTo(0.5);
        assertThat(r.position().answers()).isEqualTo(5);
        assertThat(r.position().firstPositionRate()).isEqualTo(3.0 / 5);
    }

    @Test
    void humanAgreementOverallAndByConfidence() {
        List<Judgement> js = List.of(one(Verdict.A), one(Verdict.A), one(Verdict.A), one(Verdict.TIE),
                one(Verdict.INVALID), one(Verdict.B));
        int[] human = {0, 0, 1, 1, 0, 1};
        Integer[] conf = {9, 9, 3, 3, null, 3};
        WinRate.HumanAgreement h = WinRate.humanAgreement(js, human, conf);
        // agree: rows 0, 1, 5; disagree: row 2; tie: row 3; invalid: row 4
        assertThat(h.overall()).isEqualTo(new WinRate.Agreement(6, 3, 1, 1, 1, 3.5 / 5));
        assertThat(h.byConfidence().keySet()).containsExactly(3, 9);
        assertThat(h.byConfidence().get(9)).isEqualTo(new WinRate.Agreement(2, 2, 0, 0, 0, 1.0));
        assertThat(h.byConfidence().get(3)).isEqualTo(new WinRate.Agreement(3, 1, 1, 1, 0, 0.5));
        assertThat(h.position()).isNull();
        assertThatThrownBy(() -> WinRate.humanAgreement(js, new int[] {0}, null)).hasMessageContaining("6 judgements");
        assertThatThrownBy(() -> WinRate.humanAgreement(List.of(one(Verdict.A)), new int[] {2}, null))
                .hasMessageContaining("got 2");
    }
}
