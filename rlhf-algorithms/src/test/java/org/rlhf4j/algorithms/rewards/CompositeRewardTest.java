package org.rlhf4j.algorithms.rewards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Weighted NaN-skipping sums, null handling and TRL's metrics, by hand. */
class CompositeRewardTest {

    static final List<RewardInput> FOUR = Collections.nCopies(4, RewardInput.ofText("p", "c", Map.of()));

    static RewardFn constant(String name, Double... scores) {
        return RewardFn.named(name, batch -> Arrays.asList(scores));
    }

    @Test
    void sumsWeightedScoresSkippingNulls() {
        CompositeReward c = CompositeReward.of(List.of(
                new CompositeReward.Term(constant("a", 1.0, null, 3.0, null), 0.5),
                new CompositeReward.Term(constant("b", 10.0, 20.0, null, Double.NaN), 2.0)));
        CompositeReward.Scores s = c.score(FOUR);
        assertThat(s.names()).containsExactly("a", "b");
        assertThat(s.of("a")).containsExactly(1.0, Double.NaN, 3.0, Double.NaN);
        assertThat(s.of("b")).containsExactly(10.0, 20.0, Double.NaN, Double.NaN);
        // 0.5·1 + 2·10 = 20.5; 2·20 = 40; 0.5·3 = 1.5; no function applies → NaN (unscorable)
        assertThat(s.total()).containsExactly(20.5, 40.0, 1.5, Double.NaN);
        assertThat(s.scorable(0)).isTrue();
        assertThat(s.scorable(3)).isFalse();

        Map<String, Double> m = s.metrics();
        assertThat(m.keySet()).containsExactly("rewards/a/mean", "rewards/a/std", "rewards/b/mean", "rewards/b/std",
                "reward", "reward_std");
        // a: {1, 3}: mean 2, Bessel std √((1 + 1) / 1) = √2; b: {10, 20}: mean 15, std √50
        assertThat(m.get("rewards/a/mean")).isEqualTo(2.0);
        assertThat(m.get("rewards/a/std")).isCloseTo(Math.sqrt(2), within(1e-12));
        assertThat(m.get("rewards/b/mean")).isEqualTo(15.0);
        assertThat(m.get("rewards/b/std")).isCloseTo(Math.sqrt(50), within(1e-12));
        // combined {20.5, 40, 1.5}: mean 62/3; Σ(x − mean)² = 2022.5 − 3·(62/3)² = 4447/6; std = √(4447/12)
        assertThat(m.get("reward")).isCloseTo(62.0 / 3, within(1e-12));
        assertThat(m.get("reward_std")).isCloseTo(Math.sqrt(4447.0 / 12), within(1e-12));
        assertThat(m.get("reward_std")).isCloseTo(19.2506, within(1e-4));
    }

    @Test
    void defaultWeightsAreOneAndZeroWeightsStillCountAsApplied() {
        CompositeReward ones = CompositeReward.of(constant("a", 1.0, 2.0, null, null), constant("b", 3.0, null, 4.0, null));
        assertThat(ones.terms()).extracting(CompositeReward.Term::weight).containsExactly(1.0, 1.0);
        assertThat(ones.score(FOUR).total()).containsExactly(4.0, 2.0, 4.0, Double.NaN);
        CompositeReward zero = CompositeReward.of(List.of(new CompositeReward.Term(constant("a", 5.0, 5.0, 5.0, 5.0), 0.0)));
        assertThat(zero.score(FOUR).total()).containsExactly(0.0, 0.0, 0.0, 0.0);
    }

    @Test
    void stdOfFewerThanTwoValuesIsNaN() {
        CompositeReward.Scores s = CompositeReward.of(constant("a", 7.0, null, null, null)).score(FOUR);
        assertThat(s.metrics().get("rewards/a/mean")).isEqualTo(7.0);
        assertThat(s.metrics().get("rewards/a/std")).isNaN();
        CompositeReward.Scores none = CompositeReward.of(constant("a", null, null, null, null)).score(FOUR);
        assertThat(none.metrics().get("rewards/a/mean")).isNaN();
        assertThat(none.metrics().get("reward")).isNaN();
    }

    @Test
    void rejectsBadCombinationsAndOutputs() {
        assertThatThrownBy(() -> CompositeReward.of(List.of())).hasMessageContaining("at least one");
        assertThatThrownBy(() -> CompositeReward.of(constant("a", 1.0), constant("a", 2.0)))
                .hasMessageContaining("'a' twice");
        assertThatThrownBy(() -> new CompositeReward.Term(constant("a", 1.0), Double.NaN))
                .hasMessageContaining("'a'").hasMessageContaining("NaN");
        CompositeReward c = CompositeReward.of(constant("short", 1.0, 2.0));
        assertThatThrownBy(() -> c.score(FOUR)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'short' returned 2 rewards for 4 completions");
        assertThatThrownBy(() -> c.score(FOUR).of("x"));
    }
}
