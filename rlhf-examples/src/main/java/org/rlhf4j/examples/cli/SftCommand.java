package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.algorithms.sft.SftTrainer;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.source.TldrVocabulary;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.rlhf4j.examples.Plots;
import org.rlhf4j.examples.Presets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j sft}: supervised fine-tuning on TL;DR (or a user's SFT data). */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = "Supervised fine-tuning. Writes OUT/model (the next stage's --model; with --lora-r a PEFT adapter), "
                + "metrics.jsonl, samples.jsonl, plots/.")
public final class SftCommand implements Callable<Integer>, StageCommand {

    @Spec CommandSpec spec;

    @Mixin TrainOptions train;

    @Mixin LoraOptions lora;

    @Option(names = "--model", paramLabel = "DIR",
            description = "HF model directory to start from (default with --preset tiny: a from-scratch GPT-2).")
    Path model;

    @Option(names = "--scaffold", description = "Train on \"Facts: - ... Summary: ...\" targets (facts: the post's "
            + "sentences closest to the reference; docs/grounding.md); response limit 256 unless --max-response-tokens.")
    boolean scaffold;

    private StageResult.Sft stageResult;

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
        SftConfig base = p.sft();
        SftConfig cfg = base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.optimizer(base.optimizer()))
                .setBatchSize(train.batchSize != null ? train.batchSize : base.batchSize())
                .setMicroBatchSize(train.microBatchSize != null ? train.microBatchSize
                        : Math.min(base.microBatchSize(), train.batchSize != null ? train.batchSize : base.batchSize()))
                .setEpochs(train.epochs != null ? train.epochs : base.epochs())
                .build();
        PrintWriter err = spec.commandLine().getErr();
        LoraConfig loraCfg = lora.config(model);
        RunDir run = train.runDir("sft");
        p.checkModel(model);
        train.checkChat(model);
        if (scaffold) {
            ScaffoldData.widenResponses(train);
        }
        try (Tokenizer tok = model != null ? Checkpoint.tokenizerFor(model) : scratchTokenizer(p);
                NDManager m = NDManager.newBaseManager(train.device());
                CausalLm policy = Adapters.withAdapter(model != null ? Adapters.loadMerged(model, m)
                        : fromScratch(p, m, cfg.seed(), tok), model, loraCfg, cfg.seed())) {
            TldrTask task = train.newTask(tok, model);
            List<Encoded.Sft> trainData = (scaffold ? ScaffoldData.sft(train.data(), task, "train")
                    : train.data().sft(task, "train")).requireRows();
            List<Encoded.Sft> evalData = (scaffold ? ScaffoldData.sft(train.evalData(), task, "valid")
                    : train.evalData().sft(task, "valid")).rows();
            SftTrainer trainer = SftTrainer.builder().setConfig(cfg).setPolicy(policy).setTokenizer(tok)
                    .setTrainData(trainData).optEvalData(evalData).optRunDir(run)
                    .optProgress(new ConsoleProgress(err, "train/loss"))
                    .optDataId(train.data().dataId("sft")).optExistingRun(train.existingRun()).optModelSaveOptions(train.modelSaveOptions())
                    .optCommandOptions(train.options()).optCommand("rlhf4j " + String.join(" ",
                            spec.commandLine().getParseResult().originalArgs()))
                    .optInitialModel(model)
                    .build();
            SftTrainer.Evaluation before = trainer.evaluate(0);
            SftTrainer.Result r = trainer.train();
            Plots.plotAll(run.metrics(), run.plots(), "sft");
            stageResult = StageResult.Sft.of(run.model().toString(), r, before, trainData.size(), evalData.size());
            result = stageResult.toMap();
            spec.commandLine().getOut().println(Json.compact(result));
        }
        return 0;
    }

    static Gpt2 fromScratch(Presets p, NDManager m, long seed) {
        if (p.scratchModel() == null) {
            throw new IllegalArgumentException(p.needsModel("the model to fine-tune"));
        }
        return Gpt2.random(p.scratchModel(), m, seed);
    }

    /** A from-scratch model sized to the tokenizer's vocabulary (compact for the tiny preset). */
    private static Gpt2 fromScratch(Presets p, NDManager m, long seed, Tokenizer tok) {
        if (p.scratchModel() == null) {
            throw new IllegalArgumentException(p.needsModel("the model to fine-tune"));
        }
        return Gpt2.random(p.scratchModel(tok.vocabSize(), tok.eosTokenId()), m, seed);
    }

    /** The tiny preset's compact vocabulary over the bundled GPT-2 tokenizer. */
    private Tokenizer scratchTokenizer(Presets p) throws java.io.IOException {
        if (p.scratchModel() == null) {
            throw new IllegalArgumentException(p.needsModel("the model to fine-tune"));
        }
        return TldrVocabulary.compact(Gpt2Tokenizers.bundled(), train.task(), train.data());
    }
}
