package org.rlhf4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tensor.TensorOps;

/** The weight guard: non-finite parameters after an update stop training; finite updates are untouched. */
class WeightGuardTest {

    static Weights weights(NDManager m) {
        Weights w = new Weights(m);
        w.put("layer.weight", m.create(new float[] {1f, -2f}));
        w.put("layer.bias", m.create(new float[] {0.5f}));
        w.setRequiresGradient(true);
        return w;
    }

    static void backward(Weights w, NDManager m) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = w.get("layer.weight").mul(m.create(new float[] {0.5f, -1f})).sum()
                    .add(w.get("layer.bias").square().sum());
            gc.backward(loss);
        }
    }

    @Test
    void firstNonFiniteFindsNanAndBothInfinitiesButNeverHugeFiniteValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("ids", m.create(new long[] {1, 2}));
            t.put("big", m.create(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE}));
            t.put("wide", m.create(new double[] {1e300, -1e300}));
            t.put("empty", m.create(new float[0]));
            assertThat(TensorOps.firstNonFinite(t)).isNull();
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                Map<String, NDArray> u = new LinkedHashMap<>(t);
                u.put("a", m.create(new float[] {0f, bad, 1f}));
                u.put("b", m.create(new float[] {Float.NaN}));
                assertThat(TensorOps.firstNonFinite(u)).as("%s", bad).isEqualTo("a");
            }
            t.put("d", m.create(new double[] {0, Double.NaN}));
            assertThat(TensorOps.firstNonFinite(t)).isEqualTo("d");
        }
    }

    @Test
    void aDivergingUpdateStopsTrainingNamingTheModelTheParameterAndTheUpdate() {
        try (NDManager m = NDManager.newBaseManager();
                Weights w = weights(m);
                AdamW opt = AdamW.of(w, 0.0)) {
            Updater up = new Updater("critic", opt, new LrSchedule.Constant(1e-2, 0), 1.0, 3);
            backward(w, m);
            assertThat(up.step(w, 1.0).skipped()).isFalse();
            Updater huge = new Updater("critic", opt, new LrSchedule.Constant(1e300, 0), 1.0, 3);
            backward(w, m);
            assertThatThrownBy(() -> huge.step(w, 1.0)).isInstanceOf(Updater.NonFiniteException.class)
                    .hasMessageContaining("critic parameter 'layer.weight'")
                    .hasMessageContaining("after update 2")
                    .hasMessageContaining("lr 1.0E300");
        }
    }

    @Test
    void theGuardOnlyReadsAFiniteUpdateIsBitIdentical() {
        try (NDManager m = NDManager.newBaseManager();
                Weights guarded = weights(m);
                Weights plain = weights(m);
                AdamW a = AdamW.of(guarded, 0.01);
                AdamW b = AdamW.of(plain, 0.01)) {
            Updater up = new Updater(a, new LrSchedule.Constant(0.1, 0), 0.5, 0);
            for (int i = 0; i < 3; i++) {
                backward(guarded, m);
                up.step(guarded, 1.0);
                backward(plain, m);
                Gradients.clipGlobalNorm(plain, 0.5);
                b.update(plain, 0.1);
                Gradients.zero(plain);
            }
            for (String n : guarded.names()) {
                assertThat(guarded.get(n).toFloatArray()).as(n).containsExactly(plain.get(n).toFloatArray());
            }
        }
    }
}
