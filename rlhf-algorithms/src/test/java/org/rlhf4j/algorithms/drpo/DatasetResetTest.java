package org.rlhf4j.algorithms.drpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/** The reset distribution: prefixes of the reference, k uniform on {1..L−1}, β_mix as a Bernoulli rate. */
class DatasetResetTest {

    static Encoded.PromptOnly row(int[] reference) {
        return new Encoded.PromptOnly("r", new EncodedQuery("", new int[] {1, 2}, false), reference);
    }

    static final int[] REF6 = {11, 12, 13, 14, 15, 31}; // L = 6, EOS last

    @Test
    void aResetPrefixIsExactlyTheFirstKReferenceTokens() {
        DatasetReset reset = new DatasetReset(1.0, 53);
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 1000; i++) {
            int[] p = reset.prefix(row(REF6), rng);
            assertThat(p.length).isBetween(1, REF6.length - 1);
            assertThat(p).containsExactly(Arrays.copyOf(REF6, p.length));
        }
    }

    @Test
    void kIsUniformOnOneToLMinusOne() {
        // 20,000 draws for L = 6: k ∈ {1..5}, expected 4,000 each; χ² with 4 degrees of freedom
        DatasetReset reset = new DatasetReset(1.0, 53);
        SplittableRandom rng = new SplittableRandom(20240412);
        int n = 20_000;
        int[] counts = new int[REF6.length + 1];
        for (int i = 0; i < n; i++) {
            counts[reset.prefix(row(REF6), rng).length]++;
        }
        assertThat(counts[0]).as("k = 0 (no reset) never happens with β_mix = 1").isZero();
        assertThat(counts[REF6.length]).as("k = L (the full reference) is never forced").isZero();
        double expected = n / 5.0;
        double chi2 = 0;
        for (int k = 1; k <= 5; k++) {
            chi2 += (counts[k] - expected) * (counts[k] - expected) / expected;
        }
        System.out.printf("k counts %s, chi2 = %.3f%n", Arrays.toString(Arrays.copyOfRange(counts, 1, 6)), chi2);
        assertThat(chi2).as("χ²(4) 99.9%% critical value is 18.467").isLessThan(18.467);
        // and the test has power: a distribution that never picks k = 5 is rejected
        double biased = 0;
        for (int k = 1; k <= 5; k++) {
            double c = k == 5 ? 0 : n / 4.0;
            biased += (c - expected) * (c - expected) / expected;
        }
        assertThat(biased).isGreaterThan(18.467);
    }

    @Test
    void shortOrMissingReferencesAndBetaZeroNeverReset() {
        DatasetReset always = new DatasetReset(1.0, 53);
        SplittableRandom rng = new SplittableRandom(1);
        assertThat(always.prefix(row(new int[] {31}), rng)).isEmpty(); // L = 1
        assertThat(always.prefix(row(new int[0]), rng)).isEmpty();
        assertThat(always.prefix(row(null), rng)).isEmpty();
        assertThat(always.prefix(row(new int[] {7, 31}), rng)).containsExactly(7); // L = 2: k = 1 only

        DatasetReset never = new DatasetReset(0.0, 53);
        SplittableRandom a = new SplittableRandom(9);
        SplittableRandom b = new SplittableRandom(9);
        for (int i = 0; i < 100; i++) {
            assertThat(never.prefix(row(REF6), a)).isEmpty();
        }
        // β_mix = 0 draws nothing from the stream
        assertThat(a.nextLong()).isEqualTo(b.nextLong());
    }

    @Test
    void halfTheSamplesResetWithBetaMixOneHalf() {
        DatasetReset half = new DatasetReset(0.5, 53);
        SplittableRandom rng = new SplittableRandom(77);
        int n = 20_000;
        int resets = 0;
        for (int i = 0; i < n; i++) {
            resets += half.prefix(row(REF6), rng).length > 0 ? 1 : 0;
        }
        // Binomial(20000, 0.5): sd ≈ 70.7; 4.5 sd ≈ 318 (false alarm ~7e-6)
        assertThat(resets).isBetween(n / 2 - 318, n / 2 + 318);
    }

    @Test
    void thePrefixLeavesAtLeastOneTokenToGenerate() {
        // a reference longer than the response: k ≤ T − 1
        int[] longRef = new int[40];
        Arrays.fill(longRef, 3);
        DatasetReset reset = new DatasetReset(1.0, 8);
        assertThat(reset.maxPrefixLength(40)).isEqualTo(7);
        assertThat(reset.maxPrefixLength(6)).isEqualTo(5);
        assertThat(reset.maxPrefixLength(1)).isZero();
        SplittableRandom rng = new SplittableRandom(3);
        int max = 0;
        for (int i = 0; i < 2000; i++) {
            max = Math.max(max, reset.prefix(row(longRef), rng).length);
        }
        assertThat(max).isEqualTo(7);
    }

    @Test
    void theSameStreamGivesTheSamePrefix() {
        DatasetReset reset = new DatasetReset(0.3, 53);
        for (long seed = 0; seed < 200; seed++) {
            assertThat(reset.prefix(row(REF6), new SplittableRandom(seed)))
                    .containsExactly(reset.prefix(row(REF6), new SplittableRandom(seed)));
        }
    }

    @Test
    void invalidSettingsAreRejectedWithTheValue() {
        assertThatThrownBy(() -> new DatasetReset(1.5, 8)).hasMessageContaining("1.5");
        assertThatThrownBy(() -> new DatasetReset(Double.NaN, 8)).hasMessageContaining("NaN");
        assertThatThrownBy(() -> new DatasetReset(0.5, 0)).hasMessageContaining("got 0");
        assertThatThrownBy(() -> DrpoConfig.references().withBetaMix(-0.1)).hasMessageContaining("-0.1");
        assertThatThrownBy(() -> DrpoConfig.builder().setBetaMix(0.5).setResetSource(null).build())
                .hasMessageContaining("resetSource");
    }

    @Test
    void referencesFollowTheDrpoCode() {
        DrpoConfig c = DrpoConfig.references();
        assertThat(c.betaMix()).isEqualTo(1.0);
        assertThat(c.resetSource()).isEqualTo(ResetSource.REFERENCE_SUMMARY);
        assertThat(c.ppo().whitenRewards()).isTrue();
        assertThat(c.ppo().responseLength()).isEqualTo(53);
        assertThat(c.ppo().klCoef()).isEqualTo(0.05);
    }
}
