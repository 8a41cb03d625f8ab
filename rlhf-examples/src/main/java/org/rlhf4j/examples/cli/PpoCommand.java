package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoModels;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code rlhf4j ppo}: PPO from the SFT policy against the reward model. */
@Command(name = "ppo", mixinStandardHelpOptions = true,
        description = "PPO with the TL;DR implementation details: policy from the SFT checkpoint, critic from the reward model.")
public final class PpoCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin LoraOptions lora;

    @Mixin RlOptions rl;

    private StageResult.Ppo stageResult;

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
        PpoConfig cfg = rl.config(train);
        rl.requireModels();
        PrintWriter err = spec.commandLine().getErr();
        LoraConfig loraCfg = lora.config();
        DpoCommand.warnDropout(loraCfg, err, "ppo");
        RunDir run = train.runDir("ppo");
        try (PpoModels models = rl.load(train, cfg.seed(), loraCfg)) {
            Tokenizer tok = models.tokenizer();
            TldrTask task = train.newTask(tok, rl.model);
            List<Encoded.PromptOnly> prompts = train.data().prompts(task, "train").requireRows();
            List<Encoded.PromptOnly> evalPrompts = train.evalData().prompts(task, "valid").rows();
            PpoTrainer trainer = PpoTrainer.builder().setConfig(cfg).setPolicy(models.policy())
                    .setReference(models.reference()).setCritic(models.critic())
                    .setReward(RewardSource.of(models.rewardModel())).setTokenizer(tok).setPrompts(prompts)
                    .optEvalPrompts(evalPrompts).optRunDir(run).optProgress(new ConsoleProgress(err, "objective/scores"))
                    .optDataId(train.data().dataId("prompts"))
                    .optExistingRun(train.existingRun()).optModelSaveOptions(train.modelSaveOptions()).optCommandOptions(train.options())
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(rl.model)
                    .build();
            PpoTrainer.Evaluation before = trainer.evaluate(evalPrompts, 0);
            PpoTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "ppo");
            stageResult = StageResult.Ppo.of("ppo", run.model().toString(), r, before, prompts.size(),
                    evalPrompts.size(), null, null);
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }

}
