package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainerBuilder;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFn;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code grpo} and {@code rloo} share: a policy checkpoint, reward functions (optionally over a reward model),
 * G completions per prompt, the TL;DR prompts, greedy held-out rewards before and after, a typed stage result.
 */
abstract class CriticFreeCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin LoraOptions lora;

    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Initial policy (and frozen reference when --beta > 0), e.g. runs/sft/model.")
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

    @Option(names = "--beta", description = "KL coefficient β (default: the preset's; 0 loads no reference).")
    Double beta;

    @Option(names = "--max-completion-length", paramLabel = "N", description = "Completion tokens (default: the preset's).")
    Integer maxCompletionLength;

    @Option(names = "--temperature", description = "Sampling temperature τ (default 1.0).")
    Double temperature;

    private Map<String, Object> result;

    private StageResult.Online stageResult;

    /** What a run needs from the command. */
    record Context(CausalLm policy, CausalLm reference, CompositeReward reward, Tokenizer tokenizer,
            List<Encoded.PromptOnly> prompts, List<Encoded.PromptOnly> evalPrompts, RunDir run) {}

    /** Greedy held-out rewards before and after, and the updates run. */
    record Outcome(long updates, double rewardBefore, double rewardAfter, double lengthBefore, double lengthAfter) {}

    /**
     * Returns the stage name ({@code grpo}, {@code rloo}).
     *
     * @return the name
     */
    abstract String stage();

    /**
     * Returns the run seed of the effective config.
     *
     * @return the seed
     */
    abstract long seed();

    /**
     * Returns β of the effective config (a reference model is loaded when it is &gt; 0).
     *
     * @return β
     */
    abstract double effectiveBeta();

    /**
     * Returns the micro-batch size of the effective config (the reward model's batch).
     *
     * @return completions per forward
     */
    abstract int microBatchSize();

    /**
     * Validates the settings (building the config) before any model is loaded.
     */
    abstract void checkConfig();

    /**
     * Trains and evaluates.
     *
     * @param c what the run needs
     * @return what it did
     * @throws Exception on failure
     */
    abstract Outcome run(Context c) throws Exception;

    /** Applies the shared settings to a trainer builder. */
    <B extends TrainerBuilder<B>> B common(B b, Context c) {
        return b.setTokenizer(c.tokenizer()).optRunDir(c.run())
                .optProgress(new ConsoleProgress(spec.commandLine().getErr(), "reward"))
                .optDataId(dataId()).optExistingRun(train.existingRun()).optModelSaveOptions(train.modelSaveOptions()).optCommandOptions(train.options())
                .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                .optInitialModel(model);
    }

    private String dataId() {
        try {
            return train.data().dataId("prompts");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

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
        checkConfig();
        LoraConfig loraCfg = lora.config();
        train.preset().checkModel(model);
        PrintWriter err = spec.commandLine().getErr();
        DpoCommand.warnDropout(loraCfg, err, stage());
        RunDir run = train.runDir(stage());
        try (Tokenizer tok = Checkpoint.tokenizerFor(model);
                NDManager m = NDManager.newBaseManager(train.device());
                CausalLm policy = Adapters.withAdapter(Adapters.loadMerged(model, m), model, loraCfg, seed());
                // β > 0: a LoRA policy's frozen base is the reference (closed with the policy), else a second load
                CausalLm ownRef = effectiveBeta() > 0 && Adapters.sharedReference(policy) == null
                        ? Adapters.loadMerged(model, m) : null;
                ScalarModel rm = rewardModel == null ? null : Adapters.sharedReference(policy) != null
                        ? Adapters.loadScalarSharing(rewardModel, Adapters.sharedReference(policy), model, m, seed())
                        : Adapters.loadScalar(rewardModel, m, seed())) {
            CausalLm reference = effectiveBeta() > 0 && ownRef == null ? Adapters.sharedReference(policy) : ownRef;
            Map<String, RewardFn> extra = new LinkedHashMap<>();
            if (rm != null) {
                extra.put("reward_model", RewardFns.rewardModel(rm, tok.eosTokenId(), microBatchSize()));
            }
            String spec0 = rewardFn != null ? rewardFn : rm != null ? "reward_model" : "length";
            CompositeReward reward = RewardFns.parse(spec0, tok.eosTokenId(), extra);
            TldrTask task = train.newTask(tok, model);
            List<Encoded.PromptOnly> prompts = train.data().prompts(task, "train").requireRows();
            List<Encoded.PromptOnly> evalPrompts = train.evalData().prompts(task, "valid").rows();
            Outcome o = run(new Context(policy, reference, reward, tok, prompts, evalPrompts, run));
            Plots.plotAll(run.metrics(), run.plots(), stage());
            stageResult = new StageResult.Online(stage(), run.model().toString(), o.updates(), spec0, prompts.size(),
                    evalPrompts.size(), o.rewardBefore(), o.rewardAfter(), o.lengthBefore(), o.lengthAfter());
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
            err.flush();
        }
        return 0;
    }

    /** The micro-batch size: {@code --micro-batch-size}, else the preset's when it divides the batch, else the batch. */
    int microBatch(int completions, int preset) {
        return train.microBatchSize != null ? train.microBatchSize : completions % preset == 0 ? preset : completions;
    }
}
