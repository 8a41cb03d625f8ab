package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.source.EncodedRows;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
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
public final class RewardCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin LoraOptions lora;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Initial model: usually the SFT checkpoint (e.g. runs/sft/model); an LM directory gets a fresh "
                    + "scalar head. With --lora-r: the frozen trunk under a LoRA adapter and a fresh head (PEFT SEQ_CLS). "
                    + "Without it (--preset tiny only): a from-scratch GPT-2.")
    Path model;

    @Option(names = "--center-rewards", description = "Reward-centering coefficient c (TRL center_rewards_coefficient). Default: the preset's.")
    Double center;

    private StageResult.Reward stageResult;

    private Map<String, Object> result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public StageResult stageResult() {
        return stageResult;
    }

    @Override
    public Integer call() throws Exception {
        Presets p = train.preset();
        RewardConfig base = p.reward();
        int batch = train.batchSize != null ? train.batchSize : base.batchSize();
        RewardConfig cfg = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.optimizer(base.optimizer()))
                .setBatchSize(batch)
                .setMicroBatchSize(
                        train.microBatchSize != null ? train.microBatchSize : Math.min(base.microBatchSize(), batch))
                .setEpochs(train.epochs != null ? train.epochs : base.epochs())
                .setCenterRewardsCoefficient(center != null ? center : base.centerRewardsCoefficient())
                .build();
        Path init = model;
        PrintWriter err = spec.commandLine().getErr();
        if (init == null) {
            if (p.scratchModel() == null) {
                throw new IllegalArgumentException(p.needsModel("the SFT checkpoint"));
            }
            err.println("reward: no --model: starting from an untrained GPT-2 (give --model with the SFT checkpoint, e.g. "
                    + "runs/sft/model after `rlhf4j sft`)");
        }
        LoraConfig loraCfg = lora.config(init);
        RunDir run = train.runDir("reward");
        p.checkModel(init);
        train.checkChat(init);
        try (Tokenizer tok = init != null ? Checkpoint.tokenizerFor(init) : Gpt2Tokenizers.bundled();
                NDManager m = NDManager.newBaseManager(train.device());
                // with --lora-r: the frozen (merged) initial model, under an adapter and a fresh head
                CausalLm trunk = loraCfg != null ? Adapters.loadMerged(init, m) : null;
                ScalarModel rm = loraCfg != null
                        ? ScalarModel.lora(trunk, loraCfg, cfg.seed()).optBasePath(init.toAbsolutePath().normalize())
                        : init != null ? Adapters.loadScalar(init, m, cfg.seed())
                        : ScalarModel.random(p.scratchModel(), m, cfg.seed())) {
            TldrTask task = train.newTask(tok, init);
            List<Encoded.Pair> trainPairs = train.data().pairs(task, "train").requireRows();
            Map<String, List<Encoded.Pair>> evalSets = EncodedRows.rowsOf(train.evalData().rewardEvalSets(task));
            // reference summaries for the score normalisation: the SFT train split of the same named data
            List<Encoded.Sft> refs = train.data().builtIn().sft(task, "train").rows();
            RewardTrainer trainer = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(tok)
                    .setTrainData(trainPairs).optEvalSets(evalSets).optReferences(refs).optRunDir(run)
                    .optProgress(new ConsoleProgress(err, "train/loss"))
                    .optDataId(train.data().dataId("comparisons"))
                    .optExistingRun(train.existingRun()).optModelSaveOptions(train.modelSaveOptions()).optCommandOptions(train.options())
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(init)
                    .build();
            RewardTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "reward");
            stageResult = StageResult.Reward.of(run.model().toString(), r, trainPairs.size());
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }
}
