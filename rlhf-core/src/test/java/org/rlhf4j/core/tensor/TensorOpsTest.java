package org.rlhf4j.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Hand-computed values for every tensor helper. */
class TensorOpsTest {

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
    void tokenLogprobsAreLogSoftmaxAtTheLabel() {
        // logits [0, ln 2, ln 3]: softmax = [1/6, 2/6, 3/6]
        NDArray logits = m.create(new float[][] {{0f, (float) Math.log(2), (float) Math.log(3)}}).expandDims(0);
        NDArray labels = m.create(new long[][] {{2}});
        assertThat(TensorOps.tokenLogprobs(logits, labels).getFloat(0, 0)).isCloseTo((float) Math.log(0.5), within(1e-6f));
        NDArray ids = m.create(new long[][] {{0, 1}});
        // sequence [a, b]: logprob of b given a uses logits of position 0
        NDArray seqLogits = m.create(new float[] {0f, (float) Math.log(3), 0f, 5f, 5f, 5f}, new ai.djl.ndarray.types.Shape(1, 2, 3));
        assertThat(TensorOps.sequenceLogprobs(seqLogits, ids).toFloatArray())
                .containsExactly(new float[] {(float) Math.log(3.0 / 5)}, within(1e-6f));
    }

    @Test
    void entropyOfKnownDistributions() {
        NDArray uniform = m.zeros(new ai.djl.ndarray.types.Shape(1, 4));
        assertThat(TensorOps.entropy(uniform).getFloat(0)).isCloseTo((float) Math.log(4), within(1e-6f));
        // p = [1/6, 2/6, 3/6] -> H = -(1/6 ln 1/6 + 1/3 ln 1/3 + 1/2 ln 1/2) = 1.0114043
        NDArray z = m.create(new float[][] {{0f, (float) Math.log(2), (float) Math.log(3)}});
        assertThat(TensorOps.entropy(z).getFloat(0)).isCloseTo(1.0114043f, within(1e-6f));
    }

    @Test
    void maskedStatisticsIgnorePaddingEvenWhenItIsInfinite() {
        NDArray x = m.create(new float[][] {{1f, 2f, Float.POSITIVE_INFINITY}, {3f, Float.NaN, 6f}});
        NDArray mask = m.create(new float[][] {{1f, 1f, 0f}, {1f, 0f, 1f}});
        // real values 1, 2, 3, 6: mean 3, squared deviations 4, 1, 0, 9 -> biased var 3.5, unbiased 14/3
        assertThat(TensorOps.maskedMean(x, mask).getFloat()).isCloseTo(3f, within(1e-6f));
        assertThat(TensorOps.maskedSum(x, mask).getFloat()).isCloseTo(12f, within(1e-6f));
        assertThat(TensorOps.maskedVar(x, mask, false).getFloat()).isCloseTo(3.5f, within(1e-6f));
        assertThat(TensorOps.maskedVar(x, mask, true).getFloat()).isCloseTo(14f / 3, within(1e-5f));
        assertThat(TensorOps.maskedMean(x, mask, 1).toFloatArray()).containsExactly(new float[] {1.5f, 4.5f}, within(1e-6f));
    }

    @Test
    void whitenMatchesHandComputedValues() {
        NDArray x = m.create(new float[][] {{1f, 2f, 100f}, {3f, -50f, 6f}});
        NDArray mask = m.create(new float[][] {{1f, 1f, 0f}, {1f, 0f, 1f}});
        double sd = Math.sqrt(14.0 / 3 + 1e-8);
        float[] w = TensorOps.whiten(x, mask, true).toFloatArray();
        assertThat(w).containsExactly(new float[] {(float) (-2 / sd), (float) (-1 / sd), 0f, 0f, 0f, (float) (3 / sd)},
                within(1e-5f));
        float[] keep = TensorOps.whiten(x, mask, false).toFloatArray();
        assertThat(keep[0]).isCloseTo((float) (3 - 2 / sd), within(1e-5f));
        assertThat(keep[2]).isZero();
    }
}
