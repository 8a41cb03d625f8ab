package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.rlhf4j.core.io.Json;

/** Wilson score intervals against values worked out by hand from the formula. */
class IntervalTest {

    private static final double Z2 = Interval.Z95 * Interval.Z95; // 3.841459

    @Test
    void sevenOfTen() {
        // p = 0.7, z²/n = 0.384146: centre = (0.7 + 0.192073) / 1.384146 = 0.644493,
        // half = 1.959964·√(0.021 + 0.0096036) / 1.384146 = 0.247715
        Interval ci = Interval.wilson95(7, 10);
        assertThat(ci.lo()).isCloseTo(0.3968, within(1e-4));
        assertThat(ci.hi()).isCloseTo(0.8922, within(1e-4));
    }

    @Test
    void noSuccessesAndAllSuccessesStayInsideZeroOne() {
        // p = 0: centre = half = (z²/2n)/(1 + z²/n), so lo = 0 and hi = z²/(n + z²)
        Interval none = Interval.wilson95(0, 10);
        assertThat(none.lo()).isCloseTo(0.0, within(1e-12));
        assertThat(none.hi()).isCloseTo(Z2 / (10 + Z2), within(1e-12)).isCloseTo(0.2775, within(1e-4));
        Interval all = Interval.wilson95(10, 10);
        assertThat(all.lo()).isCloseTo(10 / (10 + Z2), within(1e-12)).isCloseTo(0.7225, within(1e-4));
        assertThat(all.hi()).isCloseTo(1.0, within(1e-12)).isLessThanOrEqualTo(1.0);
    }

    @Test
    void halfIsSymmetricAboutOneHalf() {
        // p = 0.5: centre 0.5, half = z·√(0.025 + z²/400) / (1 + z²/10) = 0.263407
        Interval ci = Interval.wilson95(5, 10);
        assertThat(ci.lo()).isCloseTo(0.2366, within(1e-4));
        assertThat(ci.hi()).isCloseTo(0.7634, within(1e-4));
        assertThat(ci.lo() + ci.hi()).isCloseTo(1.0, within(1e-12));
        assertThat(ci.contains(0.5)).isTrue();
    }

    @Test
    void fractionalSuccessesForTies() {
        // 2 wins, 1 loss, 1 tie: 2.5 of 4
        Interval ci = Interval.wilson95(2.5, 4);
        assertThat(ci.lo()).isCloseTo(0.2194, within(1e-4));
        assertThat(ci.hi()).isCloseTo(0.9081, within(1e-4));
    }

    @Test
    void containsIncludesTheBoundsAndUndefinedContainsNothing() {
        Interval ci = new Interval(0.4, 0.6);
        assertThat(ci.contains(0.4)).isTrue();
        assertThat(ci.contains(0.6)).isTrue();
        assertThat(ci.contains(0.61)).isFalse();
        Interval none = Interval.wilson95(0, 0);
        assertThat(none.defined()).isFalse();
        assertThat(none.contains(0.5)).isFalse();
    }

    @Test
    void writesAsAnArray() {
        assertThat(Json.compact(new Interval(0.25, 0.75))).isEqualTo("[0.25,0.75]");
    }

    @Test
    void rejectsImpossibleCounts() {
        assertThatThrownBy(() -> Interval.wilson95(11, 10)).hasMessageContaining("11.0");
        assertThatThrownBy(() -> Interval.wilson95(-1, 10)).hasMessageContaining("-1.0");
        assertThatThrownBy(() -> Interval.wilson95(0, -2)).hasMessageContaining("-2");
        assertThatThrownBy(() -> Interval.wilson(1, 2, 0)).hasMessageContaining("z must be > 0");
    }
}
