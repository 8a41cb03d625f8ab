package org.rlhf4j.algorithms.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

class RewardTrainerTest {

    static Tokenizer tok;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static RewardConfig config(int batch, int micro, double epochs, double lr, double center) {
        return RewardConfig.builder().setSeed(3)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.CONSTANT)
                        .setEps(1e-8).setMaxConsecutiveNonFinite(0).build())
                .setBatchSize(batch).setMicroBatchSize(micro).setEpochs(epochs).setCenterRewardsCoefficient(center)
                .setSchedule(TrainingSchedule.of(0, 0)).setNormalizeOnReferences(true).build();
    }

    @Test
    void lossesMatchHandComputation() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0f, 2f, -3f, 50f, -50f});
            float[] ls = RewardLosses.logSigmoid(x).toFloatArray();
            assertThat(ls[0]).isCloseTo((float) Math.log(0.5), within(1e-6f));
            assertThat(ls[1]).isCloseTo((float) -Math.log1p(Math.exp(-2)), within(1e-6f));
            assertThat(ls[2]).isCloseTo((float) (-3 - Math.log1p(Math.exp(-3))), within(1e-6f));
            assertThat(ls[3]).isCloseTo(0f, within(1e-6f));
            assertThat(ls[4]).isCloseTo(-50f, within(1e-5f)); // no overflow
            NDArray c = m.create(new float[] {1f, 0.5f});
            NDArray r = m.create(new float[] {0f, 1.5f});
            // diffs 1 and -1: −log σ(1) − log σ(−1) = log(1+e^-1) + log(1+e)
            double bt = Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(1));
            assertThat(RewardLosses.bradleyTerrySum(c, r, null).getFloat()).isCloseTo((float) bt, within(1e-5f));
            // margin 1 on both: diffs 0 and -2
            double btm = Math.log(2) + Math.log1p(Math.exp(2));
            assertThat(RewardLosses.bradleyTerrySum(c, r, m.create(new float[] {1f, 1f})).getFloat())
                    .isCloseTo((float) btm, within(1e-5f));
            // centering: (1+0)² + (0.5+1.5)² = 5
            assertThat(RewardLosses.centeringSum(c, r).getFloat()).isCloseTo(5f, within(1e-6f));
        }
    }

    /** Synthetic comparisons: the chosen response contains the planted token {@code 3}, the rejected one does not. */
    static List<Encoded.Pair> planted(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Encoded.Pair> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] q = randomTokens(rng, 3 + rng.nextInt(6));
            int len = 4 + rng.nextInt(5);
            int[] chosen = randomTokens(rng, len);
            int[] rejected = randomTokens(rng, 4 + rng.nextInt(5));
            chosen[rng.nextInt(len - 1)] = 3;
            chosen[len - 1] = 31;
            rejected[rejected.length - 1] = 31;
            out.add(new Encoded.Pair("p" + i, new EncodedQuery("", q, false), chosen, rejected));
        }
        return out;
    }

    static int[] randomTokens(SplittableRandom rng, int len) {
        int[] t = new int[len];
        for (int i = 0; i < len; i++) {
            t[i] = 4 + rng.nextInt(26); // never 3 or 31
        }
        return t;
    }

    /** A tokenizer stand-in with EOS 31 for synthetic data. */
    static Tokenizer eos31() {
        return new Tokenizer() {
            public int[] encode(String text) {
                return new int[0];
            }

            public String decode(int[] ids, boolean skip) {
                return java.util.Arrays.toString(ids);
            }

            public int vocabSize() {
                return 32;
            }

            public int eosTokenId() {
                return 31;
            }

            public void save(Path dir) {}

            public void close() {}
        };
    }

    static final Gpt2Config SMALL = Gpt2Config.of(32, 32, 32, 2, 4);

    @Test
    void learnsAPlantedPreferenceToAtLeast95PercentAccuracy() throws Exception {
        List<Encoded.Pair> train = planted(256, 1);
        List<Encoded.Pair> held = planted(200, 2);
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 4)) {
            RewardTrainer t = RewardTrainer.builder().setConfig(config(16, 16, 4, 1e-3, 0)).setModel(rm)
                    .setTokenizer(eos31()).setTrainData(train).optEvalSets(Map.of("held-out", held)).build();
            double before = t.evaluate("held-out", held, 0).accuracy();
            RewardTrainer.Result r = t.train();
            RewardTrainer.Evaluation after = r.evaluations().get(r.evaluations().size() - 1);
            System.out.printf("planted preference: held-out accuracy %.3f -> %.3f, margin %.3f%n", before,
                    after.accuracy(), after.margin());
            assertThat(before).isLessThan(0.8);
            assertThat(after.accuracy()).isGreaterThanOrEqualTo(0.95);
            assertThat(after.margin()).isGreaterThan(1.0);
        }
    }

    @Test
    void normalisationMakesReferencesScoreZeroOnAverage() {
        List<Encoded.Pair> train = planted(32, 5);
        List<Encoded.Sft> refs = new ArrayList<>();
        for (Encoded.Pair p : planted(40, 6)) {
            refs.add(new Encoded.Sft(p.id(), p.query(), p.chosen()));
        }
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 8)) {
            rm.setBias(1.75f);
            RewardTrainer t = RewardTrainer.builder().setConfig(config(8, 8, 1, 1e-3, 0)).setModel(rm)
                    .setTokenizer(eos31()).setTrainData(train).build();
            List<int[]> q = refs.stream().map(s -> s.query().ids()).toList();
            List<int[]> y = refs.stream().map(Encoded.Sft::response).toList();
            float[] before = t.score(q, y);
            RewardTrainer.Normalization n = t.normalize(refs);
            float[] after = t.score(q, y);
            double mean = 0;
            for (int i = 0; i < before.length; i++) {
                mean += before[i] / before.length;
                assertThat(after[i]).isCloseTo((float) (before[i] - n.meanBefore()), within(1e-4f)); // a pure shift
            }
            assertThat(n.meanBefore()).isCloseTo(mean, within(1e-4));
            assertThat(n.meanAfter()).isCloseTo(0.0, within(1e-4));
            assertThat(n.bias()).isCloseTo(1.75 - mean, within(1e-4));
        }
    }

    @Test
    void paddingDoesNotChangeScores() {
        List<Encoded.Pair> pairs = planted(6, 9);
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 10);
                NDScope scope = new NDScope()) {
            List<int[]> q = pairs.stream().map(p -> p.query().ids()).toList();
            List<int[]> y = pairs.stream().map(Encoded.Pair::chosen).toList();
            ResponseBatch.Tensors all = ResponseBatch.of(q, y, 31).toTensors(m);
            float[] together = rm.score(all.ids(), all.mask()).toFloatArray();
            for (int i = 0; i < pairs.size(); i++) {
                ResponseBatch.Tensors one = ResponseBatch.of(List.of(q.get(i)), List.of(y.get(i)), 31).toTensors(m);
                assertThat(rm.score(one.ids(), one.mask()).getFloat(0)).as("pair %d", i).isCloseTo(together[i], within(1e-4f));
            }
            // a critic initialised from the reward model scores identically
            try (ScalarModel critic = rm.copy(m)) {
                assertThat(critic.score(all.ids(), all.mask()).toFloatArray()).containsExactly(together);
            }
        }
    }

    static double[] gradients(int micro) {
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 12)) {
            RewardTrainer t = RewardTrainer.builder().setConfig(config(8, micro, 1, 1e-3, 0.01)).setModel(rm)
                    .setTokenizer(eos31()).setTrainData(planted(16, 13)).build();
            rm.weights().setRequiresGradient(true);
            t.accumulateGradients(new int[] {0, 2, 4, 6, 8, 10, 12, 14});
            List<Double> g = new ArrayList<>();
            try (NDScope scope = new NDScope()) {
                for (NDArray p : rm.weights().arrays()) {
                    for (float f : p.getGradient().toFloatArray()) {
                        g.add((double) f);
                    }
                }
            }
            return g.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    @Test
    void microBatchesAccumulateToTheFullBatchGradient() {
        double[] full = gradients(8);
        double[] acc = gradients(1);
        double maxDiff = 0;
        double maxAbs = 0;
        for (int i = 0; i < full.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(full[i] - acc[i]));
            maxAbs = Math.max(maxAbs, Math.abs(full[i]));
        }
        assertThat(maxAbs).isGreaterThan(1e-3);
        assertThat(maxDiff).isLessThan(1e-5);
    }

    @Test
    void resumingReproducesTheUninterruptedTrajectory(@TempDir Path dir) throws Exception {
        List<Encoded.Pair> train = planted(40, 14);
        RewardConfig cfg = config(8, 4, 1.4, 1e-3, 0); // 7 updates
        List<Double> full;
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 15)) {
            full = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(eos31()).setTrainData(train)
                    .optRunDir(new RunDir(dir.resolve("a"))).build().train().trainLosses();
        }
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 15)) {
            resumed.addAll(RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(eos31()).setTrainData(train)
                    .optRunDir(run).optStopAfter(4).build().train().trainLosses());
        }
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 77)) {
            resumed.addAll(RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(eos31()).setTrainData(train)
                    .optRunDir(run).build().train().trainLosses());
        }
        assertThat(resumed).hasSize(full.size());
        for (int i = 0; i < full.size(); i++) {
            assertThat(resumed.get(i)).as("step %d", i).isCloseTo(full.get(i), within(1e-6));
        }
    }

    @Test
    void aDivergingResumeNeverReplacesTheCheckpoint(@TempDir Path dir) throws Exception {
        List<Encoded.Pair> train = planted(40, 14);
        RunDir run = new RunDir(dir.resolve("run"));
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 15)) {
            RewardTrainer.builder().setConfig(config(8, 4, 1.4, 1e-3, 0)).setModel(rm).setTokenizer(eos31())
                    .setTrainData(train).optRunDir(run).optStopAfter(2).build().train();
        }
        Path good = TestData.copyTree(run.checkpoint(2), dir.resolve("good"));
        // a run directory from before run configs (only the seed is compared): the weight guard is what stops this
        java.nio.file.Files.delete(run.runConfig());
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(SMALL, m, 15)) {
            RewardTrainer t = RewardTrainer.builder().setConfig(config(8, 4, 1.4, 1e300, 0)).setModel(rm)
                    .setTokenizer(eos31()).setTrainData(train).optRunDir(run).build();
            assertThatThrownBy(t::train).isInstanceOf(Updater.NonFiniteException.class)
                    .hasMessageContaining("training diverged: reward model parameter '")
                    .hasMessageContaining("after update 3");
        }
        TestData.assertSameFiles(good, run.checkpoint(2));
        assertThat(run.model()).doesNotExist();
        TestData.assertNoSaveLeftovers(run.root());
    }

    @Test
    void bundledComparisonsEncodeAndScore() {
        List<Encoded.Pair> pairs = TestData.pairs(tok, "train");
        assertThat(pairs).hasSizeGreaterThan(40);
        for (Encoded.Pair p : pairs) {
            assertThat(p.chosen()[p.chosen().length - 1]).isEqualTo(50256);
            assertThat(p.rejected()[p.rejected().length - 1]).isEqualTo(50256);
        }
    }
}
