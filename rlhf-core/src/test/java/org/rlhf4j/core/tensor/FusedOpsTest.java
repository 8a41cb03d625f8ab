package org.rlhf4j.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.assertj.core.data.Offset;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The TorchScript ops load into DJL's libtorch and equal their formulas evaluated in float64 in value and gradient
 * (gradients reach the inputs through the modules): the tanh GELU (HF {@code NewGELUActivation}) and SiLU; the token
 * log-probabilities and entropy from one log-softmax equal the two float64 formulas.
 */
class FusedOpsTest {

    /** HF NewGELUActivation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as DJL ops. */
    private static NDArray formula(NDArray u) {
        NDArray inner = TensorOps.mul(TensorOps.mul(u.mul(u).mul(u), 0.044715).add(u), Math.sqrt(2 / Math.PI));
        return TensorOps.mul(u, 0.5).mul(TensorOps.add(inner.tanh(), 1));
    }

    private static double maxRel(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getDouble() / b.abs().max().getDouble();
    }

    @Test
    void theModuleLoadsFromTheClasspath() {
        assertThat(FusedOps.available()).as("gelu_tanh.pt must load into DJL's libtorch").isTrue();
    }

    @Test
    void geluTanhEqualsTheFormulaInValueAndGradient() {
        Random rng = new Random(19);
        float[] xs = new float[8 * 3 * 17];
        float[] gs = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (3 * rng.nextGaussian());
            gs[i] = (float) rng.nextGaussian();
        }
        Shape shape = new Shape(8, 3, 17);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] values = new NDArray[2];
            NDArray[] grads = new NDArray[2];
            for (int i = 0; i < 2; i++) { // the module in float32, the formula in float64 (the truth)
                DataType t = i == 0 ? DataType.FLOAT32 : DataType.FLOAT64;
                NDArray u = m.create(xs, shape).toType(t, false);
                u.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    values[i] = i == 0 ? FusedOps.geluTanh(u) : formula(u);
                    gc.backward(values[i].mul(m.create(gs, shape).toType(t, false)).sum());
                }
                assertThat(values[i].getManager()).isSameAs(u.getManager());
                values[i] = values[i].toType(DataType.FLOAT64, false);
                grads[i] = u.getGradient().toType(DataType.FLOAT64, false);
            }
            assertThat(values[0].getShape()).isEqualTo(shape);
            assertThat(maxRel(values[0], values[1])).isLessThan(1e-6);
            assertThat(maxRel(grads[0], grads[1])).isLessThan(1e-6);
            // hand-computed: ½(1 + tanh(√(2/π)(1.044715))) = 0.8411920, −(1 + tanh(√(2/π)(−2.35772))) = −0.0454023
            float[] at = FusedOps.geluTanh(m.create(new float[] {1f, -2f, 0f})).toFloatArray();
            assertThat(at[0]).isCloseTo(0.8411920f, Offset.offset(1e-6f));
            assertThat(at[1]).isCloseTo(-0.0454023f, Offset.offset(1e-6f));
            assertThat(at[2]).isZero();
        }
    }

    @Test
    void siluEqualsTheFormulaInValueAndGradient() {
        Random rng = new Random(7);
        float[] xs = new float[8 * 3 * 17];
        float[] gs = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (4 * rng.nextGaussian());
            gs[i] = (float) rng.nextGaussian();
        }
        Shape shape = new Shape(8, 3, 17);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] values = new NDArray[2];
            NDArray[] grads = new NDArray[2];
            for (int i = 0; i < 2; i++) { // the module in float32, z / (1 + e^−z) in float64 (the truth)
                DataType t = i == 0 ? DataType.FLOAT32 : DataType.FLOAT64;
                NDArray u = m.create(xs, shape).toType(t, false);
                u.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    values[i] = i == 0 ? FusedOps.silu(u) : u.div(TensorOps.add(u.neg().exp(), 1));
                    gc.backward(values[i].mul(m.create(gs, shape).toType(t, false)).sum());
                }
                assertThat(values[i].getManager()).isSameAs(u.getManager());
                values[i] = values[i].toType(DataType.FLOAT64, false);
                grads[i] = u.getGradient().toType(DataType.FLOAT64, false);
            }
            assertThat(values[0].getShape()).isEqualTo(shape);
            assertThat(maxRel(values[0], values[1])).isLessThan(1e-6);
            assertThat(maxRel(grads[0], grads[1])).isLessThan(1e-6);
            // hand-computed: 1·σ(1) = 0.7310586, −2·σ(−2) = −0.2384058
            float[] at = FusedOps.silu(m.create(new float[] {1f, -2f, 0f})).toFloatArray();
            assertThat(at[0]).isCloseTo(0.7310586f, Offset.offset(1e-6f));
            assertThat(at[1]).isCloseTo(-0.2384058f, Offset.offset(1e-6f));
            assertThat(at[2]).isZero();
        }
    }

    /**
     * Max relative errors of (logp, H, ∂/∂z) of f against log_softmax evaluated in float64, for logits [3, 5, 17]
     * ~ N(0, 3²) and a random upstream gradient on logp (and on H when f returns it).
     */
    private static double[] logprobErrors(BiFunction<NDArray, NDArray, NDList> f) {
        Random rng = new Random(11);
        Shape shape = new Shape(3, 5, 17);
        float[] zs = new float[(int) shape.size()];
        int[] ys = new int[15];
        float[] g1 = new float[15];
        float[] g2 = new float[15];
        for (int i = 0; i < zs.length; i++) {
            zs[i] = (float) (3 * rng.nextGaussian());
        }
        for (int i = 0; i < ys.length; i++) {
            ys[i] = rng.nextInt(17);
            g1[i] = (float) rng.nextGaussian();
            g2[i] = (float) rng.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDList[] out = new NDList[2];
            NDArray[] grads = new NDArray[2];
            for (int i = 0; i < 2; i++) {
                DataType t = i == 0 ? DataType.FLOAT32 : DataType.FLOAT64;
                NDArray z = m.create(zs, shape).toType(t, false);
                NDArray y = m.create(ys, new Shape(3, 5)); // int32 labels, as the trainers pass them
                z.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    if (i == 0) {
                        out[i] = f.apply(z, y);
                    } else {
                        NDArray logp = z.logSoftmax(-1);
                        out[i] = new NDList(logp.gather(y.toType(DataType.INT64, false).expandDims(-1), -1)
                                .squeeze(-1), logp.exp().mul(logp).sum(new int[] {-1}).neg());
                    }
                    NDArray loss = out[i].get(0).mul(m.create(g1, new Shape(3, 5)).toType(t, false)).sum();
                    if (out[0].size() == 2) {
                        loss = loss.add(out[i].get(1).mul(m.create(g2, new Shape(3, 5)).toType(t, false)).sum());
                    }
                    gc.backward(loss);
                }
                grads[i] = z.getGradient().toType(DataType.FLOAT64, false);
            }
            assertThat(out[0].get(0).getShape()).isEqualTo(new Shape(3, 5));
            assertThat(out[0].get(0).getDataType()).isEqualTo(DataType.FLOAT32);
            double lp = maxRel(out[0].get(0).toType(DataType.FLOAT64, false), out[1].get(0));
            double h = out[0].size() == 2 ? maxRel(out[0].get(1).toType(DataType.FLOAT64, false), out[1].get(1)) : 0;
            return new double[] {lp, h, maxRel(grads[0], grads[1])};
        }
    }

    @Test
    void tokenLogprobsAndEntropyEqualTheirFormulasInFloat64() {
        double[] e = logprobErrors(FusedOps::tokenLogprobsAndEntropy);
        System.out.printf("logp and entropy vs float64: logp %.2e, entropy %.2e, gradient %.2e%n", e[0], e[1], e[2]);
        assertThat(e[0]).as("logp").isLessThan(1e-6);
        assertThat(e[1]).as("entropy").isLessThan(1e-6);
        assertThat(e[2]).as("gradient").isLessThan(1e-6);
    }

    @Test
    void tokenLogprobsAndEntropyHandCheckedOnAView() {
        try (NDManager m = NDManager.newBaseManager()) {
            // row [0, ln 3]: softmax (1/4, 3/4): log p = (−ln 4, ln 3 − ln 4); H = ln 4 − ¾ ln 3 = 0.5623351
            NDArray z = m.create(new float[] {0f, (float) Math.log(3), 9f, 9f, 0f, (float) Math.log(3)},
                    new Shape(1, 3, 2)).get(":, ::2, :"); // a non-contiguous view [1, 2, 2]
            NDArray y = m.create(new long[] {0, 1}, new Shape(1, 2));
            NDList both = FusedOps.tokenLogprobsAndEntropy(z, y);
            float[] lp = both.get(0).toFloatArray();
            assertThat(lp[0]).isCloseTo((float) -Math.log(4), Offset.offset(1e-6f));
            assertThat(lp[1]).isCloseTo((float) (Math.log(3) - Math.log(4)), Offset.offset(1e-6f));
            float[] h = both.get(1).toFloatArray();
            assertThat(h[0]).isCloseTo(0.5623351f, Offset.offset(1e-6f));
            assertThat(h[1]).isCloseTo(0.5623351f, Offset.offset(1e-6f));
            assertThatThrownBy(() -> FusedOps.tokenLogprobsAndEntropy(z, m.create(new long[] {0, 1})))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(1, 2, 2)");
        }
    }

    @Test
    void geluTanhKeepsFloat16() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray y = FusedOps.geluTanh(m.create(new float[] {1f, -2f}).toType(DataType.FLOAT16, false));
            assertThat(y.getDataType()).isEqualTo(DataType.FLOAT16);
            float[] got = y.toType(DataType.FLOAT32, false).toFloatArray();
            assertThat(got[0]).isCloseTo(0.8412f, Offset.offset(1e-3f));
            assertThat(got[1]).isCloseTo(-0.0454f, Offset.offset(1e-3f));
        }
    }

    @Test
    void namedInputsAreRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f});
            x.setName("x");
            assertThatThrownBy(() -> FusedOps.geluTanh(x)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("named x");
        }
    }

    /**
     * Three AdamW updates of a decayed [2, 3] and an undecayed [3] tensor with fixed gradients, against
     * {@code torch.optim.AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1 / 0.0, foreach=False)} run in
     * torch 2.13 (the values below, printed as hex floats from that run).
     */
    @Test
    void adamwIsTorchOptimAdamW() {
        assertThat(FusedOps.optimizerAvailable()).isTrue();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray p0 = m.create(new float[] {0.5f, -1.25f, 2.0f, 0.75f, -0.3f, 1.5f}, new Shape(2, 3));
            NDArray p1 = m.create(new float[] {0.1f, -0.2f, 0.3f});
            NDArray m0 = m.zeros(p0.getShape());
            NDArray v0 = m.zeros(p0.getShape());
            NDArray m1 = m.zeros(p1.getShape());
            NDArray v1 = m.zeros(p1.getShape());
            float[][][] grads = {
                {{0.3f, -0.7f, 1.1f, 0.05f, 2.0f, -0.4f}, {1.0f, -0.5f, 0.25f}},
                {{-0.2f, 0.1f, 0.9f, 0.6f, -1.5f, 0.3f}, {0.0f, 0.75f, -0.125f}},
                {{0.4f, 0.4f, -0.8f, -0.05f, 1.0f, 0.2f}, {-1.0f, 0.5f, 2.0f}}};
            for (int t = 1; t <= 3; t++) {
                NDArray g0 = m.create(grads[t - 1][0], new Shape(2, 3));
                NDArray g1 = m.create(grads[t - 1][1]);
                FusedOps.adamw(java.util.List.of(p0, p1), java.util.List.of(g0, g1), java.util.List.of(m0, m1),
                        java.util.List.of(v0, v1), new boolean[] {true, false}, 0.01, 0.9, 0.999, 1e-8, 0.1, t);
            }
            float[] torch0 = {0x1.ed242ep-2f, -0x1.3ae762p+0f, 0x1.f879a6p+0f, 0x1.72c9dap-1f, -0x1.40800cp-2f,
                0x1.813054p+0f};
            float[] torch1 = {0x1.58b62ap-4f, -0x1.93f88cp-3f, 0x1.1f766cp-2f};
            // libtorch 2.7.1 here vs torch 2.13 there: the same kernels, allowed one float32 ulp at these magnitudes
            assertThat(p0.toFloatArray()).containsExactly(torch0, Offset.offset(3e-7f));
            assertThat(p1.toFloatArray()).containsExactly(torch1, Offset.offset(3e-7f));
            assertThat(m0.toFloatArray()).containsExactly(new float[] {0.0463f, -0.0077f, 0.0901f, 0.05305f, 0.127f,
                0.0146f}, Offset.offset(1e-7f));
            assertThat(v0.toFloatArray()).containsExactly(new float[] {0.000289780116872862f, 0.0006590105476789176f,
                0.0026567713357508183f, 0.0003646350232884288f, 0.007239754311740398f, 0.0002895902143791318f},
                Offset.offset(1e-9f));
            assertThatThrownBy(() -> FusedOps.adamw(java.util.List.of(p0), java.util.List.of(), java.util.List.of(m0),
                    java.util.List.of(v0), new boolean[] {true}, 0.01, 0.9, 0.999, 1e-8, 0.1, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("grads 0");
            assertThat(FusedOps.norms(java.util.List.of(m.create(new float[] {3f, 4f}), m.create(new float[] {-2f}))))
                    .containsExactly(5f, 2f);
            assertThat(FusedOps.optimizerApplies(java.util.List.of(p0, p1))).isTrue();
            assertThat(FusedOps.optimizerApplies(java.util.List.of(p0, m.create(new double[] {1.0})))).isFalse();
        }
    }
}
