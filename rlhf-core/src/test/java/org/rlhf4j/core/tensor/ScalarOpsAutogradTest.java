package org.rlhf4j.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Regression test for decision 0004 rule 8: scalar ops keep correct gradients even when the JVM collects garbage
 * and reuses direct memory between the forward and the backward pass. (DJL's own {@code x.mul(3f)} fails this: its
 * scalar lives in a Java buffer that is freed while autograd still needs it.)
 */
class ScalarOpsAutogradTest {

    /** Forward, then GC and fill freshly allocated direct memory with NaN, then backward. */
    static float[] gradUnderGcPressure(UnaryOperator<NDArray> f, float... x0) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(x0);
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = f.apply(x).sum();
                System.gc();
                List<ByteBuffer> junk = new ArrayList<>();
                for (int i = 0; i < 20000; i++) {
                    ByteBuffer b = ByteBuffer.allocateDirect(4);
                    b.putFloat(0, Float.NaN);
                    junk.add(b);
                }
                gc.backward(y);
                assertThat(junk).hasSize(20000);
            }
            return x.getGradient().toFloatArray();
        }
    }

    @Test
    void gradientsOfScalarOpsSurviveGarbageCollection() {
        assertThat(gradUnderGcPressure(x -> TensorOps.mul(x, 3), 1f, 2f)).containsExactly(3f, 3f);
        assertThat(gradUnderGcPressure(x -> TensorOps.div(x, 4), 1f, 2f)).containsExactly(0.25f, 0.25f);
        assertThat(gradUnderGcPressure(x -> TensorOps.pow(x, 2), 1f, 3f)).containsExactly(new float[] {2f, 6f}, within(1e-6f));
        assertThat(gradUnderGcPressure(x -> TensorOps.maximum(x, 1.5), 1f, 2f)).containsExactly(0f, 1f);
        assertThat(gradUnderGcPressure(x -> TensorOps.minimum(x, 1.5), 1f, 2f)).containsExactly(1f, 0f);
        assertThat(gradUnderGcPressure(x -> TensorOps.add(TensorOps.sub(x, 1), 2), 1f, 2f)).containsExactly(1f, 1f);
    }
}
