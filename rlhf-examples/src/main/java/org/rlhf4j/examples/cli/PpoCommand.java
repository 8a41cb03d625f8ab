package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.ExampleData;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code rlhf4j ppo}: PPO from the SFT policy against the reward model. */
@Command(name = "ppo", mixinStandardHelpOptions = true,
        description = "PPO with the TL;DR implementation details: policy from the SFT checkpoint, critic from the reward model.")
public final class PpoCommand implements Callable<Integer>, ResultCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin RlOptions rl;

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        PpoConfig cfg = rl.config(train);
        PrintWriter err = spec.commandLine().getErr();
        RunDir run = train.runDir("ppo");
        try (RlOptions.Models models = rl.load(train, cfg.seed())) {
            Tokenizer tok = models.tokenizer();
            TldrTask task = new TldrTask(tok, train.task());
            List<Encoded.PromptOnly> prompts = ExampleData.prompts(task, train.data(), "train");
            List<Encoded.PromptOnly> evalPrompts = ExampleData.prompts(task,
                    train.evalData(), "valid");
            PpoTrainer trainer = PpoTrainer.builder().setConfig(cfg).setPolicy(models.policy())
                    .setReference(models.reference()).setCritic(models.critic())
                    .setReward(RewardSource.of(models.rewardModel())).setTokenizer(tok).setPrompts(prompts)
                    .optEvalPrompts(evalPrompts).optRunDir(run).optProgress(new ConsoleProgress(err, "objective/scores"))
                    .optDataId(ExampleData.dataId(train.data(), "prompts"))
                    .optExistingRun(train.existingRun()).optCommandOptions(train.options())
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(rl.model)
                    .build();
            PpoTrainer.Evaluation before = trainer.evaluate(evalPrompts, 0);
            PpoTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "ppo");
            result = summary("ppo", run, r, before, prompts.size(), evalPrompts.size());
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }


    static Map<String, Object> summary(String stage, RunDir run, PpoTrainer.Result r, PpoTrainer.Evaluation before,
            int trainPrompts, int evalPrompts) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("stage", stage);
        s.put("model", run.model().toString());
        s.put("updates", r.steps());
        s.put("train_prompts", trainPrompts);
        s.put("eval_prompts", evalPrompts);
        s.put("eval_before", before);
        if (!r.evaluations().isEmpty()) {
            s.put("eval_after", r.evaluations().get(r.evaluations().size() - 1));
        }
        s.put("kl_coef", r.klCoef());
        return s;
    }
}
