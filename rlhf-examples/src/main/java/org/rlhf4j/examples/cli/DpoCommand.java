package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.Plots;
import org.rlhf4j.examples.Presets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j dpo}: Direct Preference Optimization on comparisons, from the SFT checkpoint. */
@Command(name = "dpo", mixinStandardHelpOptions = true,
        description = "DPO (and cDPO, IPO, hinge, robust) on comparisons against the frozen SFT model. Writes OUT/model, "
                + "metrics.jsonl, eval.jsonl, plots/.")
public final class DpoCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin LoraOptions lora;

    @Option(names = "--model", paramLabel = "DIR",
            description = "The SFT checkpoint (e.g. runs/sft/model): initial policy and, unless --reference is given, the "
                    + "frozen reference. Without it (--preset tiny only): a from-scratch GPT-2.")
    Path model;

    @Option(names = "--reference", paramLabel = "DIR", description = "Reference policy directory (default: --model; "
            + "with --lora-r the policy's frozen base, no second copy).")
    Path reference;

    @Option(names = "--beta", description = "β, the implicit-reward scale / KL strength (default: the preset's, 0.1).")
    Double beta;

    @Option(names = "--loss", paramLabel = "sigmoid|ipo|hinge|robust",
            description = "Loss variant (default: the preset's, sigmoid).")
    String loss;

    @Option(names = "--label-smoothing", description = "ε of cDPO (sigmoid) and robust DPO, in [0, 0.5) (default 0).")
    Double labelSmoothing;

    @Option(names = "--no-precompute-ref", description = "Run the reference on every micro-batch instead of caching "
            + "its log-probs once before training.")
    boolean noPrecompute;

    @Option(names = "--scaffold", description = "Train on \"Facts: - ... Summary: ...\" responses, the same facts in "
            + "both (docs/grounding.md); response limit 256 unless --max-response-tokens.")
    boolean scaffold;
    /**
     * Warns that {@code --lora-dropout} has no effect in a trainer that runs without dropout (the preference and
     * online trainers: their log-prob ratios need the same function at every forward, as TRL's
     * {@code disable_dropout=True}).
     *
     * @param lora the adapter settings, or null
     * @param err where to warn
     * @param command the command
     */
    static void warnDropout(LoraConfig lora, PrintWriter err, String command) {
        if (lora != null && lora.dropout() > 0) {
            err.println(command + ": --lora-dropout " + lora.dropout() + " is recorded but not applied: " + command
                    + " trains without dropout (TRL's disable_dropout); LoRA dropout applies to sft and reward");
        }
    }

    static DpoLossType lossType(String name) {
        for (DpoLossType t : DpoLossType.values()) {
            if (t.name().equals(name.toUpperCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown --loss '" + name + "' (sigmoid, ipo, hinge, robust)");
    }

    private StageResult.Dpo stageResult;

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
        DpoConfig base = p.dpo();
        int batch = train.batchSize != null ? train.batchSize : base.batchSize();
        DpoLossType type = loss != null ? lossType(loss) : base.lossType();
        DpoConfig cfg = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.optimizer(base.optimizer()))
                .setBeta(beta != null ? beta : base.beta())
                .setLossType(type)
                .setLabelSmoothing(labelSmoothing != null ? labelSmoothing : base.labelSmoothing())
                .setBatchSize(batch)
                .setMicroBatchSize(
                        train.microBatchSize != null ? train.microBatchSize : Math.min(base.microBatchSize(), batch))
                .setEpochs(train.epochs != null ? train.epochs : base.epochs())
                .setPrecomputeReferenceLogprobs(!noPrecompute && base.precomputeReferenceLogprobs())
                .build();
        Path init = model;
        PrintWriter err = spec.commandLine().getErr();
        LoraConfig loraCfg = lora.config(init);
        warnDropout(loraCfg, err, "dpo");
        if (init == null) {
            if (p.scratchModel() == null) {
                throw new IllegalArgumentException(p.needsModel("the SFT checkpoint"));
            }
            err.println("dpo: no --model: starting from an untrained GPT-2 (give --model with the SFT checkpoint, e.g. "
                    + "runs/sft/model after `rlhf4j sft`)");
        }
        p.checkModel(init);
        train.checkChat(init);
        if (scaffold) {
            ScaffoldData.widenResponses(train);
        }
        RunDir run = train.runDir("dpo");
        try (Tokenizer tok = init != null ? Checkpoint.tokenizerFor(init) : Gpt2Tokenizers.bundled();
                NDManager m = NDManager.newBaseManager(train.device());
                CausalLm policy = Adapters.withAdapter(init != null ? Adapters.loadMerged(init, m)
                        : SftCommand.fromScratch(p, m, cfg.seed()), init, loraCfg, cfg.seed());
                // the reference: --reference, else a LoRA policy's frozen base (shared, closed with the policy), else
                // a copy made before any update
                CausalLm ownRef = reference != null ? Adapters.loadMerged(reference, m)
                        : Adapters.sharedReference(policy) == null ? policy.copy(m) : null) {
            CausalLm ref = ownRef != null ? ownRef : Adapters.sharedReference(policy);
            TldrTask task = train.newTask(tok, init);
            List<Encoded.Pair> trainPairs = (scaffold ? ScaffoldData.pairs(train.data(), task, "train")
                    : train.data().pairs(task, "train")).requireRows();
            List<Encoded.Pair> evalPairs = (scaffold ? ScaffoldData.pairs(train.evalData(), task, "valid1")
                    : train.evalData().pairs(task, "valid1")).rows();
            DpoTrainer trainer = DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref)
                    .setTokenizer(tok).setTrainData(trainPairs).optEvalData(evalPairs).optRunDir(run)
                    .optProgress(new ConsoleProgress(err, "loss"))
                    .optDataId(train.data().dataId("comparisons"))
                    .optExistingRun(train.existingRun()).optModelSaveOptions(train.modelSaveOptions()).optCommandOptions(train.options())
                    .optCommand("rlhf4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(init)
                    .build();
            DpoTrainer.Evaluation before = trainer.evaluate(0);
            DpoTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "dpo");
            stageResult = StageResult.Dpo.of(run.model().toString(), r, before, trainPairs.size(), evalPairs.size());
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }
}
