package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.drpo.DrpoConfig;
import org.rlhf4j.algorithms.drpo.DrpoTrainer;
import org.rlhf4j.algorithms.drpo.ResetSource;
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
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j drpo}: DR-PO — PPO whose rollouts reset to prefixes of the offline data. */
@Command(name = "drpo", mixinStandardHelpOptions = true,
        description = "DR-PO: PPO with dataset resets to prefixes of the human references (same options as ppo).")
public final class DrpoCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin LoraOptions lora;

    @Mixin RlOptions rl;

    @Option(names = "--beta-mix", defaultValue = "1.0",
            description = "β_mix: probability that a rollout resets to a reference prefix (0 = PPO). Default: ${DEFAULT-VALUE}.")
    double betaMix;

    @Option(names = "--reset-source", defaultValue = "reference", paramLabel = "reference|preferred",
            description = "Reset to the human reference summary, or to the preferred response of comparisons. Default: ${DEFAULT-VALUE}.")
    String resetSource;

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
        PpoConfig ppo = rl.config(train);
        ResetSource source = switch (resetSource.toLowerCase(Locale.ROOT)) {
            case "reference" -> ResetSource.REFERENCE_SUMMARY;
            case "preferred" -> ResetSource.PREFERRED_RESPONSE;
            default -> throw new IllegalArgumentException("unknown --reset-source '" + resetSource + "' (reference, preferred)");
        };
        DrpoConfig cfg = DrpoConfig.builder().setPpo(ppo).setBetaMix(betaMix).setResetSource(source).build();
        PrintWriter err = spec.commandLine().getErr();
        rl.requireModels();
        LoraConfig loraCfg = lora.config();
        DpoCommand.warnDropout(loraCfg, err, "drpo");
        RunDir run = train.runDir("drpo");
        try (PpoModels models = rl.load(train, ppo.seed(), loraCfg)) {
            Tokenizer tok = models.tokenizer();
            TldrTask task = train.newTask(tok, rl.model);
            List<Encoded.PromptOnly> prompts = source == ResetSource.PREFERRED_RESPONSE
                    ? train.data().preferredPrompts(task, "train").rows()
                    : train.data().prompts(task, "train").requireRows();
            List<Encoded.PromptOnly> evalPrompts = train.evalData().prompts(task, "valid").rows();
            DrpoTrainer trainer = DrpoTrainer.builder().setConfig(cfg).setPolicy(models.policy())
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
            Plots.plotAll(run.metrics(), run.plots(), "drpo");
            stageResult = StageResult.Ppo.of("drpo", run.model().toString(), r, before, prompts.size(),
                    evalPrompts.size(), betaMix, source.name());
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }
}
