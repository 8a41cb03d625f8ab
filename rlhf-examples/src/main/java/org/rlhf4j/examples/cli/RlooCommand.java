package org.rlhf4j.examples.cli;

import org.rlhf4j.algorithms.common.GroupRollouts;
import org.rlhf4j.algorithms.rloo.RlooConfig;
import org.rlhf4j.algorithms.rloo.RlooTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf4j rloo}: RLOO from a policy checkpoint against reward functions (and optionally a reward model). */
@Command(name = "rloo", mixinStandardHelpOptions = true,
        description = "RLOO (TRL semantics): k completions per prompt, leave-one-out baseline, KL in the reward, no "
                + "critic. Writes OUT/model, checkpoint-STEP/, metrics.jsonl, eval.jsonl, plots/.")
public final class RlooCommand extends CriticFreeCommand {

    @Option(names = "--normalize-advantages", description = "Whiten the advantages over the batch (TRL default off).")
    boolean normalizeAdvantages;

    private RlooConfig config;

    @Override
    String stage() {
        return "rloo";
    }

    /** The preset's RLOO settings with the command-line overrides ({@code --batch-size} = prompts per update). */
    RlooConfig config() {
        RlooConfig base = train.preset().rloo();
        RlooConfig.Builder b = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.optimizer(base.optimizer()))
                .setEpochs(train.epochs != null ? train.epochs : base.epochs())
                .setPromptsPerStep(train.batchSize != null ? train.batchSize : base.promptsPerStep())
                .setNumGenerations(numGenerations != null ? numGenerations : base.numGenerations())
                .setNumIterations(numIterations != null ? numIterations : base.numIterations())
                .setBeta(beta != null ? beta : base.beta())
                .setNormalizeAdvantages(normalizeAdvantages || base.normalizeAdvantages())
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
        RlooTrainer.Builder b = common(RlooTrainer.builder(), c).setConfig(config).setPolicy(c.policy())
                .setReward(c.reward()).setPrompts(c.prompts()).optEvalPrompts(c.evalPrompts());
        if (c.reference() != null) {
            b.setReference(c.reference());
        }
        RlooTrainer trainer = b.build();
        GroupRollouts.Evaluation before = trainer.evaluate(c.evalPrompts(), 0);
        RlooTrainer.Result r = trainer.train();
        GroupRollouts.Evaluation after = trainer.evaluate(c.evalPrompts(), r.steps());
        return new Outcome(r.steps(), before.reward(), after.reward(), before.meanLength(), after.meanLength());
    }
}
