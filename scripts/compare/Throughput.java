import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ProgressListener;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoTrainer;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.algorithms.rloo.RlooConfig;
import org.rlhf4j.algorithms.rloo.RlooTrainer;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.algorithms.sft.SftTrainer;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * rlhf4j's side of scripts/compare/bench.sh: times STEPS updates of one trainer in-process (the median of the update
 * times after the first, taken from the trainer's progress callback) and prints one JSON line. Run with the CLI's
 * class path (see scripts/compare/README.md):
 *
 * <pre>java -cp "rlhf-examples/target/rlhf-examples-*.jar:rlhf-examples/target/lib/*" scripts/compare/Throughput.java
 *     ALGO MODEL_DIR DATA_DIR STEPS</pre>
 *
 * ALGO: sft, reward, dpo, grpo, rloo or generate. The settings are those of trl_parity.py bench: 8 rows per update
 * (GRPO/RLOO: 2 prompts × 4 completions of at most 32 tokens, sampled at τ 1), fp32, AdamW, clipping at 1.0.
 */
public class Throughput {

    static final List<Double> STAMPS = new ArrayList<>();

    static ProgressListener timer() {
        return (stage, step, total, metrics) -> STAMPS.add(System.nanoTime() / 1e9);
    }

    static double medianStep() {
        double[] d = new double[STAMPS.size() - 1];
        for (int i = 1; i < STAMPS.size(); i++) {
            d[i - 1] = STAMPS.get(i) - STAMPS.get(i - 1);
        }
        Arrays.sort(d);
        return d.length == 0 ? Double.NaN : d[d.length / 2];
    }

    static OptimizerConfig adam() {
        return OptimizerConfig.builder().setLearningRate(1e-4).setSchedule(OptimizerConfig.Schedule.LINEAR)
                .setEps(1e-8).setMaxGradNorm(1.0).build();
    }

    static long peakRssMb() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmHWM:")) {
                return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    public static void main(String[] args) throws Exception {
        String algo = args[0];
        Path model = Path.of(args[1]);
        Path data = Path.of(args[2]);
        int steps = Integer.parseInt(args[3]);
        TrainingSchedule none = TrainingSchedule.of(0, 0);
        double units;
        String unit;
        try (Tokenizer tok = Checkpoint.tokenizerFor(model);
                NDManager m = NDManager.newBaseManager()) {
            TldrTask task = TldrTask.builder().setTokenizer(tok).build();
            DataSource sftFile = DataSource.parse(data.resolve("sft.jsonl").toString());
            DataSource pairFile = DataSource.parse(data.resolve("pairs.jsonl").toString());
            switch (algo) {
                case "sft" -> {
                    List<Encoded.Sft> rows = sftFile.sft(task, "train").requireRows();
                    try (CausalLm p = CausalLm.load(model, m)) {
                        SftTrainer.builder().setConfig(SftConfig.builder().setOptimizer(adam()).setBatchSize(8)
                                .setMicroBatchSize(8).setEpochs(steps * 8.0 / rows.size()).setSchedule(none)
                                .setNumSamples(0).build()).setPolicy(p).setTokenizer(tok).setTrainData(rows)
                                .optProgress(timer()).build().train();
                    }
                    units = rows.stream().limit(8).mapToInt(s -> s.query().ids().length + s.response().length).sum();
                    unit = "tokens";
                }
                case "reward" -> {
                    List<Encoded.Pair> rows = pairFile.pairs(task, "train").requireRows();
                    try (CausalLm lm = CausalLm.load(model, m); ScalarModel rm = ScalarModel.fromLm(lm, m, 0)) {
                        RewardTrainer.builder().setConfig(RewardConfig.builder().setOptimizer(adam()).setBatchSize(8)
                                .setMicroBatchSize(8).setEpochs(steps * 8.0 / rows.size())
                                .setCenterRewardsCoefficient(0).setSchedule(none).setNormalizeOnReferences(false)
                                .build()).setModel(rm).setTokenizer(tok).setTrainData(rows).optProgress(timer())
                                .build().train();
                    }
                    units = 8;
                    unit = "pairs";
                }
                case "dpo" -> {
                    List<Encoded.Pair> rows = pairFile.pairs(task, "train").requireRows();
                    try (CausalLm p = CausalLm.load(model, m); CausalLm r = CausalLm.load(model, m)) {
                        DpoTrainer.builder().setConfig(DpoConfig.builder().setOptimizer(adam()).setBeta(0.1)
                                .setLossType(DpoLossType.SIGMOID).setBatchSize(8).setMicroBatchSize(8)
                                .setEpochs(steps * 8.0 / rows.size()).setSchedule(none)
                                .setPrecomputeReferenceLogprobs(false).build()).setPolicy(p).setReference(r)
                                .setTokenizer(tok).setTrainData(rows).optProgress(timer()).build().train();
                    }
                    units = 8;
                    unit = "pairs";
                }
                case "grpo", "rloo" -> {
                    List<Encoded.PromptOnly> prompts = sftFile.prompts(task, "train").requireRows();
                    double epochs = steps * 2.0 / prompts.size();
                    CompositeReward reward = CompositeReward.of(RewardFns.length());
                    try (CausalLm p = CausalLm.load(model, m); CausalLm r = CausalLm.load(model, m)) {
                        if (algo.equals("grpo")) {
                            GrpoTrainer.builder().setConfig(GrpoConfig.builder().setOptimizer(adam()).setEpochs(epochs)
                                    .setPromptsPerStep(2).setNumGenerations(4).setMicroBatchSize(8)
                                    .setNumIterations(1).setMaxCompletionLength(32).setBeta(0.04).setSchedule(none)
                                    .build()).setPolicy(p).optReference(r).setReward(reward).setTokenizer(tok)
                                    .setPrompts(prompts).optProgress(timer()).build().train();
                        } else {
                            RlooTrainer.builder().setConfig(RlooConfig.builder().setOptimizer(adam()).setEpochs(epochs)
                                    .setPromptsPerStep(2).setNumGenerations(4).setMicroBatchSize(8)
                                    .setNumIterations(1).setMaxCompletionLength(32).setBeta(0.05).setSchedule(none)
                                    .build()).setPolicy(p).setReference(r).setReward(reward).setTokenizer(tok)
                                    .setPrompts(prompts).optProgress(timer()).build().train();
                        }
                    }
                    units = 8;
                    unit = "episodes";
                }
                case "generate" -> {
                    List<Encoded.PromptOnly> prompts = sftFile.prompts(task, "train").requireRows();
                    List<int[]> ids = prompts.stream().limit(8).map(p -> p.query().ids()).toList();
                    // exactly 64 new tokens per row (no EOS stop: min_new_tokens on TRL's side)
                    GenerationConfig g = GenerationConfig.builder(64, tok.eosTokenId()).setMinNewTokens(64).setTemperature(1.0).build();
                    try (CausalLm p = CausalLm.load(model, m)) {
                        for (int s = 0; s <= steps; s++) {
                            Rollout r = Generator.generate(p, ids, null, g, s);
                            STAMPS.add(System.nanoTime() / 1e9);
                        }
                    }
                    units = 8 * 64;
                    unit = "new tokens";
                }
                default -> throw new IllegalArgumentException("unknown algo " + algo);
            }
        }
        double t = medianStep();
        System.out.printf(Locale.ROOT, "{\"side\": \"rlhf4j\", \"algo\": \"%s\", \"median_step_s\": %.4f, "
                + "\"units\": %.0f, \"unit\": \"%s\", \"per_s\": %.2f, \"peak_rss_mb\": %d}%n", algo, t, units, unit,
                units / t, peakRssMb());
    }
}
