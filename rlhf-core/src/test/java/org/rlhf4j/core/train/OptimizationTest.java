package org.rlhf4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.model.Weights;

/** AdamW, schedules, clipping and the non-finite guard against hand-computed values. */
class OptimizationTest {

    NDManager m;
    Weights w;

    @BeforeEach
    void open() {
        m = NDManager.newBaseManager();
        w = new Weights(m);
        w.put("layer.weight", m.create(new float[] {1f, -2f}));
        w.put("layer.bias", m.create(new float[] {0.5f}));
        w.setRequiresGradient(true);
    }

    @AfterEach
    void close() {
        w.close();
        m.close();
    }

    /** Sets gradients by back-propagating Σ c·p. */
    private void backward(float[] cw, float cb) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = w.get("layer.weight").mul(m.create(cw)).sum().add(w.get("layer.bias").mul(cb).sum());
            gc.backward(loss);
        }
    }

    @Test
    void adamWTwoStepsMatchHandComputation() {
        double lr = 0.1;
        double wd = 0.01;
        AdamW opt = new AdamW(w, 0.9, 0.999, 1e-8, wd, AdamW.NO_DECAY_BIAS_AND_NORM);
        assertThat(opt.decays("layer.weight")).isTrue();
        assertThat(opt.decays("layer.bias")).isFalse();
        assertThat(opt.decays("transformer.h.0.ln_1.weight")).isFalse();
        // step 1: g = (0.5, -1) for weight, 2 for bias
        backward(new float[] {0.5f, -1f}, 2f);
        opt.update(w, lr);
        Gradients.zero(w);
        // by hand: m̂ = g, v̂ = g² -> step = lr·sign(g) (|g|/(|g|+eps)); weight decays first: p(1 - lr·wd)
        double w0 = 1 * (1 - lr * wd) - lr * 0.5 / (0.5 + 1e-8);
        double w1 = -2 * (1 - lr * wd) + lr * 1 / (1 + 1e-8);
        double b0 = 0.5 - lr * 2 / (2 + 1e-8);
        assertThat(w.get("layer.weight").toFloatArray()).containsExactly(new float[] {(float) w0, (float) w1}, within(1e-6f));
        assertThat(w.get("layer.bias").getFloat(0)).isCloseTo((float) b0, within(1e-6f));
        // step 2: g = (1, 1), bias g = 0
        backward(new float[] {1f, 1f}, 0f);
        opt.update(w, lr);
        double m1 = 0.9 * 0.5 * 0.1 / 0.9 * 0 + (0.9 * 0.05 + 0.1 * 1); // m = 0.9·0.05 + 0.1·1 = 0.145
        double v1 = 0.999 * 0.001 * 0.25 + 0.001 * 1; // v = 0.999·0.00025 + 0.001
        double mh = m1 / (1 - 0.81);
        double vh = v1 / (1 - 0.999 * 0.999);
        double expected0 = w0 * (1 - lr * wd) - lr * mh / (Math.sqrt(vh) + 1e-8);
        assertThat(w.get("layer.weight").getFloat(0)).isCloseTo((float) expected0, within(1e-5f));
        assertThat(opt.stepCount()).isEqualTo(2);
        opt.close();
    }

    @Test
    void optimizerStateRoundTripsThroughAFile(@TempDir Path dir) throws Exception {
        AdamW a = AdamW.of(w, 0.0);
        backward(new float[] {0.3f, 0.7f}, -1f);
        a.update(w, 0.01);
        a.save(dir.resolve("opt.safetensors"));
        AdamW b = AdamW.of(w, 0.0);
        b.load(dir.resolve("opt.safetensors"));
        assertThat(b.stepCount()).isEqualTo(1);
        // both take the same next step from the same parameters
        float[] start = w.get("layer.weight").toFloatArray();
        a.update(w, 0.01);
        float[] afterA = w.get("layer.weight").toFloatArray();
        w.get("layer.weight").set(start);
        b.update(w, 0.01);
        assertThat(w.get("layer.weight").toFloatArray()).containsExactly(afterA);
        a.close();
        b.close();
    }

    @Test
    void schedulesMatchTheirFormulas() {
        LrSchedule.Linear lin = new LrSchedule.Linear(1.0, 0, 10, 0.0);
        assertThat(lin.lr(0)).isEqualTo(1.0);
        assertThat(lin.lr(5)).isCloseTo(0.5, within(1e-12));
        assertThat(lin.lr(10)).isEqualTo(0.0);
        LrSchedule.Linear warm = new LrSchedule.Linear(2.0, 4, 12, 0.1);
        assertThat(warm.lr(0)).isEqualTo(0.5);
        assertThat(warm.lr(3)).isEqualTo(2.0);
        assertThat(warm.lr(8)).isCloseTo(2.0 * (1 - 0.5 * 0.9), within(1e-12));
        LrSchedule.Cosine cos = new LrSchedule.Cosine(1.0, 0, 100, 0.0);
        assertThat(cos.lr(50)).isCloseTo(0.5, within(1e-12));
        assertThat(cos.lr(100)).isCloseTo(0.0, within(1e-12));
        assertThat(new LrSchedule.Constant(3e-4, 2).lr(0)).isCloseTo(1.5e-4, within(1e-12));
        assertThatThrownBy(() -> new LrSchedule.Linear(-1, 0, 1, 0)).hasMessageContaining("-1");
        assertThatThrownBy(() -> new LrSchedule.Cosine(1, 5, 2, 0)).hasMessageContaining("totalSteps");
    }

    @Test
    void clippingScalesToTheMaximumGlobalNorm() {
        backward(new float[] {3f, 0f}, 4f); // global norm 5
        assertThat(Gradients.globalNorm(w)).isCloseTo(5.0, within(1e-6));
        double before = Gradients.clipGlobalNorm(w, 1.0);
        assertThat(before).isCloseTo(5.0, within(1e-6));
        assertThat(Gradients.globalNorm(w)).isCloseTo(1.0, within(1e-5));
        assertThat(w.get("layer.weight").getGradient().toFloatArray()).containsExactly(new float[] {0.6f, 0f}, within(1e-5f));
        Gradients.zero(w);
        assertThat(Gradients.globalNorm(w)).isZero();
    }

    @Test
    void nonFiniteGuardSkipsThenStops() {
        AdamW opt = AdamW.of(w, 0.0);
        Updater up = new Updater(opt, new LrSchedule.Constant(0.1, 0), 1.0, 2);
        float[] start = w.get("layer.weight").toFloatArray();
        backward(new float[] {Float.NaN, 1f}, 1f);
        Updater.Result r = up.step(w, 0.5);
        assertThat(r.skipped()).isTrue();
        assertThat(w.get("layer.weight").toFloatArray()).containsExactly(start);
        assertThat(opt.stepCount()).isZero();
        assertThat(Gradients.globalNorm(w)).isZero(); // NaN gradients were zeroed, not multiplied
        backward(new float[] {1f, 1f}, 1f);
        assertThat(up.step(w, Double.POSITIVE_INFINITY).skipped()).isTrue();
        backward(new float[] {1f, 1f}, 1f);
        assertThatThrownBy(() -> up.step(w, Double.NaN)).isInstanceOf(Updater.NonFiniteException.class)
                .hasMessageContaining("3 consecutive");
        assertThat(up.skippedTotal()).isEqualTo(3);
        backward(new float[] {1f, 1f}, 1f);
        Updater.Result ok = new Updater(opt, new LrSchedule.Constant(0.1, 0), 1.0, 1).step(w, 1.0);
        assertThat(ok.skipped()).isFalse();
        assertThat(ok.lr()).isEqualTo(0.1);
        opt.close();
    }

    @Test
    void seedsAreStableAndDistinct() {
        assertThat(Seeds.derive(1, 2, 3)).isEqualTo(Seeds.derive(1, 2, 3));
        assertThat(Seeds.derive(1, 2, 3)).isNotEqualTo(Seeds.derive(1, 3, 3));
        assertThat(Seeds.derive(1, 2, 3)).isNotEqualTo(Seeds.derive(1, 2, 4));
        assertThat(Seeds.derive(1, 2, 3)).isNotEqualTo(Seeds.derive(2, 2, 3));
    }
}
