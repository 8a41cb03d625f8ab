package org.rlhf4j.algorithms.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every PPO quantity against values computed by hand (two-step examples). */
class PpoLossesTest {

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
    void klEstimators() {
        // log π = −1, log π_ref = −1.5: k1 = 0.5; k3 = (ρ − 1) − log ρ with ρ = e^{−0.5}
        assertThat(PpoLosses.kl(-1, -1.5, KlEstimator.K1)).isCloseTo(0.5, within(1e-12));
        assertThat(PpoLosses.kl(-1, -1.5, KlEstimator.K3)).isCloseTo(Math.exp(-0.5) - 1 + 0.5, within(1e-12));
        // k3 is non-negative even when k1 is negative
        assertThat(PpoLosses.kl(-2, -1, KlEstimator.K1)).isCloseTo(-1, within(1e-12));
        assertThat(PpoLosses.kl(-2, -1, KlEstimator.K3)).isCloseTo(Math.exp(1) - 1 - 1, within(1e-12));
    }

    @Test
    void rewardsPutTheScoreOnTheLastRealToken() {
        float[][] kl = {{0.5f, -0.25f, 0f}, {1f, 2f, 3f}};
        int[][] mask = {{1, 1, 0}, {1, 1, 1}};
        float[][] r = PpoLosses.rewards(kl, new double[] {2.0, -1.0}, mask, 0.1);
        assertThat(r[0]).containsExactly(new float[] {-0.05f, 0.025f + 2.0f, 0f}, within(1e-6f));
        assertThat(r[1]).containsExactly(new float[] {-0.1f, -0.2f, -0.3f - 1.0f}, within(1e-6f));
    }

    @Test
    void gaeTwoStepExample() {
        // rewards (0.1, 1.0), values (0.5, 0.2), γ = 0.9, λ = 0.8
        // δ_1 = 1.0 − 0.2 = 0.8; A_1 = 0.8
        // δ_0 = 0.1 + 0.9·0.2 − 0.5 = −0.22; A_0 = −0.22 + 0.72·0.8 = 0.356
        float[][] r = {{0.1f, 1.0f, 0f}};
        float[][] v = {{0.5f, 0.2f, 9f}}; // value at padding is ignored
        int[][] mask = {{1, 1, 0}};
        PpoLosses.Advantages a = PpoLosses.gae(r, v, mask, 0.9, 0.8);
        assertThat(a.advantages()[0]).containsExactly(new float[] {0.356f, 0.8f, 0f}, within(1e-6f));
        assertThat(a.returns()[0]).containsExactly(new float[] {0.856f, 1.0f, 0f}, within(1e-6f));
        // γ = 1, λ = 1: A_t = Σ_{k≥t} r_k − V_t (Monte Carlo)
        PpoLosses.Advantages mc = PpoLosses.gae(r, v, mask, 1, 1);
        assertThat(mc.advantages()[0]).containsExactly(new float[] {1.1f - 0.5f, 1.0f - 0.2f, 0f}, within(1e-6f));
    }

    @Test
    void clippedPolicyLossAndItsGradient() {
        // token 1: ratio e^{0.5} = 1.6487 > 1.2, A = +1 -> max(−1.6487, −1.2) = −1.2, clipped, no gradient
        // token 2: ratio e^{−0.1} = 0.9048, A = −2 -> max(1.8097, 2·0.9048 clipped? 0.9048 in [0.8,1.2]) = 1.8097
        // token 3: masked
        NDArray newLp = m.create(new float[] {-0.5f, -1.1f, 5f});
        NDArray oldLp = m.create(new float[] {-1.0f, -1.0f, 0f});
        NDArray adv = m.create(new float[] {1f, -2f, 100f});
        NDArray mask = m.create(new float[] {1f, 1f, 0f});
        newLp.setRequiresGradient(true);
        float loss;
        float clipFrac;
        float outside;
        float approxKl;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            PpoLosses.PolicyTerms t = PpoLosses.policy(newLp, oldLp, adv, mask, 0.2);
            gc.backward(t.loss());
            loss = t.loss().getFloat();
            clipFrac = t.clipFrac().getFloat();
            outside = t.ratioOutsideClip().getFloat();
            approxKl = t.approxKl().getFloat();
        }
        double r2 = Math.exp(-0.1);
        assertThat(loss).isCloseTo((float) (-1.2 + 2 * r2), within(1e-5f));
        assertThat(clipFrac).isEqualTo(1f);
        assertThat(outside).isEqualTo(1f);
        assertThat(approxKl).isCloseTo((float) (0.5 * 0.25 + 0.5 * 0.01), within(1e-6f));
        float[] g = newLp.getGradient().toFloatArray();
        assertThat(g[0]).isZero(); // clipped
        assertThat(g[1]).isCloseTo((float) (2 * r2), within(1e-5f)); // d(−A ρ)/d log π = −A ρ
        assertThat(g[2]).isZero(); // masked
    }

    @Test
    void clipFractionCountsTokensWhereClippingBindsNotRatiosOutsideTheRange() {
        // ε = 0.2; per token: log ρ, A -> −Aρ (unclipped), −A·clip(ρ) (clipped), the loss takes the larger
        // 0: ρ = e^{0.5} = 1.6487, A = +1 -> −1.6487 vs −1.2: clipped taken (binds), ρ outside
        // 1: ρ = e^{−0.1} = 0.9048, A = −2 -> equal terms: inside, neither count
        // 2: ρ = e^{0.4} = 1.4918, A = −1 -> 1.4918 vs 1.2: unclipped taken, ρ outside (A pushes ρ back to 1)
        // 3: ρ = e^{−0.7} = 0.4966, A = +1 -> −0.4966 vs −0.8: unclipped taken, ρ outside
        // 4: ρ = e^{−0.7}, A = −1 -> 0.4966 vs 0.8: clipped taken (binds), ρ outside
        // 5: ρ = e^{0.5}, A = 0 -> both 0: nothing binds, ρ outside
        // 6: masked
        NDArray newLp = m.create(new float[] {-0.5f, -1.1f, -0.6f, -1.7f, -1.7f, -0.5f, 2f});
        NDArray oldLp = m.create(new float[] {-1.0f, -1.0f, -1.0f, -1.0f, -1.0f, -1.0f, -1.0f});
        NDArray adv = m.create(new float[] {1f, -2f, -1f, 1f, -1f, 0f, 1f});
        NDArray mask = m.create(new float[] {1f, 1f, 1f, 1f, 1f, 1f, 0f});
        newLp.setRequiresGradient(true);
        PpoLosses.PolicyTerms t;
        float loss;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            t = PpoLosses.policy(newLp, oldLp, adv, mask, 0.2);
            gc.backward(t.loss());
            loss = t.loss().getFloat();
        }
        // TRL's pg_clipfrac counts (pg_losses2 > pg_losses): tokens 0 and 4
        assertThat(t.clipFrac().getFloat()).isEqualTo(2f);
        // |ρ − 1| > ε: tokens 0, 2, 3, 4 and 5
        assertThat(t.ratioOutsideClip().getFloat()).isEqualTo(5f);
        double r1 = Math.exp(-0.1);
        double r2 = Math.exp(0.4);
        double r3 = Math.exp(-0.7);
        assertThat(loss).isCloseTo((float) (-1.2 + 2 * r1 + r2 - r3 + 0.8 + 0), within(1e-5f));
        // where clipping binds the loss is flat in log π; elsewhere d(−Aρ)/d log π = −Aρ
        float[] g = newLp.getGradient().toFloatArray();
        assertThat(g).containsExactly(new float[] {0f, (float) (2 * r1), (float) r2, (float) -r3, 0f, 0f, 0f},
                within(1e-5f));
    }

    @Test
    void valueClipFractionCountsTokensWhereTheClippedTermWins() {
        // ε_v = 0.2
        // 0: V_old = 1, V = 1.5 -> V_clip = 1.2, R = 2: (0.5)² < (0.8)²: clipped term taken, counts; ½·0.64
        // 1: V_old = 0, V = 0.1 inside, R = −1: equal terms, does not count; ½·1.21
        // 2: V_old = 0, V = 1 -> V_clip = 0.2, R = 0.5: (0.5)² > (0.3)²: unclipped taken although V left the
        //    range, does not count (TRL's vf_clipfrac: vf_losses2 > vf_losses1); ½·0.25
        NDArray v = m.create(new float[] {1.5f, 0.1f, 1f, 7f});
        NDArray vOld = m.create(new float[] {1f, 0f, 0f, 0f});
        NDArray ret = m.create(new float[] {2f, -1f, 0.5f, 0f});
        NDArray mask = m.create(new float[] {1f, 1f, 1f, 0f});
        PpoLosses.ValueTerms t = PpoLosses.value(v, vOld, ret, mask, 0.2);
        assertThat(t.clipFrac().getFloat()).isEqualTo(1f);
        assertThat(t.loss().getFloat()).isCloseTo(0.32f + 0.605f + 0.125f, within(1e-5f));
    }

    @Test
    void clippedValueLoss() {
        // V_old = 1, V = 1.5 (clipped to 1.2), R = 2: max((−0.5)², (−0.8)²) = 0.64 -> ½ = 0.32, clipped term wins
        // V_old = 0, V = 0.1 (inside), R = −1: (1.1)² = 1.21 -> 0.605
        NDArray v = m.create(new float[] {1.5f, 0.1f, 7f});
        NDArray vOld = m.create(new float[] {1f, 0f, 0f});
        NDArray ret = m.create(new float[] {2f, -1f, 0f});
        NDArray mask = m.create(new float[] {1f, 1f, 0f});
        PpoLosses.ValueTerms t = PpoLosses.value(v, vOld, ret, mask, 0.2);
        assertThat(t.loss().getFloat()).isCloseTo(0.32f + 0.605f, within(1e-5f));
        assertThat(t.clipFrac().getFloat()).isEqualTo(1f);
    }

    @Test
    void adaptiveKlController() {
        AdaptiveKl c = new AdaptiveKl(6.0, 10000);
        // K = 9: error clipped to 0.2 -> β·(1 + 0.2·512/10000)
        assertThat(c.update(0.05, 9.0, 512)).isCloseTo(0.05 * (1 + 0.2 * 512 / 10000.0), within(1e-12));
        // K = 3: error −0.5 clipped to −0.2
        assertThat(c.update(0.05, 3.0, 512)).isCloseTo(0.05 * (1 - 0.2 * 512 / 10000.0), within(1e-12));
        assertThat(c.update(0.05, 6.6, 100)).isCloseTo(0.05 * (1 + 0.1 * 100 / 10000.0), within(1e-12));
    }
}
