package org.rlhf4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.model.Weights;

/**
 * Dynamic loss scaling: torch's {@code GradScaler} sequences by hand, exact unscaling, and the {@link Updater}'s
 * overflow skip (no update, no optimizer step, not counted by the non-finite guard) and checkpointed state.
 */
class LossScalerTest {

    @Test
    void defaultsAreTorchGradScalers() {
        LossScaler s = LossScaler.builder().build();
        assertThat(s.scale()).isEqualTo(65536.0);
        assertThat(s.state()).isEqualTo(new LossScaler.State(65536.0, 0, 0));
    }

    /** The sequence torch 2.13's {@code _amp_update_scale_} prints for scale 4, growth 2, backoff 0.5, interval 3. */
    @Test
    void growsAfterIntervalFiniteStepsAndBacksOffOnOverflowAsTorch() {
        LossScaler s = LossScaler.builder().optInitScale(4).optGrowthInterval(3).build();
        double[] scales = {4, 4, 8, 8, 8};
        int[] trackers = {1, 2, 0, 1, 2};
        for (int i = 0; i < 5; i++) {
            s.update(false, i);
            assertThat(s.state()).as("step %d", i).isEqualTo(new LossScaler.State(scales[i], trackers[i], 0));
        }
        s.update(true, 5);
        assertThat(s.state()).isEqualTo(new LossScaler.State(4, 0, 1));
    }

    @Test
    void overflowAtStepKHalvesAndRestartsTheTrackerAnd2000GoodStepsDouble() {
        LossScaler s = LossScaler.builder().build();
        for (int i = 0; i < 1999; i++) {
            s.update(false, i);
        }
        assertThat(s.scale()).isEqualTo(65536.0);
        s.update(false, 1999); // the 2000th finite step in a row
        assertThat(s.state()).isEqualTo(new LossScaler.State(131072.0, 0, 0));
        for (int i = 0; i < 6; i++) {
            s.update(false, 2000 + i);
        }
        s.update(true, 2006); // overflow at step k = 2007
        assertThat(s.state()).isEqualTo(new LossScaler.State(65536.0, 0, 1));
        for (int i = 0; i < 1999; i++) {
            s.update(false, 2007 + i);
        }
        assertThat(s.scale()).as("the tracker restarted at the overflow").isEqualTo(65536.0);
        s.update(false, 4006);
        assertThat(s.scale()).isEqualTo(131072.0);
    }

    @Test
    void growthThatWouldLeaveFloat32IsNotAppliedAsTorch() {
        LossScaler s = LossScaler.builder().optInitScale(0x1p127).optGrowthInterval(1).build();
        s.update(false, 0);
        assertThat(s.state()).isEqualTo(new LossScaler.State(0x1p127, 0, 0));
    }

    @Test
    void anOverflowBelowTheFloorStopsWithAClearError() {
        LossScaler s = LossScaler.builder().optInitScale(0x1p-23).build();
        s.update(true, 7);
        assertThat(s.scale()).isEqualTo(0x1p-24); // at the floor: still allowed
        assertThatThrownBy(() -> s.update(true, 8)).isInstanceOf(Updater.NonFiniteException.class)
                .hasMessageContaining("2 overflowing steps in a row at update 8")
                .hasMessageContaining("below the floor 5.9604644775390625E-8");
        LossScaler d = LossScaler.builder().build();
        int overflows = 0;
        try {
            while (true) {
                d.update(true, overflows++);
            }
        } catch (Updater.NonFiniteException e) {
            assertThat(overflows).as("2^16 → 2^-24 takes 40 halvings; the 41st throws").isEqualTo(41);
        }
    }

    @Test
    void builderRejectsOutOfRangeSettingsNamingThem() {
        assertThatThrownBy(() -> LossScaler.builder().optInitScale(0).build()).hasMessageContaining("initScale");
        assertThatThrownBy(() -> LossScaler.builder().optGrowthFactor(1).build()).hasMessageContaining("growthFactor");
        assertThatThrownBy(() -> LossScaler.builder().optBackoffFactor(1).build())
                .hasMessageContaining("backoffFactor");
        assertThatThrownBy(() -> LossScaler.builder().optGrowthInterval(0).build())
                .hasMessageContaining("growthInterval");
        assertThatThrownBy(() -> LossScaler.builder().optMinScale(1e6).build()).hasMessageContaining("minScale");
    }

    static Weights weights(NDManager m) {
        Weights w = new Weights(m);
        w.put("layer.weight", m.create(new float[] {1.1f, -2.3f, 0.37f}));
        w.put("layer.bias", m.create(new float[] {0.5f}));
        w.setRequiresGradient(true);
        return w;
    }

    /** L = Σ w·c + b²·0.3 + Σ w³/7; returns L and leaves the gradients of {@code updater.scaleLoss(L)}. */
    static double backward(Weights w, NDManager m, Updater updater, float c) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray wt = w.get("layer.weight");
            NDArray loss = wt.mul(m.create(new float[] {c, -c, 0.25f * c})).sum()
                    .add(w.get("layer.bias").square().sum().mul(0.3f))
                    .add(wt.mul(wt).mul(wt).sum().div(7f));
            gc.backward(updater.scaleLoss(loss));
            return loss.getFloat();
        }
    }

    @Test
    void unscaledGradientsAndUpdatesEqualFp32ExactlyForPowerOfTwoScales() {
        try (NDManager m = NDManager.newBaseManager();
                Weights scaled = weights(m);
                Weights plain = weights(m);
                AdamW a = AdamW.of(scaled, 0.01);
                AdamW b = AdamW.of(plain, 0.01)) {
            LossScaler scaler = LossScaler.builder().optGrowthInterval(2).build();
            Updater withScaler = new Updater("policy", a, new LrSchedule.Constant(0.05, 0), 0.7, 0, scaler);
            Updater without = new Updater("policy", b, new LrSchedule.Constant(0.05, 0), 0.7, 0);
            for (int i = 0; i < 5; i++) { // scales 2^16, 2^16, 2^17, 2^17, 2^18
                double l1 = backward(scaled, m, withScaler, 0.9f);
                double l2 = backward(plain, m, without, 0.9f);
                scaler.unscale(scaled);
                for (String n : scaled.names()) {
                    assertThat(scaled.get(n).getGradient().toFloatArray()).as("step %d %s", i, n)
                            .containsExactly(plain.get(n).getGradient().toFloatArray());
                }
                scaler.unscale(scaled); // the updater unscales itself: undo ours (×S back is exact too)
                for (NDArray p : scaled.arrays()) {
                    p.getGradient().muli((float) (scaler.scale() * scaler.scale()));
                }
                Updater.Result r1 = withScaler.step(scaled, l1);
                Updater.Result r2 = without.step(plain, l2);
                assertThat(r1.gradNorm()).isEqualTo(r2.gradNorm());
                assertThat(r1.lossScale()).isEqualTo(new double[] {0x1p16, 0x1p16, 0x1p17, 0x1p17, 0x1p18}[i]);
                assertThat(r2.lossScale()).isEqualTo(1.0);
                for (String n : scaled.names()) {
                    assertThat(scaled.get(n).toFloatArray()).as("step %d %s", i, n)
                            .containsExactly(plain.get(n).toFloatArray());
                }
            }
            assertThat(withScaler.precisionMetrics("train/")).containsExactly(
                    java.util.Map.entry("train/loss_scale", 0x1p18), java.util.Map.entry("train/overflow_skipped_total", 0.0));
            assertThat(without.precisionMetrics("train/")).isEmpty();
        }
    }

    @Test
    void anOverflowSkipsTheUpdateHalvesTheScaleAndIsNotADivergenceSkip() {
        try (NDManager m = NDManager.newBaseManager(); Weights w = weights(m); AdamW opt = AdamW.of(w, 0.0)) {
            LossScaler scaler = LossScaler.builder().build();
            // maxConsecutiveSkips 0: a single guard skip would throw
            Updater up = new Updater("policy", opt, new LrSchedule.Constant(0.1, 0), 1.0, 0, scaler);
            float[] before = w.get("layer.weight").toFloatArray();
            // c = 1e34: L is finite, S·c = 6.6e38 overflows float32 in the backward
            double loss = backward(w, m, up, 1e34f);
            assertThat(loss).isFinite();
            Updater.Result r = up.step(w, loss);
            assertThat(r.overflow()).isTrue();
            assertThat(r.skipped()).isFalse();
            assertThat(r.lr()).isZero();
            assertThat(r.lossScale()).isEqualTo(65536.0);
            assertThat(scaler.scale()).isEqualTo(32768.0);
            assertThat(scaler.overflows()).isEqualTo(1);
            assertThat(up.skippedTotal()).isZero();
            assertThat(opt.stepCount()).as("no optimizer step").isZero();
            assertThat(w.get("layer.weight").toFloatArray()).containsExactly(before);
            assertThat(w.get("layer.weight").getGradient().toFloatArray()).containsOnly(0f);
            // a second overflow, then a finite step updates normally at the halved-twice scale
            up.step(w, backward(w, m, up, 1e34f));
            Updater.Result ok = up.step(w, backward(w, m, up, 1f));
            assertThat(ok.overflow()).isFalse();
            assertThat(ok.lossScale()).isEqualTo(16384.0);
            assertThat(opt.stepCount()).isEqualTo(1);
            assertThat(w.get("layer.weight").toFloatArray()).isNotEqualTo(before);
            // a non-finite loss is still the guard's: with maxConsecutiveSkips 0 it stops training
            assertThatThrownBy(() -> up.step(w, Double.NaN)).isInstanceOf(Updater.NonFiniteException.class)
                    .hasMessageContaining("consecutive non-finite steps");
        }
    }

    @Test
    void theScalerStateIsSavedAndRestoredWithTheOptimizer(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Weights w = weights(m); AdamW opt = AdamW.of(w, 0.0)) {
            LossScaler scaler = LossScaler.builder().optGrowthInterval(5).build();
            Updater up = new Updater("policy", opt, new LrSchedule.Constant(0.1, 0), 1.0, 3, scaler);
            up.step(w, backward(w, m, up, 1e34f));
            up.step(w, backward(w, m, up, 1f));
            up.step(w, backward(w, m, up, 1f));
            opt.save(dir.resolve("optimizer.safetensors"));
            try (AdamW fresh = AdamW.of(w, 0.0)) {
                LossScaler restored = LossScaler.builder().optGrowthInterval(5).build();
                new Updater("policy", fresh, new LrSchedule.Constant(0.1, 0), 1.0, 3, restored);
                fresh.load(dir.resolve("optimizer.safetensors"));
                assertThat(restored.state()).isEqualTo(new LossScaler.State(32768.0, 2, 1));
                assertThat(fresh.stepCount()).isEqualTo(2);
            }
            try (AdamW plain = AdamW.of(w, 0.0)) {
                plain.save(dir.resolve("fp32.safetensors"));
                plain.setLossScaler(LossScaler.builder().build());
                assertThatThrownBy(() -> plain.load(dir.resolve("fp32.safetensors")))
                        .isInstanceOf(ModelFormatException.class)
                        .hasMessageContaining("fp32.safetensors")
                        .hasMessageContaining("missing metadata field 'loss_scale'");
            }
            assertThat(Files.exists(dir.resolve("optimizer.safetensors"))).isTrue();
        }
    }
}
