package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.ExampleData;
import org.rlhf4j.examples.Plots;
import org.rlhf4j.examples.Presets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j reward}: reward-model training on human comparisons, then reward normalisation. */
@Command(name = "reward", mixinStandardHelpOptions = true,
        description = "Train a reward model on comparisons (Bradley-Terry), evaluate per split and confidence, normalise on the SFT references.")
public final class RewardCommand implements Callable<Integer>, ResultCommand {

    /**
     * Evaluation sets pooled into the summary's {@code heldout} accuracy: the held-out comparison splits (bundled
     * and full: valid1, valid2; a file given with {@code --eval-data}: eval). The bundled {@code confidence*} sets
     * come from OpenAI's batch18 and are reported per confidence only.
     */
    static final List<String> HELDOUT_SETS = List.of("valid1", "valid2", "eval");

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Initial model: usually the SFT checkpoint (runs/sft/model); an LM directory gets a fresh scalar head. "
                    + "Default with --preset tiny: runs/sft/model if it exists, else a from-scratch GPT-2.")
    Path model;

    @Option(names = "--center-rewards", description = "Reward-centering coefficient c (TRL center_rewards_coefficient). Default: the preset's.")
    Double center;

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        Presets p = train.preset();
        RewardConfig base = p.reward();
        int batch = train.batchSize != null ? train.batchSize : base.batchSize();
        RewardConfig cfg = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setEvalSteps(train.evalSteps(base.evalSteps())).setSaveSteps(train.saveSteps(base.saveSteps()))
                .setSaveTotalLimit(train.saveTotalLimit(base.saveTotalLimit()))
                .setLoggingSteps(train.loggingSteps(base.loggingSteps()))
                .setOptimizer(train.lr != null ? base.optimizer().withLearningRate(train.lr) : base.optimizer())
                .setBatchSize(batch)
                .setMicroBatchSize(
                        train.microBatchSize != null ? train.microBatchSize : Math.min(base.microBatchSize(), batch))
                .setEpochs(train.epochs != null ? train.epochs : base.epochs())
                .setCenterRewardsCoefficient(center != null ? center : base.centerRewardsCoefficient())
                .build();
        Path init = model;
        if (init == null && Path.of("runs", "sft", "model", "config.json").toFile().exists()) {
            init = Path.of("runs", "sft", "model");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (init == null) {
            if (p.scratchModel() == null) {
                throw new IllegalArgumentException(p.needsModel("the SFT checkpoint"));
            }
            err.println("reward: no --model and no runs/sft/model: starting from an untrained GPT-2 (run `rlhf4j sft` first)");
        }
        RunDir run = train.runDir("reward");
        p.checkModel(init);
        try (Tokenizer tok = init != null ? Checkpoint.tokenizerFor(init) : Gpt2Tokenizers.bundled();
                NDManager m = NDManager.newBaseManager(train.device());
                ScalarModel rm = init != null ? ScalarModel.load(init, m, cfg.seed())
                        : ScalarModel.random(p.scratchModel(), m, cfg.seed())) {
            TldrTask task = new TldrTask(tok, train.task());
            List<Encoded.Pair> trainPairs = ExampleData.pairs(task, train.data(), "train");
            String evalSource = train.evalData();
            Map<String, List<Encoded.Pair>> evalSets = switch (evalSource) {
                case ExampleData.BUNDLED -> ExampleData.bundledRewardEvalSets(task);
                case ExampleData.FULL -> Map.of("valid1", ExampleData.pairs(task, evalSource, "valid1"),
                        "valid2", ExampleData.pairs(task, evalSource, "valid2"));
                default -> Map.of("eval", ExampleData.pairs(task, evalSource, "valid1"));
            };
            // reference summaries for the score normalisation: the SFT train split of the same named data
            List<Encoded.Sft> refs = ExampleData.sft(task,
                    ExampleData.FULL.equals(train.data()) ? ExampleData.FULL : ExampleData.BUNDLED, "train");
            RewardTrainer trainer = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(tok)
                    .setTrainData(trainPairs).optEvalSets(evalSets).optReferences(refs).optRunDir(run)
                    .optProgress(new ConsoleProgress(err, "train/loss"))
                    .optDataId(ExampleData.dataId(train.data(), "comparisons"))
                    .optExistingRun(train.existingRun()).optCommandOptions(train.options())
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(init)
                    .build();
            RewardTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "reward");
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("stage", "reward");
            summary.put("model", run.model().toString());
            summary.put("steps", r.steps());
            summary.put("train_pairs", trainPairs.size());
            Map<String, Object> evals = new LinkedHashMap<>();
            int heldoutCorrect = 0;
            int heldoutPairs = 0;
            List<String> heldoutSets = new ArrayList<>();
            for (RewardTrainer.Evaluation e : r.evaluations()) {
                if (e.step() == r.steps()) {
                    evals.put(e.set(), Map.of("accuracy", e.accuracy(), "margin", e.margin(), "pairs", e.pairs()));
                    if (HELDOUT_SETS.contains(e.set())) {
                        heldoutSets.add(e.set());
                        heldoutCorrect += (int) Math.round(e.accuracy() * e.pairs());
                        heldoutPairs += e.pairs();
                    }
                }
            }
            summary.put("eval", evals);
            // the held-out comparisons pooled (the confidence sets come from batch18, which may overlap training)
            Map<String, Object> heldout = new LinkedHashMap<>();
            heldout.put("sets", heldoutSets);
            heldout.put("correct", heldoutCorrect);
            heldout.put("pairs", heldoutPairs);
            heldout.put("accuracy", heldoutPairs == 0 ? null : (double) heldoutCorrect / heldoutPairs);
            summary.put("heldout", heldout);
            if (r.normalization() != null) {
                summary.put("reference_mean_before", r.normalization().meanBefore());
                summary.put("reference_mean_after", r.normalization().meanAfter());
            }
            result = summary;
            spec.commandLine().getOut().println(Json.compact(summary));
        }
        return 0;
    }
}
