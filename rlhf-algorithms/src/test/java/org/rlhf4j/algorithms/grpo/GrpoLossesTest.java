package org.rlhf4j.algorithms.grpo;

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
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** GRPO advantages and losses against TRL 1.13.0's own code (fixtures) and hand-computed cases. */
class GrpoLossesTest {

    static final double TOL = 1e-5;
    static final JsonNode FIX = TrlFixtures.load("grpo.json");

    NDManager m;

    @BeforeEach
    void open() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        m.close();
    }

    // ---- TRL parity -------------------------------------------------------------------------------------------

    @Test
    void fixturesComeFromTrl1130() {
        assertThat(FIX.get("trl_version").asText()).isEqualTo("1.13.0");
        assertThat(FIX.get("cases").size()).isGreaterThanOrEqualTo(192);
    }

    @TestFactory
    Stream<DynamicTest> advantagesMatchTrl() {
        int g = FIX.get("num_generations").asInt();
        return StreamSupport.stream(FIX.get("advantage_cases").spliterator(), false).map(c -> DynamicTest.dynamicTest(
                c.get("rewards_set").asText() + "-" + c.get("scale_rewards").asText(), () -> {
                    double[] rewards = doubles(FIX.get("rewards_sets").get(c.get("rewards_set").asText()));
                    GrpoLosses.GroupAdvantages a = GrpoLosses.advantages(rewards, g,
                            ScaleRewards.parse(c.get("scale_rewards").asText()));
                    assertThat(a.advantages()).containsExactly(doubles(c.get("advantages")), within(TOL));
                    assertThat(a.fracRewardZeroStd()).isCloseTo(c.get("frac_reward_zero_std").asDouble(), within(1e-9));
                }));
    }

    @TestFactory
    Stream<DynamicTest> lossGradientAndMetricsMatchTrl() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : FIX.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> checkCase(c)));
        }
        return tests.stream();
    }

    private void checkCase(JsonNode c) {
        int g = FIX.get("num_generations").asInt();
        double beta = c.get("beta").asDouble();
        int mu = c.get("num_iterations").asInt();
        // the advantages of the case are ours, checked against TRL's; the loss is fed TRL's own float32 advantages so
        // that a sign of ±3e-8 (float rounding of a zero advantage) decides the clip metrics as in TRL
        GrpoLosses.GroupAdvantages ours = GrpoLosses.advantages(
                doubles(FIX.get("rewards_sets").get(c.get("rewards_set").asText())), g,
                ScaleRewards.parse(c.get("scale_rewards").asText()));
        assertThat(ours.advantages()).containsExactly(doubles(c.get("advantages")), within(TOL));

        NDArray mask = m.create(ints2(FIX.get("completion_mask")));
        if (c.get("mask_truncated_completions").asBoolean()) {
            boolean[] truncated = GrpoLosses.truncated(ints2(FIX.get("completion_ids")), FIX.get("eos_id").asInt(),
                    FIX.get("pad_id").asInt());
            mask = GrpoLosses.maskTruncated(mask, truncated);
        }
        assertThat(mask.toIntArray()).containsExactly(flatten(ints2(c.get("mask"))));

        NDArray logp = m.create(floats2(FIX.get("logp")));
        logp.setRequiresGradient(true);
        NDArray old = mu > 1 ? m.create(floats2(FIX.get("old_logp"))) : null;
        NDArray ref = beta != 0 ? m.create(floats2(FIX.get("ref_logp"))) : null;
        NDArray adv = m.create(floats(c.get("advantages")));
        NDArray ent = m.create(floats2(FIX.get("entropies")));
        GrpoLosses.Config cfg = new GrpoLosses.Config(GrpoLossType.parse(c.get("loss_type").asText()),
                c.get("epsilon").asDouble(), c.get("epsilon_high").asDouble(), beta, true,
                c.get("max_completion_length").asInt(), c.get("entropy_coef").asDouble());
        float loss;
        GrpoLosses.Metrics metrics;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            GrpoLosses.Terms t = GrpoLosses.loss(logp, old, ref, adv, mask, ent, cfg);
            gc.backward(t.loss());
            loss = t.loss().getFloat();
            metrics = t.metrics();
        }
        assertThat((double) loss).isCloseTo(c.get("loss").asDouble(), within(TOL));
        float[] expectedGrad = flatten(floats2(c.get("grad")));
        float[] grad = logp.getGradient().toFloatArray();
        assertThat(grad).containsExactly(expectedGrad, within((float) TOL));

        JsonNode tm = c.get("metrics");
        assertMetric(metrics.kl(), metric(tm, "kl"));
        assertMetric(metrics.entropy(), metric(tm, "entropy"));
        assertMetric(metrics.clipLowMean(), metric(tm, "clip_ratio/low_mean"));
        assertMetric(metrics.clipLowMin(), metric(tm, "clip_ratio/low_min"));
        assertMetric(metrics.clipHighMean(), metric(tm, "clip_ratio/high_mean"));
        assertMetric(metrics.clipHighMax(), metric(tm, "clip_ratio/high_max"));
        assertMetric(metrics.clipRegionMean(), metric(tm, "clip_ratio/region_mean"));
    }

    static void assertMetric(double actual, double expected) {
        if (Double.isNaN(expected)) {
            assertThat(actual).isNaN();
        } else {
            assertThat(actual).isCloseTo(expected, within(TOL));
        }
    }

    static float[] flatten(float[][] a) {
        int n = 0;
        for (float[] r : a) {
            n += r.length;
        }
        float[] f = new float[n];
        int k = 0;
        for (float[] r : a) {
            for (float v : r) {
                f[k++] = v;
            }
        }
        return f;
    }

    static int[] flatten(int[][] a) {
        return java.util.Arrays.stream(a).flatMapToInt(java.util.Arrays::stream).toArray();
    }

    // ---- hand-computed cases --------------------------------------------------------------------------------------

    @Test
    void aGroupOfEqualRewardsHasZeroAdvantage() {
        // group 0: (1, 0, 0.5): mean 0.5, unbiased std 0.5 -> A = ±0.5/(0.5 + 1e-4), 0; group 1 all equal -> A = 0
        double[] r = {1, 0, 0.5, 2, 2, 2};
        GrpoLosses.GroupAdvantages a = GrpoLosses.advantages(r, 3, ScaleRewards.GROUP);
        double s = 0.5 / (0.5 + 1e-4);
        assertThat(a.advantages()).containsExactly(new double[] {s, -s, 0, 0, 0, 0}, within(1e-12));
        assertThat(a.fracRewardZeroStd()).isEqualTo(0.5);
        // none: plain centring
        assertThat(GrpoLosses.advantages(r, 3, ScaleRewards.NONE).advantages())
                .containsExactly(new double[] {0.5, -0.5, 0, 0, 0, 0}, within(1e-12));
    }

    @Test
    void batchScalingKeepsTheGroupMeanButUsesTheBatchStd() {
        // r = (0, 2 | 10, 14): group means 1, 12; batch mean 6.5, unbiased batch var
        // ((6.5² + 4.5² + 3.5² + 7.5²)/3) = (42.25 + 20.25 + 12.25 + 56.25)/3 = 43.6667
        double[] r = {0, 2, 10, 14};
        double std = Math.sqrt(131.0 / 3);
        double[] a = GrpoLosses.advantages(r, 2, ScaleRewards.BATCH).advantages();
        assertThat(a).containsExactly(new double[] {-1 / (std + 1e-4), 1 / (std + 1e-4), -2 / (std + 1e-4),
                2 / (std + 1e-4)}, within(1e-12));
        // group std of (0, 2) is √2 (unbiased), not 1 (biased)
        assertThat(GrpoLosses.advantages(r, 2, ScaleRewards.GROUP).advantages()[0])
                .isCloseTo(-1 / (Math.sqrt(2) + 1e-4), within(1e-12));
        assertThatThrownBy(() -> GrpoLosses.advantages(r, 3, ScaleRewards.GROUP))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unscorableCompletionsGetZeroAdvantageAndLeaveTheGroupStatistics() {
        double[] r = {1, Double.NaN, 0};
        double[] a = GrpoLosses.advantages(r, 3, ScaleRewards.NONE).advantages();
        assertThat(a).containsExactly(new double[] {0.5, 0, -0.5}, within(1e-12));
    }

    @Test
    void epsilonHighBindsOnlyForPositiveAdvantages() {
        // ε_low = 0.2, ε_high = 0.28, one token per sequence, bnpo over 5 tokens
        // 0: ρ = 1.25, A = +1: inside [0.8, 1.28] -> −ρ, gradient −ρ/5
        // 1: ρ = 1.30, A = +1: above 1.28 -> −1.28, clipped, no gradient
        // 2: ρ = 1.30, A = −1: min(−1.3, −1.28) = −1.3 -> loss +1.3, unclipped, gradient +ρ/5
        // 3: ρ = 0.70, A = −1: min(−0.7, −0.8) = −0.8 -> loss 0.8, clipped, no gradient
        // 4: ρ = 0.70, A = +1: min(0.7, 0.8) = 0.7 -> loss −0.7, unclipped, gradient −ρ/5
        double[] rho = {1.25, 1.30, 1.30, 0.70, 0.70};
        float[][] old = {{-1f}, {-1f}, {-1f}, {-1f}, {-1f}};
        float[][] cur = new float[5][1];
        for (int i = 0; i < 5; i++) {
            cur[i][0] = (float) (-1 + Math.log(rho[i]));
        }
        NDArray logp = m.create(cur);
        logp.setRequiresGradient(true);
        NDArray adv = m.create(new float[] {1, 1, -1, -1, 1});
        NDArray mask = m.ones(logp.getShape());
        GrpoLosses.Config cfg = GrpoLosses.Config.trlDefaults().withLossType(GrpoLossType.BNPO).withEpsilon(0.2, 0.28);
        GrpoLosses.Terms t;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            t = GrpoLosses.loss(logp, m.create(old), null, adv, mask, null, cfg);
            gc.backward(t.loss());
        }
        assertThat(t.loss().getFloat()).isCloseTo((float) ((-1.25 - 1.28 + 1.3 + 0.8 - 0.7) / 5), within(1e-5f));
        assertThat(logp.getGradient().toFloatArray()).containsExactly(
                new float[] {(float) (-1.25 / 5), 0f, (float) (1.3 / 5), 0f, (float) (-0.7 / 5)}, within(1e-5f));
        // TRL's clip metrics: high = ρ > 1.28 with A > 0 (token 1); low = ρ < 0.8 with A < 0 (token 3)
        assertThat(t.metrics().clipHighMean()).isCloseTo(0.2, within(1e-9));
        assertThat(t.metrics().clipLowMean()).isCloseTo(0.2, within(1e-9));
        assertThat(t.metrics().clipRegionMean()).isCloseTo(0.4, within(1e-9));
        assertThat(t.metrics().clipHighMax()).isEqualTo(1.0);
        assertThat(t.metrics().clipLowMin()).isEqualTo(0.0);
        assertThat(t.metrics().kl()).isNaN();
        assertThat(t.metrics().entropy()).isNaN();
    }

    @Test
    void aggregationsOnTwoSequencesOfLengthsThreeAndOne() {
        // μ = 1 (ρ = 1, gradient of a token −A), A = (1, −2), masks (1,1,1,0) and (1,0,0,0):
        // per-token loss −A: row 0: −1 ×3, row 1: +2 ×1; Σ m ℓ = −1
        // grpo: mean(−3/3, 2/1) = 0.5;  gradient row 0: −1/3/2, row 1: +2/1/2
        // bnpo = dapo: −1/4;            gradient −A/4
        // dr_grpo with L = 10: −1/(2·10); gradient −A/20
        NDArray adv = m.create(new float[] {1, -2});
        NDArray mask = m.create(new float[][] {{1, 1, 1, 0}, {1, 0, 0, 0}});
        float[][] lp = {{-1f, -2f, -0.5f, Float.NaN}, {-3f, Float.NaN, Float.POSITIVE_INFINITY, 7f}};
        Object[][] expected = {
            {GrpoLossType.GRPO, 0.5f, new float[] {-1f / 6, -1f / 6, -1f / 6, 0, 1f, 0, 0, 0}},
            {GrpoLossType.BNPO, -0.25f, new float[] {-0.25f, -0.25f, -0.25f, 0, 0.5f, 0, 0, 0}},
            {GrpoLossType.DAPO, -0.25f, new float[] {-0.25f, -0.25f, -0.25f, 0, 0.5f, 0, 0, 0}},
            {GrpoLossType.DR_GRPO, -0.05f, new float[] {-0.05f, -0.05f, -0.05f, 0, 0.1f, 0, 0, 0}},
        };
        for (Object[] e : expected) {
            NDArray logp = m.create(lp);
            logp.setRequiresGradient(true);
            GrpoLosses.Config cfg = new GrpoLosses.Config((GrpoLossType) e[0], 0.2, 0.2, 0, true, 10, 0);
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                GrpoLosses.Terms t = GrpoLosses.loss(logp, null, null, adv, mask, null, cfg);
                gc.backward(t.loss());
                loss = t.loss().getFloat();
            }
            // NaN and ∞ at padding never reach the loss
            assertThat(loss).as("%s", e[0]).isCloseTo((float) e[1], within(1e-6f));
            float[] g = logp.getGradient().toFloatArray();
            float[] want = (float[]) e[2];
            for (int i : new int[] {0, 1, 2, 4}) {
                assertThat(g[i]).as("%s grad %d", e[0], i).isCloseTo(want[i], within(1e-6f));
            }
        }
        // dapo with an explicit normaliser (tokens of the whole accumulation window)
        NDArray logp = m.create(lp);
        GrpoLosses.Config dapo = GrpoLosses.Config.trlDefaults();
        assertThat(GrpoLosses.loss(logp, null, null, adv, mask, null, dapo, 8).loss().getFloat())
                .isCloseTo(-1f / 8, within(1e-6f));
    }

    @Test
    void k3KlTermWithBiasCorrectionOnPolicy() {
        // one token, μ = 1, A = 0, β = 0.1: d = log π_ref − log π = 0.5; k3 = e^{0.5} − 0.5 − 1 = 0.148721
        // loss = β·k3·ρ = 0.0148721 (ρ = 1); d/d log π [β (e^{d} − d − 1) ρ] = β[(1 − e^{d}) + k3] at ρ = 1
        double d = 0.5;
        double k3 = Math.exp(d) - d - 1;
        NDArray logp = m.create(new float[][] {{-1f}});
        logp.setRequiresGradient(true);
        NDArray ref = m.create(new float[][] {{-0.5f}});
        GrpoLosses.Config cfg = new GrpoLosses.Config(GrpoLossType.BNPO, 0.2, 0.2, 0.1, true, 1, 0);
        GrpoLosses.Terms t;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            t = GrpoLosses.loss(logp, null, ref, m.create(new float[] {0f}), m.ones(logp.getShape()), null, cfg);
            gc.backward(t.loss());
        }
        assertThat(t.loss().getFloat()).isCloseTo((float) (0.1 * k3), within(1e-6f));
        assertThat(t.metrics().kl()).isCloseTo(k3, within(1e-6));
        assertThat(logp.getGradient().getFloat(0, 0)).isCloseTo((float) (0.1 * (1 - Math.exp(d) + k3)), within(1e-6f));
        // without the bias correction the gradient is β(1 − e^{d}) only
        NDArray logp2 = m.create(new float[][] {{-1f}});
        logp2.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            GrpoLosses.Config plain = new GrpoLosses.Config(GrpoLossType.BNPO, 0.2, 0.2, 0.1, false, 1, 0);
            gc.backward(GrpoLosses.loss(logp2, null, ref, m.create(new float[] {0f}), m.ones(logp2.getShape()), null,
                    plain).loss());
        }
        assertThat(logp2.getGradient().getFloat(0, 0)).isCloseTo((float) (0.1 * (1 - Math.exp(d))), within(1e-6f));
    }

    @Test
    void truncatedCompletionsLeaveTheMask() {
        int eos = 2;
        int pad = 0;
        int[][] ids = {{5, 6, 2}, {5, 2, 0}, {5, 6, 7}, {2, 0, 0}};
        boolean[] t = GrpoLosses.truncated(ids, eos, pad);
        assertThat(t).containsExactly(false, false, true, false);
        NDArray mask = m.create(new int[][] {{1, 1, 1}, {1, 1, 0}, {1, 1, 1}, {1, 0, 0}});
        assertThat(GrpoLosses.maskTruncated(mask, t).toIntArray()).containsExactly(1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0);
    }

    @Test
    void namesAndValidation() {
        assertThat(GrpoLossType.parse("dr_grpo")).isEqualTo(GrpoLossType.DR_GRPO);
        assertThat(GrpoLossType.parse("DAPO")).isEqualTo(GrpoLossType.DAPO);
        assertThat(GrpoLossType.DR_GRPO.trlName()).isEqualTo("dr_grpo");
        assertThatThrownBy(() -> GrpoLossType.parse("cispo")).hasMessageContaining("valid: grpo, bnpo, dr_grpo, dapo");
        assertThat(ScaleRewards.parse("true")).isEqualTo(ScaleRewards.GROUP);
        assertThat(ScaleRewards.parse("False")).isEqualTo(ScaleRewards.NONE);
        assertThat(ScaleRewards.parse("batch")).isEqualTo(ScaleRewards.BATCH);
        assertThatThrownBy(() -> ScaleRewards.parse("x")).isInstanceOf(IllegalArgumentException.class);
        GrpoLosses.Config d = GrpoLosses.Config.trlDefaults();
        assertThat(d.lossType()).isEqualTo(GrpoLossType.DAPO);
        assertThat(d.beta()).isZero();
        assertThat(d.biasCorrectionKl()).isTrue();
        assertThatThrownBy(() -> d.withBeta(-1)).isInstanceOf(IllegalArgumentException.class);
        NDArray logp = m.zeros(new ai.djl.ndarray.types.Shape(1, 1));
        assertThatThrownBy(() -> GrpoLosses.loss(logp, null, null, m.zeros(new ai.djl.ndarray.types.Shape(1)),
                m.ones(logp.getShape()), null, d.withBeta(0.1))).hasMessageContaining("reference");
    }
}
