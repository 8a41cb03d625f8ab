package org.rlhf4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoX;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.tensor.TensorOps;

/** End-to-end training behaviour of the core pieces: overfitting, and no native-resource growth. */
class TinyGptTrainingTest {

    static final long[] TEXT = {5, 17, 3, 9, 22, 3, 14, 8, 30, 1, 12, 25, 6, 19, 2, 27, 11, 4, 28, 7, 16, 23, 10, 29};

    /** One optimizer step of next-token NLL on the text; returns the loss. */
    static double step(CausalLm model, Updater updater, NDManager parent) {
        double loss;
        try (NDManager m = parent.newSubManager();
                NDScope scope = new NDScope()) {
            NDArray ids = m.create(TEXT, new Shape(1, TEXT.length));
            NDArray mask = m.ones(ids.getShape());
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray lp = TensorOps.sequenceLogprobs(model.forward(ids, mask), ids);
                NDArray l = lp.mean().neg();
                gc.backward(l);
                loss = l.getFloat();
            }
            updater.step(model.weights(), loss);
        }
        return loss;
    }

    @Test
    void tinyGptOverfitsAShortTextToNearZeroLoss() {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(Gpt2Config.of(32, 32, 32, 2, 4), m, 1)) {
            model.weights().setRequiresGradient(true);
            AdamW opt = AdamW.of(model.weights(), 0.0);
            Updater up = new Updater(opt, new LrSchedule.Constant(3e-3, 0), 1.0, 0);
            double first = step(model, up, m);
            double last = first;
            for (int i = 0; i < 150; i++) {
                last = step(model, up, m);
            }
            assertThat(first).isGreaterThan(3.0); // ~ln 32 at init
            assertThat(last).isLessThan(0.05);
            opt.close();
        }
    }

    @Test
    void twoHundredStepsLeaveTheNativeResourceCountFlat() {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(Gpt2Config.of(32, 32, 32, 2, 4), m, 2)) {
            model.weights().setRequiresGradient(true);
            AdamW opt = AdamW.of(model.weights(), 0.01);
            Updater up = new Updater(opt, new LrSchedule.Linear(1e-3, 10, 200, 0), 1.0, 0);
            for (int i = 0; i < 5; i++) {
                step(model, up, m);
            }
            int before = m.getManagedArrays().size();
            for (int i = 0; i < 200; i++) {
                step(model, up, m);
            }
            int after = m.getManagedArrays().size();
            assertThat(after).isEqualTo(before);
            opt.close();
        }
    }

    @Test
    void tinyNeoXOverfitsAndLeavesTheNativeResourceCountFlat() {
        try (NDManager m = NDManager.newBaseManager();
                GptNeoX model = GptNeoX.random(GptNeoXConfig.of(32, 32, 32, 2, 2), m, 1)) {
            model.weights().setRequiresGradient(true);
            AdamW opt = AdamW.of(model.weights(), 0.0);
            Updater up = new Updater(opt, new LrSchedule.Constant(3e-3, 0), 1.0, 0);
            double first = step(model, up, m);
            for (int i = 0; i < 5; i++) {
                step(model, up, m);
            }
            int before = m.getManagedArrays().size();
            double last = first;
            for (int i = 0; i < 75; i++) {
                last = step(model, up, m);
            }
            assertThat(m.getManagedArrays().size()).isEqualTo(before);
            assertThat(first).isGreaterThan(3.0); // ~ln 32 at init
            assertThat(last).isLessThan(0.1); // ~0.05 after these 81 steps
            opt.close();
        }
    }
}
