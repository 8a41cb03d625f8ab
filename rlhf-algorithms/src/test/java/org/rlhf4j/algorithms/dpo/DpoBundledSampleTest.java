package org.rlhf4j.algorithms.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.MetricsSink;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Smoke test on the bundled TL;DR comparisons: a tiny from-scratch GPT-2 over the full GPT-2 vocabulary trains a few
 * DPO steps on real encoded pairs and is evaluated on the valid1 pairs. A random model has no reason to rank human
 * preferences, so held-out accuracy is reported, not asserted.
 */
class DpoBundledSampleTest {

    /** d = 32, one layer, 512 positions (128-token queries + responses up to the RM limit). */
    static final Gpt2Config TINY = new Gpt2Config(50257, 512, 32, 1, 2, 128, 1e-5, "gelu_new", 50256, 50256, Map.of());

    /** Encodes a bundled split; pairs over the task limits are counted and skipped. */
    static List<Encoded.Pair> encode(Tokenizer tok, String split, int[] skipped) {
        TldrTask task = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).build());
        List<Encoded.Pair> out = new ArrayList<>();
        for (PreferencePair p : BundledTldr.pairs(split)) {
            try {
                out.add(task.encodePair(p));
            } catch (TaskLimitException e) {
                skipped[0]++;
            }
        }
        return out;
    }

    @Test
    void trainsOnBundledPairsAndEvaluatesOnValid1() throws Exception {
        try (Tokenizer tok = Gpt2Tokenizers.bundled();
                NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(TINY, m, 17);
                Gpt2 policy = reference.copy(m)) {
            int[] skippedTrain = {0};
            int[] skippedValid = {0};
            List<Encoded.Pair> train = encode(tok, "train", skippedTrain).subList(0, 16);
            List<Encoded.Pair> valid = encode(tok, "valid1", skippedValid);
            assertThat(valid.size() + skippedValid[0]).isEqualTo(50);
            assertThat(valid).hasSizeGreaterThan(40);
            for (Encoded.Pair p : train) {
                assertThat(p.chosen()[p.chosen().length - 1]).isEqualTo(50256);
                assertThat(p.rejected()[p.rejected().length - 1]).isEqualTo(50256);
            }
            DpoConfig cfg = DpoConfig.builder().setSeed(3)
                    .setOptimizer(OptimizerConfig.builder().setLearningRate(3e-3)
                            .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).setMaxConsecutiveNonFinite(0)
                            .build())
                    .setBeta(0.1).setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0.0)
                    .setBatchSize(8).setMicroBatchSize(4).setEpochs(4).setSchedule(TrainingSchedule.of(0, 0))
                    .setPrecomputeReferenceLogprobs(true).build(); // 8 updates
            MetricsSink.InMemory sink = MetricsSink.inMemory();
            DpoTrainer trainer = DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                    .setTokenizer(tok).setTrainData(train).optEvalData(valid).optMetrics(sink).build();
            DpoTrainer.Evaluation before = trainer.evaluate(0);
            long t0 = System.nanoTime();
            DpoTrainer.Result r = trainer.train();
            double seconds = (System.nanoTime() - t0) / 1e9;
            DpoTrainer.Evaluation after = r.evaluations().get(0);
            double[] acc = sink.series("rewards/accuracies");
            double[] margins = sink.series("rewards/margins");
            System.out.printf("bundled TL;DR (%d train pairs, %d valid1 pairs; skipped %d train, %d valid1 over the "
                    + "limits): %d updates in %.1f s; train loss %.4f -> %.4f, train accuracy %.2f -> %.2f, train "
                    + "margin %.3f -> %.3f; valid1 loss %.4f -> %.4f, accuracy %.3f -> %.3f, margin %.4f -> %.4f, "
                    + "logps/chosen %.1f -> %.1f, logps/rejected %.1f -> %.1f%n", train.size(), valid.size(),
                    skippedTrain[0], skippedValid[0], r.steps(), seconds, r.trainLosses().get(0),
                    r.trainLosses().get(r.trainLosses().size() - 1), acc[0], acc[acc.length - 1], margins[0],
                    margins[margins.length - 1], before.loss(), after.loss(), before.accuracy(), after.accuracy(),
                    before.margin(), after.margin(), before.logpChosen(), after.logpChosen(), before.logpRejected(),
                    after.logpRejected());

            assertThat(r.steps()).isEqualTo(8);
            // π_θ = π_ref at the start: h = 0 for every pair
            assertThat(before.loss()).isCloseTo(Math.log(2), within(1e-6));
            assertThat(r.trainLosses().get(0)).isCloseTo(Math.log(2), within(1e-6));
            // the policy fits its 16 training pairs
            assertThat(r.trainLosses().get(r.trainLosses().size() - 1)).isLessThan(0.6);
            assertThat(acc[acc.length - 1]).isGreaterThan(0.5);
            // held-out numbers exist and are sane (a random model need not generalise to human preferences)
            assertThat(after.pairs()).isEqualTo(valid.size());
            assertThat(after.loss()).isFinite().isPositive();
            assertThat(after.accuracy()).isBetween(0.0, 1.0);
            assertThat(after.margin()).isNotEqualTo(0.0);
        }
    }
}
