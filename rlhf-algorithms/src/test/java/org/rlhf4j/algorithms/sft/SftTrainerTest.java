package org.rlhf4j.algorithms.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

class SftTrainerTest {

    static Tokenizer tok;
    static List<Encoded.Sft> train;
    static List<Encoded.Sft> valid;
    /** A tiny GPT-2 over the full GPT-2 vocabulary (cheap: logits only at response positions). */
    static final Gpt2Config TINY = new Gpt2Config(50257, 256, 32, 1, 2, 128, 1e-5, "gelu_new", 50256, 50256, java.util.Map.of());

    @BeforeAll
    static void load() {
        tok = Gpt2Tokenizers.bundled();
        train = TestData.sft(tok, "train");
        valid = TestData.sft(tok, "valid");
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static SftConfig config(int batch, int micro, double epochs, double lr) {
        return SftConfig.builder().setSeed(7)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.LINEAR)
                        .setEps(1e-8).setMaxConsecutiveNonFinite(0).build())
                .setBatchSize(batch).setMicroBatchSize(micro).setEpochs(epochs).setSchedule(TrainingSchedule.of(0, 0))
                .setNumSamples(2).setSampleMaxTokens(16).build();
    }

    @Test
    void nllSumMatchesHandComputation() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray lp = m.create(new float[][] {{-1f, -2f, -9f}, {-0.5f, -7f, -7f}});
            NDArray mask = m.create(new float[][] {{1f, 1f, 0f}, {1f, 0f, 0f}});
            assertThat(SftLosses.nllSum(lp, mask).getFloat()).isCloseTo(3.5f, within(1e-6f));
        }
    }

    @Test
    void bundledSplitsEncode() {
        assertThat(train).hasSizeGreaterThan(40);
        assertThat(valid).hasSizeGreaterThan(40);
        for (Encoded.Sft s : train) {
            assertThat(s.query().length()).isLessThanOrEqualTo(128);
            assertThat(s.response()[s.response().length - 1]).isEqualTo(50256);
        }
    }

    @Test
    void paddingAndBatchCompositionDoNotChangeASequencesLogprobs() {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 3);
                NDScope scope = new NDScope()) {
            // a short query with a short response, batched with a longer query and a longer response: the short one
            // gets left padding on its query and right padding on its response
            int[] qa = java.util.Arrays.copyOf(train.get(0).query().ids(), 40);
            int[] ra = java.util.Arrays.copyOf(train.get(0).response(), 6);
            int[] qb = java.util.Arrays.copyOf(train.get(1).query().ids(), 90);
            int[] rb = java.util.Arrays.copyOf(train.get(1).response(), 15);
            ResponseBatch alone = ResponseBatch.of(List.of(qa), List.of(ra), 50256);
            ResponseBatch padded = ResponseBatch.of(List.of(qb, qa), List.of(rb, ra), 50256);
            assertThat(padded.queryWidth()).isGreaterThan(alone.queryWidth());
            float[] x = Sequences.sequenceLogprob(model, alone.toTensors(m)).toFloatArray();
            float[] y = Sequences.sequenceLogprob(model, padded.toTensors(m)).toFloatArray();
            assertThat(y[1]).isCloseTo(x[0], within(1e-4f));
            ResponseBatch other = ResponseBatch.of(List.of(qb), List.of(rb), 50256);
            float z = Sequences.sequenceLogprob(model, other.toTensors(m)).getFloat(0);
            assertThat(y[0]).isCloseTo(z, within(1e-4f));
        }
    }

    /** Gradient vector after accumulating one batch with a given micro-batch size. */
    static float[] gradients(int micro) {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 5)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(8, micro, 1, 1e-3)).setPolicy(model).setTokenizer(tok)
                    .setTrainData(train).build();
            model.weights().setRequiresGradient(true);
            int[] idx = {0, 3, 5, 7, 11, 13, 17, 19};
            t.accumulateGradients(idx, 50256);
            List<Float> all = new ArrayList<>();
            try (NDScope scope = new NDScope()) {
                for (NDArray p : model.weights().arrays()) {
                    for (float f : p.getGradient().toFloatArray()) {
                        all.add(f);
                    }
                }
            }
            float[] out = new float[all.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = all.get(i);
            }
            return out;
        }
    }

    @Test
    void oneMicroBatchOfEightEqualsEightAccumulatedMicroBatchesOfOne() {
        float[] full = gradients(8);
        float[] accumulated = gradients(1);
        double maxAbs = 0;
        double maxDiff = 0;
        for (int i = 0; i < full.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(full[i]));
            maxDiff = Math.max(maxDiff, Math.abs(full[i] - accumulated[i]));
        }
        assertThat(maxAbs).isGreaterThan(1e-3);
        assertThat(maxDiff).isLessThan(1e-5);
    }

    @Test
    void sftOnTheBundledSampleLowersValidationLoss() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 11)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(8, 8, 6, 3e-3)).setPolicy(model).setTokenizer(tok)
                    .setTrainData(train).optEvalData(valid).build();
            double before = t.evaluate(0).loss();
            SftTrainer.Result r = t.train();
            double after = r.evaluations().get(r.evaluations().size() - 1).loss();
            System.out.printf("bundled SFT: validation loss %.3f -> %.3f; train loss %.3f -> %.3f%n", before, after,
                    r.trainLosses().get(0), r.trainLosses().get(r.trainLosses().size() - 1));
            assertThat(before).isGreaterThan(10.0); // ≈ ln 50257 = 10.8 at init
            assertThat(after).isLessThan(before - 1.5);
            assertThat(r.trainLosses().get(r.trainLosses().size() - 1)).isLessThan(r.trainLosses().get(0) - 2.0);
        }
    }

    @Test
    void resumingReproducesTheUninterruptedTrajectory(@TempDir Path dir) throws Exception {
        SftConfig cfg = config(4, 2, 0.5, 1e-3); // 7 updates over 50 samples
        List<Double> uninterrupted;
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 21)) {
            uninterrupted = SftTrainer.builder().setConfig(cfg).setPolicy(model).setTokenizer(tok).setTrainData(train)
                    .optRunDir(new RunDir(dir.resolve("a"))).build().train().trainLosses();
        }
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 21)) {
            resumed.addAll(SftTrainer.builder().setConfig(cfg).setPolicy(model).setTokenizer(tok).setTrainData(train)
                    .optRunDir(run).optStopAfter(3).build().train().trainLosses());
        }
        assertThat(TrainerState.read(run.checkpoint(3)).step()).isEqualTo(3);
        assertThat(run.model()).doesNotExist(); // the final model only when the run is complete
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 999)) { // different init: everything must come from the checkpoint
            SftTrainer.Result r = SftTrainer.builder().setConfig(cfg).setPolicy(model).setTokenizer(tok)
                    .setTrainData(train).optRunDir(run).build().train();
            assertThat(r.startStep()).isEqualTo(3);
            resumed.addAll(r.trainLosses());
        }
        assertThat(resumed).hasSameSizeAs(uninterrupted);
        for (int i = 0; i < resumed.size(); i++) {
            assertThat(resumed.get(i)).as("step %d", i).isCloseTo(uninterrupted.get(i), within(1e-6));
        }
        // the metrics file describes one trajectory: one line per step
        assertThat(Files.readAllLines(run.metrics())).hasSize(uninterrupted.size());
        // checkpoint is an HF model directory
        assertThat(run.model().resolve("config.json")).exists();
        assertThat(run.model().resolve("tokenizer.json")).exists();
        assertThat(run.model().resolve("provenance.json")).exists();
    }

    @Test
    void aDivergingRunNeverWritesOrReplacesACheckpoint(@TempDir Path dir) throws Exception {
        RunDir run = new RunDir(dir.resolve("run"));
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 21)) {
            SftTrainer.builder().setConfig(config(4, 2, 0.5, 1e-3)).setPolicy(model).setTokenizer(tok)
                    .setTrainData(train).optRunDir(run).optStopAfter(2).build().train();
        }
        Path good = TestData.copyTree(run.checkpoint(2), dir.resolve("good"));
        // a run directory from before run configs (only the seed is compared): the weight guard is what stops this
        java.nio.file.Files.delete(run.runConfig());

        // resuming with a huge learning rate: the first update makes the weights non-finite
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 21)) {
            SftTrainer resume = SftTrainer.builder().setConfig(config(4, 2, 0.5, 1e300)).setPolicy(model)
                    .setTokenizer(tok).setTrainData(train).optRunDir(run).build();
            assertThatThrownBy(resume::train).isInstanceOf(Updater.NonFiniteException.class)
                    .hasMessageContaining("training diverged: policy parameter 'transformer.")
                    .hasMessageContaining("after update 3");
        }
        TestData.assertSameFiles(good, run.checkpoint(2));
        assertThat(run.model()).doesNotExist();
        TestData.assertNoSaveLeftovers(run.root());
        // from scratch: no checkpoint at all
        RunDir fresh = new RunDir(dir.resolve("fresh"));
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(TINY, m, 21)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(4, 2, 0.5, 1e300)).setPolicy(model).setTokenizer(tok)
                    .setTrainData(train).optRunDir(fresh).build();
            assertThatThrownBy(t::train).isInstanceOf(Updater.NonFiniteException.class)
                    .hasMessageContaining("after update 1");
        }
        assertThat(fresh.model()).doesNotExist();
        TestData.assertNoSaveLeftovers(fresh.root());
    }

    @Test
    void configRejectsBadValues() {
        OptimizerConfig o = OptimizerConfig.references(1e-4, OptimizerConfig.Schedule.COSINE);
        SftConfig.Builder b = SftConfig.builder().setOptimizer(o).setMicroBatchSize(4).setEpochs(1)
                .setSchedule(TrainingSchedule.of(0, 0)).setNumSamples(0).setSampleMaxTokens(1);
        assertThatThrownBy(() -> b.setBatchSize(10).build()).hasMessageContaining("10").hasMessageContaining("4");
        assertThatThrownBy(() -> b.setBatchSize(8).setEpochs(0).build()).hasMessageContaining("epochs");
        assertThat(SftConfig.references().totalSteps(116722)).isEqualTo(912);
        EncodedQuery q = new EncodedQuery("x", new int[] {1}, false);
        assertThatThrownBy(() -> SftTrainer.builder().setConfig(SftConfig.references()).build())
                .hasMessageContaining("required").hasMessageEndingWith("missing: policy, tokenizer, train data");
        assertThat(q.length()).isEqualTo(1);
    }
}
