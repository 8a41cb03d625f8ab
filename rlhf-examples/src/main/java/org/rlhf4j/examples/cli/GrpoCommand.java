package org.rlhf4j.examples.cli;

import org.rlhf4j.algorithms.common.GroupRollouts;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoLossType;
import org.rlhf4j.algorithms.grpo.GrpoTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf4j grpo}: GRPO from a policy checkpoint against reward functions (and optionally a reward model). */
@Command(name = "grpo", mixinStandardHelpOptions = true,
        description = "GRPO (TRL semantics): G completions per prompt, group-relative advantages, no critic. Writes "
                + "OUT/model, checkpoint-STEP/, metrics.jsonl, eval.jsonl, plots/.")
public final class GrpoCommand extends CriticFreeCommand {

    @Option(names = "--loss-type", description = "grpo, bnpo, dr_grpo or dapo (default: dapo).")
    String lossType;

    private GrpoConfig config;

    @Override
    String stage() {
        return "grpo";
    }

    /** The preset's GRPO settings with the command-line overrides ({@code --batch-size} = prompts per update). */
    GrpoConfig config() {
        GrpoConfig base = train.preset().grpo();
        GrpoConfig.Builder b = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.optimizer(base.optimizer()))
                .setEpochs(train.epochs != null ? train.epochs : base.epochs())
                .setPromptsPerStep(train.batchSize != null ? train.batchSize : base.promptsPerStep())
                .setNumGenerations(numGenerations != null ? numGenerations : base.numGenerations())
                .setNumIterations(numIterations != null ? numIterations : base.numIterations())
                .setBeta(beta != null ? beta : base.beta())
                .setLossType(lossType != null ? GrpoLossType.parse(lossType) : base.lossType())
                .setMaxCompletionLength(maxCompletionLength != null ? maxCompletionLength : base.maxCompletionLength())
                .setTemperature(temperature != null ? temperature : base.temperature());
        int completions = (train.batchSize != null ? train.batchSize : base.promptsPerStep())
                * (numGenerations != null ? numGenerations : base.numGenerations());
        return b.setMicroBatchSize(microBatch(completions, base.microBatchSize())).build();
    }

    @Override
    void checkConfig() {
        config = config();
    }

    @Override
    long seed() {
        return config.seed();
    }

    @Override
    double effectiveBeta() {
        return config.beta();
    }

    @Override
    int microBatchSize() {
        return config.microBatchSize();
    }

    @Override
    Outcome run(Context c) throws Exception {
        GrpoTrainer trainer = common(GrpoTrainer.builder(), c).setConfig(config).setPolicy(c.policy())
                .optReference(c.reference()).setReward(c.reward()).setPrompts(c.prompts())
                .optEvalPrompts(c.evalPrompts()).build();
        GroupRollouts.Evaluation before = trainer.evaluate(c.evalPrompts(), 0);
        GrpoTrainer.Result r = trainer.train();
        GroupRollouts.Evaluation after = trainer.evaluate(c.evalPrompts(), r.steps());
        return new Outcome(r.steps(), before.reward(), after.reward(), before.meanLength(), after.meanLength());
    }
}
