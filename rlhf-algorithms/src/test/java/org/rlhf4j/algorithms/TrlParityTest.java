package org.rlhf4j.algorithms;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.algorithms.sft.SftTrainer;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.MetricsSink;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Whole training runs against TRL 1.13: the same tiny random Llama, the same eight bundled TL;DR rows in TRL's
 * standard formats and the same hyperparameters (AdamW β = (0.9, 0.999), ε = 1e-8, no weight decay, linear decay to 0
 * over 20 updates without warm-up, clipping at 1.0, one full-batch update per epoch so the data order cannot matter).
 * TRL's per-step values were recorded by {@code scripts/compare/trl_parity.py fixture} ({@code trl-parity/trl.json});
 * rlhf4j replays the runs here and must match them step by step: SFT, reward model and DPO losses within 1e-4.
 */
class TrlParityTest {

    static final Path DIR = Path.of("src/test/resources/trl-parity");
    static final JsonNode TRL = read();
    static final int STEPS = TRL.get("steps").asInt();
    static final double TOL = 1e-4;

    static JsonNode read() {
        try {
            return new ObjectMapper().readTree(DIR.resolve("trl.json").toFile());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** TRL's optimizer and schedule as the fixture ran them (torch.optim.AdamW, get_linear_schedule_with_warmup). */
    static OptimizerConfig adam(double lr) {
        return OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.LINEAR)
                .setWarmupSteps(0).setBeta1(0.9).setBeta2(0.999).setEps(1e-8).setWeightDecay(0.0)
                .setMaxGradNorm(1.0).build();
    }

    static double hp(String name) {
        return TRL.get("hyperparameters").get(name).asDouble();
    }

    /** Collects the per-step metric rows a trainer logs. */
    static final class Rows implements MetricsSink {
        final List<Map<String, Double>> rows = new ArrayList<>();

        @Override
        public void log(long step, Map<String, Double> metrics) {
            rows.add(Map.copyOf(metrics));
        }

        double[] get(String key) {
            return rows.stream().mapToDouble(r -> r.getOrDefault(key, Double.NaN)).toArray();
        }
    }

    /** Max |ours − TRL's| over the steps, printed for the parity report. */
    static double maxDiff(String what, double[] ours, JsonNode theirs) {
        assertThat(ours).as(what + " steps").hasSize(theirs.size());
        double max = 0;
        for (int i = 0; i < ours.length; i++) {
            max = Math.max(max, Math.abs(ours[i] - theirs.get(i).asDouble()));
        }
        if (Boolean.getBoolean("rlhf4j.parity.verbose")) {
            for (int i = 0; i < ours.length; i++) {
                System.out.printf("  %s step %d ours %.7f TRL %.7f%n", what, i + 1, ours[i], theirs.get(i).asDouble());
            }
        }
        System.out.printf("TRL parity %-22s step 1 %.6f (TRL %.6f), step %d %.6f (TRL %.6f), max |diff| %.2e%n", what,
                ours[0], theirs.get(0).asDouble(), ours.length, ours[ours.length - 1],
                theirs.get(ours.length - 1).asDouble(), max);
        return max;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static <T> List<T> rows(String file, Function<DataSource, List<T>> read) {
        return read.apply(DataSource.parse(DIR.resolve(file).toString()));
    }

    @Test
    void sftLossesEqualTrlsStepByStep() throws IOException {
        try (Tokenizer tok = Checkpoint.tokenizerFor(DIR.resolve("model"));
                NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(DIR.resolve("model"), m)) {
            TldrTask task = TldrTask.builder().setTokenizer(tok).build();
            List<Encoded.Sft> data = rows("sft.jsonl", d -> uncheck(() -> d.sft(task, "train").requireRows()));
            // the same tokens: TRL's input_ids = query ++ response (EOS appended), labels -100 on the query
            JsonNode enc = TRL.get("sft").get("encoded");
            assertThat(data).hasSize(enc.size());
            for (int i = 0; i < data.size(); i++) {
                Encoded.Sft s = data.get(i);
                int[] ids = concat(s.query().ids(), s.response());
                JsonNode trlIds = enc.get(i).get("input_ids");
                JsonNode labels = enc.get(i).get("labels");
                assertThat(ids).as("row %d ids", i).hasSize(trlIds.size());
                for (int j = 0; j < ids.length; j++) {
                    assertThat(ids[j]).as("row %d token %d", i, j).isEqualTo(trlIds.get(j).asInt());
                    assertThat(labels.get(j).asInt() != -100).as("row %d loss mask %d", i, j)
                            .isEqualTo(j >= s.query().ids().length);
                }
            }
            SftConfig cfg = SftConfig.builder().setSeed(0).setOptimizer(adam(hp("sft_lr"))).setBatchSize(data.size())
                    .setMicroBatchSize(data.size()).setEpochs(STEPS).setSchedule(TrainingSchedule.of(0, 0))
                    .setNumSamples(0).build();
            Rows rows = new Rows();
            SftTrainer.Result r = SftTrainer.builder().setConfig(cfg).setPolicy(policy).setTokenizer(tok)
                    .setTrainData(data).optMetrics(rows).build().train();
            assertThat(r.steps()).isEqualTo(STEPS);
            JsonNode trl = TRL.get("sft");
            assertThat(maxDiff("SFT loss", rows.get("train/loss"), trl.get("loss"))).isLessThan(TOL);
            assertThat(maxDiff("SFT grad norm", rows.get("train/grad_norm"), trl.get("grad_norm"))).isLessThan(1e-3);
            assertThat(maxDiff("SFT lr", rows.get("train/lr"), trl.get("lr"))).isLessThan(1e-12);
        }
    }

    /**
     * Weight decay 1.0: transformers' Trainer decays every weight but biases and normalisation weights
     * ({@code get_decay_parameter_names}); the Llama RMSNorm weights must keep their value apart from the gradient
     * steps, so the losses only agree when rlhf4j excludes the same parameters.
     */
    @Test
    void sftWithWeightDecayEqualsTrlsStepByStep() throws IOException {
        try (Tokenizer tok = Checkpoint.tokenizerFor(DIR.resolve("model"));
                NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(DIR.resolve("model"), m)) {
            TldrTask task = TldrTask.builder().setTokenizer(tok).build();
            List<Encoded.Sft> data = rows("sft.jsonl", d -> uncheck(() -> d.sft(task, "train").requireRows()));
            OptimizerConfig opt = adam(hp("sft_lr")).toBuilder().setWeightDecay(hp("sft_weight_decay")).build();
            SftConfig cfg = SftConfig.builder().setSeed(0).setOptimizer(opt).setBatchSize(data.size())
                    .setMicroBatchSize(data.size()).setEpochs(STEPS).setSchedule(TrainingSchedule.of(0, 0))
                    .setNumSamples(0).build();
            Rows rows = new Rows();
            SftTrainer.builder().setConfig(cfg).setPolicy(policy).setTokenizer(tok).setTrainData(data)
                    .optMetrics(rows).build().train();
            JsonNode trl = TRL.get("sft_weight_decay");
            assertThat(maxDiff("SFT (wd 1.0) loss", rows.get("train/loss"), trl.get("loss"))).isLessThan(TOL);
            float[] norm = policy.weights().get("model.norm.weight").toFloatArray();
            double max = 0;
            for (int i = 0; i < norm.length; i++) {
                max = Math.max(max, Math.abs(norm[i] - trl.get("final_norm_weight").get(i).asDouble()));
            }
            System.out.printf("TRL parity SFT (wd 1.0) final model.norm.weight max |diff| %.2e%n", max);
            assertThat(max).isLessThan(1e-4);
        }
    }

    @Test
    void rewardModelLossesAndAccuraciesEqualTrlsStepByStep() throws IOException {
        try (Tokenizer tok = Checkpoint.tokenizerFor(DIR.resolve("model"));
                NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.load(DIR.resolve("rm-init"), m, 0)) {
            TldrTask task = TldrTask.builder().setTokenizer(tok).build();
            List<Encoded.Pair> pairs = rows("pairs.jsonl", d -> uncheck(() -> d.pairs(task, "train").requireRows()));
            RewardConfig cfg = RewardConfig.builder().setSeed(0).setOptimizer(adam(hp("rm_lr")))
                    .setBatchSize(pairs.size()).setMicroBatchSize(pairs.size()).setEpochs(STEPS)
                    .setCenterRewardsCoefficient(0).setSchedule(TrainingSchedule.of(0, 0))
                    .setNormalizeOnReferences(false).build();
            Rows rows = new Rows();
            RewardTrainer.Result r = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(tok)
                    .setTrainData(pairs).optMetrics(rows).build().train();
            assertThat(r.steps()).isEqualTo(STEPS);
            JsonNode trl = TRL.get("reward");
            assertThat(maxDiff("RM loss", rows.get("train/loss"), trl.get("loss"))).isLessThan(TOL);
            assertThat(maxDiff("RM accuracy", rows.get("train/accuracy"), trl.get("accuracy"))).isLessThan(1e-9);
            assertThat(maxDiff("RM margin", rows.get("train/margin"), trl.get("margin"))).isLessThan(1e-3);
            assertThat(maxDiff("RM grad norm", rows.get("train/grad_norm"), trl.get("grad_norm"))).isLessThan(1e-3);
        }
    }

    @Test
    void dpoLossesRewardsAndAccuraciesEqualTrlsStepByStep() throws IOException {
        try (Tokenizer tok = Checkpoint.tokenizerFor(DIR.resolve("model"));
                NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(DIR.resolve("model"), m);
                CausalLm reference = CausalLm.load(DIR.resolve("model"), m)) {
            TldrTask task = TldrTask.builder().setTokenizer(tok).build();
            List<Encoded.Pair> pairs = rows("pairs.jsonl", d -> uncheck(() -> d.pairs(task, "train").requireRows()));
            DpoConfig cfg = DpoConfig.builder().setSeed(0).setOptimizer(adam(hp("dpo_lr"))).setBeta(hp("beta"))
                    .setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0.0).setBatchSize(pairs.size())
                    .setMicroBatchSize(pairs.size()).setEpochs(STEPS).setSchedule(TrainingSchedule.of(0, 0)).build();
            Rows rows = new Rows();
            DpoTrainer.Result r = DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                    .setTokenizer(tok).setTrainData(pairs).optMetrics(rows).build().train();
            assertThat(r.steps()).isEqualTo(STEPS);
            JsonNode trl = TRL.get("dpo");
            assertThat(maxDiff("DPO loss", rows.get("loss"), trl.get("loss"))).isLessThan(TOL);
            for (String k : List.of("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")) {
                assertThat(maxDiff("DPO " + k, rows.get(k), trl.get(k))).isLessThan(TOL);
            }
            assertThat(maxDiff("DPO grad norm", rows.get("train/grad_norm"), trl.get("grad_norm"))).isLessThan(1e-3);
        }
    }

    interface IoSupplier<T> {
        T get() throws IOException;
    }

    static <T> T uncheck(IoSupplier<T> s) {
        try {
            return s.get();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
