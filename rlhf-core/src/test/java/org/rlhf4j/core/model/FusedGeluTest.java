package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * The exact GELU is torch's single fused op: its values and gradients equal the composed ½u(1 + erf(u/√2)) it
 * replaces, and it adds one array to the graph where the composition added several.
 */
class FusedGeluTest {

    /** The previous composition: four elementwise ops (and two scalar arrays). */
    private static NDArray composed(NDArray u) {
        return TensorOps.mul(u, 0.5).mul(TensorOps.add(TensorOps.mul(u, 1 / Math.sqrt(2)).erf(), 1));
    }

    /** HF NewGELUActivation's formula ½u(1 + tanh(√(2/π)(u + 0.044715u³))), written out. */
    private static NDArray composedTanh(NDArray u) {
        NDArray inner = TensorOps.mul(TensorOps.mul(u.mul(u).mul(u), 0.044715).add(u), Math.sqrt(2 / Math.PI));
        return TensorOps.mul(u, 0.5).mul(TensorOps.add(inner.tanh(), 1));
    }

    @Test
    void theFallbackIsTheTanhFormula() {
        double[] after = errors(TransformerOps::geluTanhComposed, FusedGeluTest::composedTanh);
        assertThat(after[0]).isLessThan(1e-6);
        assertThat(after[1]).isLessThan(1e-6);
    }

    /**
     * Max |error| / max |truth| of an implementation's values and input gradients (upstream gradient g, fixed seeded
     * inputs x ~ N(0, 3²)) against the same formula evaluated in float64: the two float32 forms round differently
     * , so each is held to the float64 truth, not to the other.
     */
    static double[] errors(UnaryOperator<NDArray> f, UnaryOperator<NDArray> truth) {
        Random rng = new Random(19);
        float[] xs = new float[16 * 33];
        float[] gs = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (3 * rng.nextGaussian());
            gs[i] = (float) rng.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] values = new NDArray[2];
            NDArray[] grads = new NDArray[2];
            for (int i = 0; i < 2; i++) {
                DataType t = i == 0 ? DataType.FLOAT32 : DataType.FLOAT64;
                NDArray u = m.create(xs, new Shape(16, 33)).toType(t, false);
                NDArray g = m.create(gs, new Shape(16, 33)).toType(t, false);
                u.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    values[i] = (i == 0 ? f : truth).apply(u);
                    gc.backward(values[i].mul(g).sum());
                }
                values[i] = values[i].toType(DataType.FLOAT64, false);
                grads[i] = u.getGradient().toType(DataType.FLOAT64, false);
            }
            return new double[] {relError(values[0], values[1]), relError(grads[0], grads[1])};
        }
    }

    private static double relError(NDArray a, NDArray truth) {
        return a.sub(truth).abs().max().getDouble() / truth.abs().max().getDouble();
    }

    @Test
    void theTanhGeluUsedByTheModelsEqualsTheTanhFormInFloat64() {
        double[] after = errors(u -> TransformerOps.gelu(u, false), FusedGeluTest::composedTanh);
        assertThat(after[0]).isLessThan(1e-6);
        assertThat(after[1]).isLessThan(1e-6);
    }

    @Test
    void exactGeluEqualsTheErfFormulaInFloat64() {
        double[] after = errors(u -> TransformerOps.gelu(u, true), FusedGeluTest::composed);
        assertThat(after[0]).isLessThan(1e-6);
        assertThat(after[1]).isLessThan(1e-6);
    }

    @Test
    void exactGeluAtHandCheckedPoints() {
        try (NDManager m = NDManager.newBaseManager()) {
            // gelu(1) = ½(1 + erf(1/√2)) = 0.8413447, gelu(−2) = −(1 + erf(−√2)) = −0.0455003
            float[] at = TransformerOps.gelu(m.create(new float[] {1f, -2f, 0f}), true).toFloatArray();
            assertThat(at[0]).isCloseTo(0.8413447f, org.assertj.core.data.Offset.offset(1e-6f));
            assertThat(at[1]).isCloseTo(-0.0455003f, org.assertj.core.data.Offset.offset(1e-6f));
            assertThat(at[2]).isZero();
        }
    }

    @Test
    void exactGeluRunsInFloat16() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f, -2f, 0.5f}).toType(DataType.FLOAT16, false);
            NDArray y = TransformerOps.gelu(x, true);
            assertThat(y.getDataType()).isEqualTo(DataType.FLOAT16);
            float[] got = y.toType(DataType.FLOAT32, false).toFloatArray();
            assertThat(got[0]).isCloseTo(0.8413f, org.assertj.core.data.Offset.offset(1e-3f));
            assertThat(got[2]).isCloseTo(0.3457f, org.assertj.core.data.Offset.offset(1e-3f));
        }
    }
}
