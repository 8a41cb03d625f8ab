package org.rlhf4j.algorithms.rloo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.rlhf4j.algorithms.grpo.TrlFixtures.doubles;
import static org.rlhf4j.algorithms.grpo.TrlFixtures.floats;
import static org.rlhf4j.algorithms.grpo.TrlFixtures.floats2;
import static org.rlhf4j.algorithms.grpo.TrlFixtures.ints2;
import static org.rlhf4j.algorithms.grpo.TrlFixtures.metric;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.rlhf4j.algorithms.grpo.GrpoLosses;
import org.rlhf4j.algorithms.grpo.TrlFixtures;

/** RLOO rewards, advantages and loss against TRL 1.13.0's own code (fixtures) and hand-computed cases. */
class RlooLossesTest {

    static final double TOL = 1e-5;
    static final JsonNode FIX = TrlFixtures.load("rloo.json");

    NDManager m;

    @BeforeEach
    void open() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        m.close();
    }

    @Test
    void fixturesComeFromTrl1130() {
        assertThat(FIX.get("trl_version").asText()).isEqualTo("1.13.0");
        assertThat(FIX.get("cases").size()).isGreaterThanOrEqualTo(64);
    }

    @TestFactory
    Stream<DynamicTest> rewardsAdvantagesLossAndGradientMatchTrl() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : FIX.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> checkCase(c)));
        }
        return tests.stream();
    }

    private void checkCase(JsonNode c) {
        int k = FIX.get("num_generations").asInt();
        double beta = c.get("beta").asDouble();
        int[][] mask = ints2(FIX.get("completion_mask"));
        if (c.get("mask_truncated_completions").asBoolean()) {
            boolean[] truncated = GrpoLosses.truncated(ints2(FIX.get("completion_ids")), FIX.get("eos_id").asInt(),
                    FIX.get("pad_id").asInt());
            mask = ints2Of(GrpoLosses.maskTruncated(m.create(mask), truncated));
        }
        assertThat(mask).isDeepEqualTo(ints2(c.get("mask")));

        // rollout side: old log-probs (the current ones when μ = 1), KL in the reward, leave-one-out advantages
        float[][] old = floats2(c.get("old_per_token_logp"));
        float[][] ref = floats2(FIX.get("ref_logp"));
        double[] seqKl = RlooLosses.sequenceKl(old, ref, mask);
        if (beta != 0) {
            assertThat(seqKl).containsExactly(doubles(c.get("sequence_kl")), within(TOL));
            assertThat(RlooLosses.meanTokenKl(old, ref, mask)).isCloseTo(c.get("kl").asDouble(), within(TOL));
        }
        JsonNode clip = c.get("reward_clip_range");
        double[] rewards = RlooLosses.penalisedRewards(doubles(FIX.get("rewards_sets").get(c.get("rewards_set")
                .asText())), seqKl, beta, clip.isNull() ? null : doubles(clip));
        double[] trlRewards = doubles(c.get("rewards"));
        for (int i = 0; i < rewards.length; i++) {
            if (Double.isNaN(trlRewards[i])) {
                assertThat(rewards[i]).isNaN();
            } else {
                assertThat(rewards[i]).isCloseTo(trlRewards[i], within(TOL));
            }
        }
        double[] adv = RlooLosses.advantages(rewards, k, c.get("normalize_advantages").asBoolean());
        assertThat(adv).containsExactly(doubles(c.get("advantages")), within(TOL));

        // loss side, fed TRL's float32 advantages (a ±3e-8 rounding of a zero advantage decides TRL's clip flags)
        NDArray maskArr = m.create(mask);
        NDArray oldSeq = RlooLosses.sequenceLogprobs(m.create(old), maskArr);
        assertThat(oldSeq.toFloatArray()).containsExactly(floats(c.get("old_logps")), within((float) TOL));
        NDArray logp = m.create(floats2(FIX.get("logp")));
        logp.setRequiresGradient(true);
        float loss;
        RlooLosses.Metrics metrics;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            RlooLosses.Terms t = RlooLosses.loss(logp, oldSeq, m.create(floats(c.get("advantages"))), maskArr,
                    m.create(floats2(FIX.get("entropies"))), c.get("epsilon").asDouble(),
                    c.get("epsilon_high").asDouble());
            gc.backward(t.loss());
            loss = t.loss().getFloat();
            metrics = t.metrics();
        }
        assertThat((double) loss).isCloseTo(c.get("loss").asDouble(), within(TOL));
        float[] want = flatten(floats2(c.get("grad")));
        assertThat(logp.getGradient().toFloatArray()).containsExactly(want, within((float) TOL));
        JsonNode tm = c.get("metrics");
        assertThat(metrics.entropy()).isCloseTo(metric(tm, "entropy"), within(TOL));
        assertThat(metrics.clipLowMean()).isCloseTo(metric(tm, "clip_ratio/low_mean"), within(TOL));
        assertThat(metrics.clipLowMin()).isCloseTo(metric(tm, "clip_ratio/low_min"), within(TOL));
        assertThat(metrics.clipHighMean()).isCloseTo(metric(tm, "clip_ratio/high_mean"), within(TOL));
        assertThat(metrics.clipHighMax()).isCloseTo(metric(tm, "clip_ratio/high_max"), within(TOL));
        assertThat(metrics.clipRegionMean()).isCloseTo(metric(tm, "clip_ratio/region_mean"), within(TOL));
    }

    private static int[][] ints2Of(NDArray a) {
        int rows = (int) a.getShape().get(0);
        int cols = (int) a.getShape().get(1);
        int[] flat = a.toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
        int[][] out = new int[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return out;
    }

    private static float[] flatten(float[][] a) {
        float[] f = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, f, i * a[0].length, a[i].length);
        }
        return f;
    }

    // ---- hand-computed cases --------------------------------------------------------------------------------------

    @Test
    void leaveOneOutBaseline() {
        // (1, 0, 0.5): baselines (0.25, 0.75, 0.5) -> A = (0.75, −0.75, 0); a group of equal rewards gives A = 0
        double[] a = RlooLosses.advantages(new double[] {1, 0, 0.5, 2, 2, 2}, 3, false);
        assertThat(a).containsExactly(new double[] {0.75, -0.75, 0, 0, 0, 0}, within(1e-12));
        // k = 2: A = ±(r_1 − r_2)
        assertThat(RlooLosses.advantages(new double[] {3, 1}, 2, false)).containsExactly(new double[] {2, -2},
                within(1e-12));
        // k = 1: no baseline, all zero
        assertThat(RlooLosses.advantages(new double[] {3, 1}, 1, false)).containsExactly(0, 0);
        // normalised: A = (0.75, −0.75, 0), mean 0, unbiased std 0.75 -> (1, −1, 0)·0.75/(0.75 + 1e-4)
        double s = 0.75 / (0.75 + 1e-4);
        assertThat(RlooLosses.advantages(new double[] {1, 0, 0.5}, 3, true)).containsExactly(new double[] {s, -s, 0},
                within(1e-12));
        // unscorable (NaN) rewards: left out of the baseline, advantage 0
        assertThat(RlooLosses.advantages(new double[] {1, Double.NaN, 0}, 3, false))
                .containsExactly(new double[] {1, 0, -1}, within(1e-12));
        assertThatThrownBy(() -> RlooLosses.advantages(new double[] {1, 2, 3}, 2, false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void klGoesIntoTheRewardAsASequenceSumOfK1() {
        float[][] old = {{-1f, -2f, Float.NaN}, {-0.5f, -0.5f, -0.5f}};
        float[][] ref = {{-1.5f, -1f, 3f}, {-0.5f, -1f, -2f}};
        int[][] mask = {{1, 1, 0}, {1, 1, 1}};
        double[] kl = RlooLosses.sequenceKl(old, ref, mask);
        assertThat(kl).containsExactly(new double[] {0.5 - 1.0, 0 + 0.5 + 1.5}, within(1e-7));
        assertThat(RlooLosses.meanTokenKl(old, ref, mask)).isCloseTo(1.5 / 5, within(1e-7));
        // clip first, then subtract β·KL
        double[] r = RlooLosses.penalisedRewards(new double[] {3, -3}, kl, 0.1, new double[] {-1, 1});
        assertThat(r).containsExactly(new double[] {1 + 0.05, -1 - 0.2}, within(1e-7));
    }

    @Test
    void sequenceLevelClippedLoss() {
        // two sequences, ε = 0.2, ε_high = 0.28
        // 0: Σ log π − old = log 1.5 -> ρ = 1.5 > 1.28, A = +1 -> −1.28, clipped: no gradient
        // 1: ρ = 0.9, A = −2 -> −min(−1.8, −1.8) = 1.8, inside: ∂/∂ log π_t = −A ρ/B = 0.9 on each real token
        NDArray logp = m.create(new float[][] {{-1f, -1f, Float.NaN}, {-0.5f, -0.5f, -0.5f}});
        logp.setRequiresGradient(true);
        NDArray mask = m.create(new float[][] {{1, 1, 0}, {1, 1, 1}});
        NDArray oldSeq = m.create(new float[] {(float) (-2 - Math.log(1.5)), (float) (-1.5 - Math.log(0.9))});
        NDArray adv = m.create(new float[] {1f, -2f});
        RlooLosses.Terms t;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            t = RlooLosses.loss(logp, oldSeq, adv, mask, null, 0.2, 0.28);
            gc.backward(t.loss());
        }
        assertThat(t.loss().getFloat()).isCloseTo((float) ((-1.28 + 1.8) / 2), within(1e-5f));
        float[] g = logp.getGradient().toFloatArray();
        assertThat(new float[] {g[0], g[1], g[3], g[4], g[5]}).containsExactly(new float[] {0, 0, 0.9f, 0.9f, 0.9f},
                within(1e-5f));
        assertThat(t.metrics().clipHighMean()).isEqualTo(0.5);
        assertThat(t.metrics().clipHighMax()).isEqualTo(1.0);
        assertThat(t.metrics().clipLowMean()).isZero();
        assertThat(t.metrics().clipRegionMean()).isEqualTo(0.5);
        assertThat(t.metrics().entropy()).isNaN();
    }
}
