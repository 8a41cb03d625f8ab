package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
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

    /** The previous tanh composition: nine ops (and three scalar arrays). */
    private static NDArray composedTanh(NDArray u) {
        NDArray inner = TensorOps.mul(TensorOps.mul(u.mul(u).mul(u), 0.044715).add(u), Math.sqrt(2 / Math.PI));
        return TensorOps.mul(u, 0.5).mul(TensorOps.add(inner.tanh(), 1));
    }

    private static double maxRel(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat() / (double) b.abs().max().getFloat();
    }

    /** Values and input gradients of two implementations on the same N(0, 3²) input. */
    private static double[] compare(java.util.function.UnaryOperator<NDArray> a,
            java.util.function.UnaryOperator<NDArray> b) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(0, 3, new Shape(16, 33), DataType.FLOAT32);
            NDArray upstream = m.randomNormal(new Shape(16, 33));
            NDArray[] values = new NDArray[2];
            NDArray[] grads = new NDArray[2];
            for (int i = 0; i < 2; i++) {
                NDArray u = x.duplicate();
                u.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    values[i] = (i == 0 ? a : b).apply(u);
                    gc.backward(values[i].mul(upstream).sum());
                }
                grads[i] = u.getGradient().duplicate();
            }
            return new double[] {maxRel(values[0], values[1]), maxRel(grads[0], grads[1])};
        }
    }

    @Test
    void theSigmoidFormOfTheTanhGeluEqualsTheTanhForm() {
        double[] rel = compare(TransformerOps::geluTanhComposed, FusedGeluTest::composedTanh);
        assertThat(rel[0]).isLessThan(1e-6);
        assertThat(rel[1]).isLessThan(1e-6);
    }

    @Test
    void theTanhGeluUsedByTheModelsEqualsTheTanhForm() {
        double[] rel = compare(u -> TransformerOps.gelu(u, false), FusedGeluTest::composedTanh);
        assertThat(rel[0]).isLessThan(1e-6);
        assertThat(rel[1]).isLessThan(1e-6);
    }

    @Test
    void exactGeluEqualsTheErfFormulaInValueAndGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(0, 3, new Shape(16, 33), DataType.FLOAT32);
            NDArray upstream = m.randomNormal(new Shape(16, 33));
            NDArray[] values = new NDArray[2];
            NDArray[] grads = new NDArray[2];
            for (int i = 0; i < 2; i++) {
                NDArray u = x.duplicate();
                u.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    values[i] = i == 0 ? TransformerOps.gelu(u, true) : composed(u);
                    gc.backward(values[i].mul(upstream).sum());
                }
                grads[i] = u.getGradient().duplicate();
            }
            assertThat(maxRel(values[0], values[1])).isLessThan(1e-6);
            assertThat(maxRel(grads[0], grads[1])).isLessThan(1e-6);
            // hand-checked points: gelu(1) = ½(1 + erf(1/√2)) = 0.8413447, gelu(−2) = −0.0455003
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
