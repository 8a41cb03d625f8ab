package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoLossType;
import org.rlhf4j.algorithms.grpo.GrpoTrainer;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFn;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j grpo}: GRPO from a policy checkpoint against reward functions (and optionally a reward model). */
@Command(name = "grpo", mixinStandardHelpOptions = true,
        description = "GRPO (TRL semantics): G completions per prompt, group-relative advantages, no critic. Writes "
                + "OUT/model, checkpoint-STEP/, metrics.jsonl, eval.jsonl, plots/.")
public final class GrpoCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Initial policy (and reference when --beta > 0), e.g. runs/sft/model.")
    Path model;

    @Option(names = "--reward-model", paramLabel = "DIR",
            description = "A reward model, available to --reward-fn as 'reward_model' (the default reward when given).")
    Path rewardModel;

    @Option(names = "--reward-fn", paramLabel = "NAME[=W],...",
            description = "Weighted reward functions, e.g. 'length=1,ends_with_eos=0.5' (built-ins: "
                    + "length, ends_with_eos, no_repetition, exact_answer, format; reward_model with --reward-model). "
                    + "Default: reward_model with --reward-model, else length (TRL's quick start).")
    String rewardFn;

    @Option(names = "--num-generations", paramLabel = "G", description = "Completions per prompt (default: the preset's).")
    Integer numGenerations;

    @Option(names = "--num-iterations", paramLabel = "MU", description = "Optimizer steps per generation batch, μ.")
    Integer numIterations;

    @Option(names = "--beta", description = "KL coefficient β (0: no reference model; default 0).")
    Double beta;

    @Option(names = "--loss-type", description = "grpo, bnpo, dr_grpo or dapo (default: dapo).")
    String lossType;

    @Option(names = "--max-completion-length", paramLabel = "N", description = "Completion tokens (default 53).")
    Integer maxCompletionLength;

    @Option(names = "--temperature", description = "Sampling temperature τ (default 1.0).")
    Double temperature;

    private Map<String, Object> result;

    private StageResult.Online stageResult;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public StageResult stageResult() {
        return stageResult;
    }

    /** The preset's GRPO settings with the command-line overrides ({@code --batch-size} = prompts per update). */
    GrpoConfig config() {
        GrpoConfig base = train.preset().grpo();
        GrpoConfig.Builder b = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.lr != null ? base.optimizer().withLearningRate(train.lr) : base.optimizer())
                .setEpochs(train.epochs != null ? train.epochs : base.epochs());
        if (train.batchSize != null) {
            b.setPromptsPerStep(train.batchSize);
        }
        if (numGenerations != null) {
            b.setNumGenerations(numGenerations);
        }
        if (numIterations != null) {
            b.setNumIterations(numIterations);
        }
        if (beta != null) {
            b.setBeta(beta);
        }
        if (lossType != null) {
            b.setLossType(GrpoLossType.parse(lossType));
        }
        if (maxCompletionLength != null) {
            b.setMaxCompletionLength(maxCompletionLength);
        }
        if (temperature != null) {
            b.setTemperature(temperature);
        }
        int completions = (train.batchSize != null ? train.batchSize : base.promptsPerStep())
                * (numGenerations != null ? numGenerations : base.numGenerations());
        b.setMicroBatchSize(train.microBatchSize != null ? train.microBatchSize
                : completions % base.microBatchSize() == 0 ? base.microBatchSize() : completions);
        return b.build();
    }

    @Override
    public Integer call() throws Exception {
        GrpoConfig cfg = config();
        train.preset().checkModel(model);
        PrintWriter err = spec.commandLine().getErr();
        RunDir run = train.runDir("grpo");
        try (Tokenizer tok = Checkpoint.tokenizerFor(model);
                NDManager m = NDManager.newBaseManager(train.device());
                CausalLm policy = CausalLm.load(model, m);
                CausalLm reference = cfg.beta() > 0 ? CausalLm.load(model, m) : null;
                ScalarModel rm = rewardModel == null ? null : ScalarModel.load(rewardModel, m, cfg.seed())) {
            Map<String, RewardFn> extra = new LinkedHashMap<>();
            if (rm != null) {
                extra.put("reward_model", RewardFns.rewardModel(rm, tok.eosTokenId(), cfg.microBatchSize()));
            }
            String spec0 = rewardFn != null ? rewardFn : rm != null ? "reward_model" : "length";
            CompositeReward reward = RewardFns.parse(spec0, tok.eosTokenId(), extra);
            TldrTask task = new TldrTask(tok, train.task());
            List<Encoded.PromptOnly> prompts = train.data().prompts(task, "train").rows();
            List<Encoded.PromptOnly> evalPrompts = train.evalData().prompts(task, "valid").rows();
            GrpoTrainer trainer = GrpoTrainer.builder().setConfig(cfg).setPolicy(policy).optReference(reference)
                    .setReward(reward).setTokenizer(tok).setPrompts(prompts).optEvalPrompts(evalPrompts)
                    .optRunDir(run).optProgress(new ConsoleProgress(err, "reward"))
                    .optDataId(train.data().dataId("prompts"))
                    .optExistingRun(train.existingRun()).optCommandOptions(train.options())
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(model)
                    .build();
            GrpoTrainer.Evaluation before = trainer.evaluate(evalPrompts, 0);
            GrpoTrainer.Result r = trainer.train();
            GrpoTrainer.Evaluation after = trainer.evaluate(evalPrompts, r.steps());
            Plots.plotAll(run.metrics(), run.plots(), "grpo");
            stageResult = new StageResult.Online("grpo", run.model().toString(), r.steps(), spec0, prompts.size(),
                    evalPrompts.size(), before.reward(), after.reward(), before.meanLength(), after.meanLength());
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }
}
