package org.rlhf4j.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * The TorchScript tanh GELU loads into DJL's libtorch, equals HF {@code NewGELUActivation}'s formula (evaluated in
 * float64) in value and gradient (gradients reach the input through the module), and runs in float16.
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
}
