package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.ppo.AdaptiveKl;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.ExampleData;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j ppo}: PPO from the SFT policy against the reward model. */
@Command(name = "ppo", mixinStandardHelpOptions = true,
        description = "PPO with the TL;DR implementation details: policy from the SFT checkpoint, critic from the reward model.")
public final class PpoCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "runs/sft/model",
            description = "Initial policy and frozen reference (the SFT checkpoint). Default: ${DEFAULT-VALUE}.")
    Path model;

    @Option(names = "--reward-model", paramLabel = "DIR", defaultValue = "runs/reward/model",
            description = "Reward model (also the critic's initialisation). Default: ${DEFAULT-VALUE}.")
    Path rewardModel;

    @Option(names = "--episodes", description = "Total episodes (default: the preset's).")
    Long episodes;

    @Option(names = "--kl-coef", description = "KL coefficient β (default: the preset's, 0.05).")
    Double klCoef;

    @Option(names = "--kl-estimator", description = "k1 or k3 (default: the preset's, k1).")
    String klEstimator;

    @Option(names = "--target-kl", description = "Use Ziegler's adaptive KL controller with this target (nats), horizon 10000.")
    Double targetKl;

    @Override
    public Integer call() throws Exception {
        PpoConfig cfg = config(train, train.preset().ppo(), episodes, klCoef, klEstimator, targetKl);
        PrintWriter err = spec.commandLine().getErr();
        RunDir run = train.runDir("ppo");
        try (Tokenizer tok = Checkpoint.tokenizerFor(model);
                NDManager m = NDManager.newBaseManager(train.device());
                Gpt2 policy = Gpt2.load(model, m);
                Gpt2 reference = Gpt2.load(model, m);
                ScalarModel rm = ScalarModel.load(rewardModel, m, cfg.seed());
                ScalarModel critic = rm.copy(m)) {
            TldrTask task = new TldrTask(tok, train.task());
            List<Encoded.PromptOnly> prompts = ExampleData.prompts(task, train.data, "train");
            List<Encoded.PromptOnly> evalPrompts = ExampleData.prompts(task,
                    train.evalData != null ? train.evalData : ExampleData.BUNDLED, "valid");
            PpoTrainer trainer = PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                    .setCritic(critic).setReward(RewardSource.of(rm)).setTokenizer(tok).setPrompts(prompts)
                    .optEvalPrompts(evalPrompts).optRunDir(run).optProgress(new ConsoleProgress(err, "objective/scores"))
                    .optDataId(ExampleData.dataId(train.data, "prompts"))
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .build();
            PpoTrainer.Evaluation before = trainer.evaluate(evalPrompts, 0);
            PpoTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "ppo");
            spec.commandLine().getOut().println(Json.compact(summary("ppo", run, r, before)));
        }
        return 0;
    }

    static PpoConfig config(TrainOptions train, PpoConfig base, Long episodes, Double klCoef, String estimator,
            Double targetKl) {
        int batch = train.batchSize != null ? train.batchSize : base.batchSize();
        int miniBatches = batch % base.numMiniBatches() == 0 ? base.numMiniBatches() : 1;
        int micro = train.microBatchSize != null ? train.microBatchSize : Math.min(base.microBatchSize(), batch / miniBatches);
        long total = episodes != null ? episodes
                : train.epochs != null ? Math.round(train.epochs * base.totalEpisodes()) : base.totalEpisodes();
        return new PpoConfig(train.seed != null ? train.seed : base.seed(),
                train.lr != null ? base.optimizer().withLearningRate(train.lr) : base.optimizer(), total, batch,
                miniBatches, micro, base.ppoEpochs(), base.responseLength(), base.temperature(),
                klCoef != null ? klCoef : base.klCoef(),
                targetKl != null ? new AdaptiveKl(targetKl, 10000) : base.adaptiveKl(),
                estimator != null ? KlEstimator.valueOf(estimator.toUpperCase(java.util.Locale.ROOT)) : base.klEstimator(),
                base.whitenRewards(), base.gamma(), base.lambda(), base.clipRange(), base.clipRangeValue(), base.vfCoef(),
                base.entCoef(), base.noEosScore(), base.evalEvery(), base.checkpointEvery());
    }

    static Map<String, Object> summary(String stage, RunDir run, PpoTrainer.Result r, PpoTrainer.Evaluation before) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("stage", stage);
        s.put("model", run.model().toString());
        s.put("updates", r.steps());
        s.put("eval_before", before);
        if (!r.evaluations().isEmpty()) {
            s.put("eval_after", r.evaluations().get(r.evaluations().size() - 1));
        }
        s.put("kl_coef", r.klCoef());
        return s;
    }
}
