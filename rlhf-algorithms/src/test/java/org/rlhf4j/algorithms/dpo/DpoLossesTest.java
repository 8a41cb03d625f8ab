package org.rlhf4j.algorithms.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * Every loss variant against hand-computed values and gradients. The pair used throughout: log π_θ(y_w) = −10,
 * log π_θ(y_l) = −14, log π_ref(y_w) = −11, log π_ref(y_l) = −12, so u = (−10+11) − (−14+12) = 3 and, with
 * β = 0.1, h = 0.3, r_w = 0.1, r_l = −0.2. Since h depends on log π_θ(y_w) − log π_θ(y_l), ∂ℓ/∂log π_θ(y_w) =
 * β·∂ℓ/∂h = −∂ℓ/∂log π_θ(y_l).
 */
class DpoLossesTest {

    static final double BETA = 0.1;
    static final double H = 0.3;

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }

    /** Loss and the gradients w.r.t. log π_θ(y_w) and log π_θ(y_l) of one pair. */
    record Eval(double loss, double gradChosen, double gradRejected) {}

    static Eval eval(DpoLossType type, double eps, double pc, double pr, double rc, double rr) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray policyChosen = m.create(new float[] {(float) pc});
            NDArray policyRejected = m.create(new float[] {(float) pr});
            policyChosen.setRequiresGradient(true);
            policyRejected.setRequiresGradient(true);
            double loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = DpoLosses.losses(type, policyChosen, policyRejected, m.create(new float[] {(float) rc}),
                        m.create(new float[] {(float) rr}), BETA, eps);
                loss = l.getFloat(0);
                gc.backward(l.sum());
            }
            return new Eval(loss, policyChosen.getGradient().getFloat(0), policyRejected.getGradient().getFloat(0));
        }
    }

    static Eval atH03(DpoLossType type, double eps) {
        return eval(type, eps, -10, -14, -11, -12);
    }

    @Test
    void sigmoidIsMinusLogSigmoidOfTheMargin() {
        Eval e = atH03(DpoLossType.SIGMOID, 0);
        // −log σ(0.3) = log(1 + e^−0.3) = 0.5543552
        assertThat(e.loss()).isCloseTo(0.5543552, within(1e-6));
        assertThat(e.loss()).isCloseTo(softplus(-H), within(1e-6));
        // ∂ℓ/∂h = −σ(−h) = −0.4255575; ∂ℓ/∂log π(y_w) = β·that
        assertThat(e.gradChosen()).isCloseTo(-BETA * sigmoid(-H), within(1e-6)).isNegative();
        assertThat(e.gradRejected()).isCloseTo(BETA * sigmoid(-H), within(1e-6)).isPositive();
    }

    @Test
    void labelSmoothingIsConservativeDpo() {
        double eps = 0.1;
        Eval e = atH03(DpoLossType.SIGMOID, eps);
        // −(1−ε) log σ(h) − ε log σ(−h) = 0.9·0.5543552 + 0.1·0.8543552 = 0.5843552
        assertThat(e.loss()).isCloseTo(0.5843552, within(1e-6));
        assertThat(e.loss()).isCloseTo((1 - eps) * softplus(-H) + eps * softplus(H), within(1e-6));
        double dh = -(1 - eps) * sigmoid(-H) + eps * sigmoid(H);
        assertThat(e.gradChosen()).isCloseTo(BETA * dh, within(1e-6)).isNegative();
        assertThat(e.gradRejected()).isCloseTo(-BETA * dh, within(1e-6));
        // smoothing weakens the push at h = 0.3 ...
        assertThat(Math.abs(e.gradChosen())).isLessThan(Math.abs(atH03(DpoLossType.SIGMOID, 0).gradChosen()));
        // ... and reverses it once σ(h) > 1 − ε (the cDPO fixed point h* = log((1−ε)/ε) = 2.197 for ε = 0.1):
        // at u = 30, h = 3 > h*, the gradient pushes log π(y_w) down
        Eval far = eval(DpoLossType.SIGMOID, eps, 10, -14, -11, -5);
        assertThat(far.gradChosen()).isCloseTo(BETA * (-(1 - eps) * sigmoid(-3) + eps * sigmoid(3)), within(1e-6))
                .isPositive();
    }

    @Test
    void ipoRegressesTheLogRatioDifferenceToOneOverTwoBeta() {
        Eval e = atH03(DpoLossType.IPO);
        // (u − 1/(2β))² = (3 − 5)² = 4; ∂/∂log π(y_w) = 2(u − 5) = −4 (u not multiplied by β, as TRL)
        assertThat(e.loss()).isCloseTo(4.0, within(1e-5));
        assertThat(e.gradChosen()).isCloseTo(-4.0, within(1e-5));
        assertThat(e.gradRejected()).isCloseTo(4.0, within(1e-5));
        // past the target (u = 6) it pulls back: loss 1, gradient +2
        Eval over = eval(DpoLossType.IPO, 0, -7, -14, -11, -12);
        assertThat(over.loss()).isCloseTo(1.0, within(1e-5));
        assertThat(over.gradChosen()).isCloseTo(2.0, within(1e-5));
        // at the target exactly (u = 5) loss and gradient vanish
        Eval at = eval(DpoLossType.IPO, 0, -8, -14, -11, -12);
        assertThat(at.loss()).isCloseTo(0.0, within(1e-6));
        assertThat(at.gradChosen()).isCloseTo(0.0, within(1e-5));
    }

    private static Eval atH03(DpoLossType type) {
        return atH03(type, 0);
    }

    @Test
    void hingeIsZeroBeyondUnitMargin() {
        Eval e = atH03(DpoLossType.HINGE);
        // max(0, 1 − 0.3) = 0.7; ∂ℓ/∂h = −1 so ∂ℓ/∂log π(y_w) = −β
        assertThat(e.loss()).isCloseTo(0.7, within(1e-6));
        assertThat(e.gradChosen()).isCloseTo(-BETA, within(1e-6));
        assertThat(e.gradRejected()).isCloseTo(BETA, within(1e-6));
        // u = 15 → h = 1.5 > 1: no loss, no gradient
        Eval done = eval(DpoLossType.HINGE, 0, 2, -14, -11, -12);
        assertThat(done.loss()).isEqualTo(0.0);
        assertThat(done.gradChosen()).isEqualTo(0.0);
    }

    @Test
    void robustIsTheUnbiasedNoisyLabelLoss() {
        double eps = 0.1;
        Eval e = atH03(DpoLossType.ROBUST, eps);
        // [(1−ε) softplus(−h) − ε softplus(h)] / (1−2ε) = (0.4989197 − 0.0854355) / 0.8 = 0.5168552
        assertThat(e.loss()).isCloseTo(0.5168552, within(1e-6));
        assertThat(e.loss()).isCloseTo(((1 - eps) * softplus(-H) - eps * softplus(H)) / (1 - 2 * eps), within(1e-6));
        double dh = -((1 - eps) * sigmoid(-H) + eps * sigmoid(H)) / (1 - 2 * eps);
        assertThat(e.gradChosen()).isCloseTo(BETA * dh, within(1e-6)).isNegative();
        assertThat(e.gradRejected()).isCloseTo(-BETA * dh, within(1e-6)).isPositive();
        // unlike cDPO, the gradient never changes sign: still negative far beyond cDPO's fixed point
        Eval far = eval(DpoLossType.ROBUST, eps, 10, -14, -11, -5);
        assertThat(far.gradChosen()).isNegative();
        // with ε = 0 it is DPO
        assertThat(atH03(DpoLossType.ROBUST, 0).loss()).isCloseTo(atH03(DpoLossType.SIGMOID, 0).loss(), within(1e-7));
    }

    @Test
    void lossesAreElementwiseAndStableAtExtremeMargins() {
        try (NDManager m = NDManager.newBaseManager()) {
            // u = 3, −3, 1000, −1000 (h = 0.3, −0.3, 100, −100)
            NDArray u = m.create(new float[] {3f, -3f, 1000f, -1000f});
            float[] s = DpoLosses.losses(DpoLossType.SIGMOID, u, BETA, 0).toFloatArray();
            assertThat(s[0]).isCloseTo((float) softplus(-0.3), within(1e-6f));
            assertThat(s[1]).isCloseTo((float) softplus(0.3), within(1e-6f));
            assertThat(s[2]).isCloseTo(0f, within(1e-30f)); // log(1 + e^−100)
            assertThat(s[3]).isCloseTo(100f, within(1e-4f)); // no overflow
            float[] r = DpoLosses.losses(DpoLossType.ROBUST, u, BETA, 0.2).toFloatArray();
            assertThat(r[3]).isCloseTo((float) ((0.8 * 100 - 0.2 * 0) / 0.6), within(1e-3f));
            assertThat(r[2]).isCloseTo((float) ((0 - 0.2 * 100) / 0.6), within(1e-3f));
            for (float v : DpoLosses.losses(DpoLossType.HINGE, u, BETA, 0).toFloatArray()) {
                assertThat(v).isFinite().isGreaterThanOrEqualTo(0f);
            }
        }
    }

    @Test
    void logSigmoidIsStableWithSigmoidGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] xs = {-100f, -1f, 0f, 1f, 30f, 100f};
            NDArray x = m.create(xs);
            x.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ls = DpoLosses.logSigmoid(x);
                y = ls.toFloatArray();
                gc.backward(ls.sum());
            }
            float[] g = x.getGradient().toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                assertThat((double) y[i]).as("log σ(%s)", xs[i]).isCloseTo(-softplus(-xs[i]), within(1e-5));
                assertThat((double) g[i]).as("σ(−%s)", xs[i]).isCloseTo(sigmoid(-xs[i]), within(1e-6));
            }
            assertThat(y[0]).isCloseTo(-100f, within(1e-4f));
            assertThat(y[5]).isLessThanOrEqualTo(0f).isGreaterThan(-1e-30f);
        }
    }

    @Test
    void implicitRewardsAndTheirMarginIsH() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray pc = m.create(new float[] {-10f});
            NDArray pr = m.create(new float[] {-14f});
            NDArray rc = m.create(new float[] {-11f});
            NDArray rr = m.create(new float[] {-12f});
            float rw = DpoLosses.implicitRewards(pc, rc, BETA).getFloat(0);
            float rl = DpoLosses.implicitRewards(pr, rr, BETA).getFloat(0);
            assertThat(rw).isCloseTo(0.1f, within(1e-6f));
            assertThat(rl).isCloseTo(-0.2f, within(1e-6f));
            assertThat(DpoLosses.logRatioDifference(pc, pr, rc, rr).getFloat(0)).isCloseTo(3f, within(1e-6f));
            assertThat(rw - rl).isCloseTo((float) H, within(1e-6f));
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheValue() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray u = m.create(new float[] {1f});
            assertThatThrownBy(() -> DpoLosses.losses(DpoLossType.SIGMOID, u, 0, 0)).hasMessageContaining("beta")
                    .hasMessageContaining("0.0");
            assertThatThrownBy(() -> DpoLosses.losses(DpoLossType.SIGMOID, u, 0.1, 0.5))
                    .hasMessageContaining("labelSmoothing").hasMessageContaining("0.5");
            assertThatThrownBy(() -> DpoLosses.losses(DpoLossType.IPO, u, 0.1, 0.1)).hasMessageContaining("IPO")
                    .hasMessageContaining("0.1");
            assertThatThrownBy(() -> DpoLosses.losses(DpoLossType.HINGE, u, 0.1, 0.2)).hasMessageContaining("HINGE");
        }
    }
}
