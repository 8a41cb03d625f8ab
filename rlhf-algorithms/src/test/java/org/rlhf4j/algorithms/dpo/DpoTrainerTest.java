package org.rlhf4j.algorithms.dpo;

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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.MetricsSink;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/** Invariants of the DPO trainer on the toy task: reference caching, padding, accumulation, resume, metrics. */
class DpoTrainerTest {

    static final Tokenizer TOK = new Toy.ToyTokenizer();
    static final List<Encoded.Pair> TRAIN = Toy.pairs(24, 1, "train");
    static final List<Encoded.Pair> EVAL = Toy.pairs(8, 2, "eval");

    static DpoConfig config(int batch, int micro, double epochs, double lr) {
        return DpoConfig.builder().setSeed(7)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.LINEAR)
                        .setEps(1e-8).setMaxConsecutiveNonFinite(0).build())
                .setBeta(0.1).setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0.0)
                .setBatchSize(batch).setMicroBatchSize(micro).setEpochs(epochs).setSchedule(TrainingSchedule.of(0, 0))
                .setPrecomputeReferenceLogprobs(true).build();
    }

    static DpoTrainer.Builder trainer(DpoConfig cfg, Gpt2 policy, Gpt2 reference) {
        return DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference).setTokenizer(TOK)
                .setTrainData(TRAIN).optEvalData(EVAL);
    }

    /** Training losses and final evaluation of a short run; policy and reference differ (seeds 1 and 2). */
    static DpoTrainer.Result run(DpoConfig cfg) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(Toy.MODEL, m, 1);
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 2)) {
            return trainer(cfg, policy, reference).build().train();
        }
    }

    @Test
    void precomputedAndOnTheFlyReferenceLogprobsGiveTheSameLosses() throws Exception {
        for (DpoConfig base : List.of(config(8, 4, 1, 3e-3), config(8, 2, 1, 3e-3).withLoss(0.1, DpoLossType.IPO, 0),
                config(8, 8, 1, 3e-3).withLoss(0.2, DpoLossType.ROBUST, 0.1))) {
            DpoTrainer.Result cached = run(base.withPrecomputeReferenceLogprobs(true));
            DpoTrainer.Result live = run(base.withPrecomputeReferenceLogprobs(false));
            assertThat(cached.trainLosses()).hasSize(3);
            // policy ≠ reference from the start, so the first loss is not the trivial ln 2 / 25 / ... of h = 0
            assertThat(Math.abs(cached.trainLosses().get(0) - Math.log(2))).isGreaterThan(1e-3);
            for (int i = 0; i < 3; i++) {
                assertThat(live.trainLosses().get(i)).as("%s step %d", base.lossType(), i)
                        .isCloseTo(cached.trainLosses().get(i), within(1e-6));
            }
            DpoTrainer.Evaluation a = cached.evaluations().get(0);
            DpoTrainer.Evaluation b = live.evaluations().get(0);
            assertThat(b.loss()).isCloseTo(a.loss(), within(1e-6));
            assertThat(b.margin()).isCloseTo(a.margin(), within(1e-6));
            assertThat(b.accuracy()).isEqualTo(a.accuracy());
            assertThat(a.pairs()).isEqualTo(EVAL.size());
        }
    }

    static Encoded.Pair pair(String id, int queryLen, int chosenLen, int rejectedLen, int salt) {
        int[] q = new int[queryLen];
        for (int i = 0; i < queryLen; i++) {
            q[i] = (i * 5 + salt) % Toy.WORDS;
        }
        return new Encoded.Pair(id, new EncodedQuery("", q, false), Toy.run(Toy.A, chosenLen),
                Toy.run(Toy.B, rejectedLen));
    }

    @Test
    void paddingAndBatchCompositionDoNotChangeAPairsLoss() throws Exception {
        Encoded.Pair shortPair = pair("short", 2, 1, 3, 1);
        Encoded.Pair longQuery = pair("longq", 9, 2, 1, 4);
        Encoded.Pair longResponse = pair("longr", 3, 6, 5, 7);
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(Toy.MODEL, m, 1);
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 2)) {
            DpoTrainer alone = trainer(config(1, 1, 1, 1e-3), policy, reference).build();
            DpoTrainer mixed = trainer(config(3, 3, 1, 1e-3), policy, reference).build();
            // in the mixed batch the short pair gets 7 columns of left padding and 2..5 of right padding
            assertThat(DpoTrainer.pairBatch(List.of(longQuery, shortPair, longResponse), Toy.EOS).queryWidth())
                    .isEqualTo(9);
            DpoTrainer.PairScores a = alone.score(List.of(shortPair));
            DpoTrainer.PairScores b = mixed.score(List.of(longQuery, shortPair, longResponse));
            DpoTrainer.PairScores c = alone.score(List.of(longResponse));
            assertThat(b.losses()[1]).isCloseTo(a.losses()[0], within(1e-6));
            assertThat(b.policyChosen()[1]).isCloseTo(a.policyChosen()[0], within(1e-5));
            assertThat(b.policyRejected()[1]).isCloseTo(a.policyRejected()[0], within(1e-5));
            assertThat(b.refRejected()[1]).isCloseTo(a.refRejected()[0], within(1e-5));
            assertThat(b.losses()[2]).isCloseTo(c.losses()[0], within(1e-6));
            // a log-prob sums exactly the real tokens of its response
            assertThat(a.policyChosen()[0]).isGreaterThan(a.policyRejected()[0]).isNegative(); // 2 vs 4 tokens at ≈ −ln 16
            assertThat(a.rewardChosen(0) - a.rewardRejected(0))
                    .isCloseTo(0.1 * ((a.policyChosen()[0] - a.refChosen()[0]) - (a.policyRejected()[0]
                            - a.refRejected()[0])), within(1e-9));
        }
    }

    /** Gradient vector (and the summed loss) after accumulating one batch of 4 with a given micro-batch size. */
    static float[] gradients(int micro, double[] lossOut) {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(Toy.MODEL, m, 5);
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 6)) {
            DpoTrainer t = trainer(config(4, micro, 1, 1e-3), policy, reference).build();
            policy.weights().setRequiresGradient(true);
            DpoTrainer.Sums s = t.accumulateGradients(new int[] {0, 3, 5, 7});
            lossOut[0] = s.loss / s.n;
            List<Float> all = new ArrayList<>();
            try (NDScope scope = new NDScope()) {
                for (NDArray p : policy.weights().arrays()) {
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
    void fourMicroBatchesOfOneEqualOneBatchOfFour() {
        double[] lossFull = new double[1];
        double[] lossAcc = new double[1];
        float[] full = gradients(4, lossFull);
        float[] accumulated = gradients(1, lossAcc);
        double maxAbs = 0;
        double maxDiff = 0;
        for (int i = 0; i < full.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(full[i]));
            maxDiff = Math.max(maxDiff, Math.abs(full[i] - accumulated[i]));
        }
        assertThat(maxAbs).isGreaterThan(1e-3);
        assertThat(maxDiff).isLessThan(1e-5);
        assertThat(lossAcc[0]).isCloseTo(lossFull[0], within(1e-6));
    }

    @Test
    void firstStepMetricsOfACopiedReferenceAreThoseOfHEqualsZero() throws Exception {
        MetricsSink.InMemory sink = MetricsSink.inMemory();
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 3);
                Gpt2 policy = reference.copy(m)) {
            trainer(config(8, 4, 1, 1e-2).toBuilder().setSchedule(TrainingSchedule.of(1, 0)).build(), policy, reference)
                    .optMetrics(sink).build().train();
        }
        List<Map<String, Double>> rows = sink.rows();
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0).keySet()).containsExactly("step", "loss", "rewards/chosen", "rewards/rejected",
                "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected", "train/grad_norm", "train/lr",
                "train/epoch", "train/skipped", "eval/loss", "eval/rewards/chosen", "eval/rewards/rejected", "eval/rewards/accuracies",
                "eval/rewards/margins", "eval/logps/chosen", "eval/logps/rejected");
        Map<String, Double> first = rows.get(0);
        // before the first update π_θ = π_ref: every h is 0, loss ln 2, rewards 0, no pair "won"
        assertThat(first.get("loss")).isCloseTo(Math.log(2), within(1e-6));
        assertThat(first.get("rewards/chosen")).isCloseTo(0.0, within(1e-7));
        assertThat(first.get("rewards/margins")).isCloseTo(0.0, within(1e-7));
        assertThat(first.get("rewards/accuracies")).isEqualTo(0.0);
        assertThat(first.get("logps/chosen")).isNegative();
        assertThat(first.get("train/epoch")).isCloseTo(8.0 / 24, within(1e-12));
        for (Map<String, Double> r : rows) {
            assertThat(r.get("rewards/margins"))
                    .isCloseTo(r.get("rewards/chosen") - r.get("rewards/rejected"), within(1e-9));
            assertThat(r.get("rewards/accuracies")).isBetween(0.0, 1.0);
        }
        // after updates the policy moved: the evaluation sees a positive margin on held-out pairs
        assertThat(rows.get(2).get("eval/rewards/margins")).isPositive();
        assertThat(rows.get(2).get("eval/loss")).isLessThan(Math.log(2));
    }

    @Test
    void resumingReproducesTheUninterruptedTrajectory(@TempDir Path dir) throws Exception {
        // 6 updates, 24 pairs
        DpoConfig cfg = config(4, 2, 1, 3e-3).toBuilder().setSchedule(TrainingSchedule.of(2, 0)).build();
        List<Double> uninterrupted;
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 policy = reference.copy(m)) {
            uninterrupted = trainer(cfg, policy, reference).optRunDir(new RunDir(dir.resolve("a"))).build().train()
                    .trainLosses();
        }
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 policy = reference.copy(m)) {
            resumed.addAll(trainer(cfg, policy, reference).optRunDir(run).optStopAfter(3).build().train().trainLosses());
        }
        assertThat(TrainerState.read(run.checkpoint(3)).step()).isEqualTo(3);
        assertThat(TrainerState.read(run.checkpoint(3)).algorithm()).isEqualTo("dpo");
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 policy = Gpt2.random(Toy.MODEL, m, 999)) { // everything must come from the checkpoint
            DpoTrainer.Result r = trainer(cfg, policy, reference).optRunDir(run).build().train();
            assertThat(r.startStep()).isEqualTo(3);
            resumed.addAll(r.trainLosses());
        }
        assertThat(uninterrupted).hasSize(6);
        assertThat(resumed).hasSameSizeAs(uninterrupted);
        for (int i = 0; i < resumed.size(); i++) {
            assertThat(resumed.get(i)).as("step %d", i).isCloseTo(uninterrupted.get(i), within(1e-6));
        }
        assertThat(uninterrupted.get(5)).isLessThan(uninterrupted.get(0)); // it trained
        assertThat(Files.readAllLines(run.metrics())).hasSize(6);
        assertThat(Files.readAllLines(run.eval())).hasSize(3); // steps 2, 4, 6
        assertThat(run.model().resolve("config.json")).exists();
        assertThat(run.model().resolve("tokenizer.json")).exists();
        assertThat(Files.readString(run.model().resolve("provenance.json"))).contains("\"dpo\"");
        // another seed cannot resume this run
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 policy = reference.copy(m)) {
            assertThatThrownBy(() -> trainer(cfg.withSeed(8), policy, reference).optRunDir(run).build().train())
                    .hasMessageContaining("seed 7").hasMessageContaining("8");
        }
    }

    @Test
    void aDivergingResumeNeverReplacesTheCheckpoint(@TempDir Path dir) throws Exception {
        RunDir run = new RunDir(dir.resolve("run"));
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 policy = reference.copy(m)) {
            trainer(config(4, 2, 1, 3e-3), policy, reference).optRunDir(run).optStopAfter(2).build().train();
        }
        Path good = TestData.copyTree(run.checkpoint(2), dir.resolve("good"));
        // a run directory from before run configs (only the seed is compared): the weight guard is what stops this
        java.nio.file.Files.delete(run.runConfig());

        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 policy = reference.copy(m)) {
            DpoTrainer t = trainer(config(4, 2, 1, 1e300), policy, reference).optRunDir(run).build();
            assertThatThrownBy(t::train).isInstanceOf(Updater.NonFiniteException.class)
                    .hasMessageContaining("training diverged: policy parameter '")
                    .hasMessageContaining("after update 3");
        }
        TestData.assertSameFiles(good, run.checkpoint(2));
        TestData.assertNoSaveLeftovers(run.root());
    }

    @Test
    void configAndBuilderRejectBadValues() {
        DpoConfig.Builder ok =
                DpoConfig.builder().setBatchSize(8).setMicroBatchSize(4).setSchedule(TrainingSchedule.of(0, 0));
        assertThatThrownBy(() -> ok.setBatchSize(10).build())
                .hasMessageContaining("10").hasMessageContaining("4");
        ok.setBatchSize(8);
        assertThatThrownBy(() -> ok.setBeta(-0.5).build())
                .hasMessageContaining("beta").hasMessageContaining("-0.5");
        ok.setBeta(0.1);
        assertThatThrownBy(() -> ok.setLossType(DpoLossType.IPO).setLabelSmoothing(0.1).build())
                .hasMessageContaining("IPO");
        ok.setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0);
        assertThatThrownBy(() -> ok.setEpochs(0).build())
                .hasMessageContaining("epochs");
        ok.setEpochs(1);
        assertThatThrownBy(() -> ok.setLossType(null).build())
                .hasMessageContaining("lossType");
        ok.setLossType(DpoLossType.SIGMOID);
        assertThatThrownBy(() -> ok.setSchedule(TrainingSchedule.of(-1, 0)).build())
                .hasMessageContaining("evalSteps").hasMessageContaining("-1");
        assertThat(ok.setSchedule(TrainingSchedule.of(0, 0)).build()).isNotNull();
        DpoConfig d = DpoConfig.defaults();
        assertThat(d.beta()).isEqualTo(0.1);
        assertThat(d.lossType()).isEqualTo(DpoLossType.SIGMOID);
        assertThat(d.precomputeReferenceLogprobs()).isTrue();
        assertThat(d.totalSteps(92_858)).isEqualTo(1451);
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(Toy.MODEL, m, 1);
                Gpt2 other = Gpt2.random(Gpt2Config.of(20, 64, 32, 1, 4), m, 1);
                Gpt2 shortCtx = Gpt2.random(Gpt2Config.of(Toy.V, 12, 32, 1, 4), m, 1)) {
            assertThatThrownBy(() -> trainer(d, policy, policy).build()).hasMessageContaining("separate");
            assertThatThrownBy(() -> trainer(d, policy, other).build()).hasMessageContaining("20")
                    .hasMessageContaining(String.valueOf(Toy.V));
            // longest query 8 + longest response 6 = 14 > 12 positions
            assertThatThrownBy(() -> trainer(d, shortCtx, shortCtx.copy(m)).build()).hasMessageContaining("n_positions=12")
                    .hasMessageContaining("14");
            assertThatThrownBy(() -> DpoTrainer.builder().setConfig(d).setPolicy(policy).build())
                    .hasMessageContaining("required").hasMessageEndingWith("missing: reference, tokenizer, train data");
        }
    }
}
