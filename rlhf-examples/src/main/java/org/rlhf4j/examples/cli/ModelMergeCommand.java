package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.core.checkpoint.AtomicDirectory;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j model merge --model BASE --adapter DIR --out OUT}: folds a PEFT LoRA adapter into its base model,
 * W' = W + s·B·A for every adapted layer ({@link LoraModel#merge}, PEFT's {@code merge_and_unload}), and writes the
 * merged model as an ordinary Hugging Face directory (an adapter trained over another adapter's merged model,
 * e.g. DPO after LoRA SFT, merges the whole chain) (weights, config, generation config, tokenizer) that any
 * command, and transformers, loads without PEFT. The tokenizer is the adapter directory's when it has one (trainers
 * save it there), else the base's. {@code OUT} is written as a whole or not at all.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a LoRA adapter (PEFT adapter_config.json + adapter_model.safetensors) into its base model "
                + "and write full weights + tokenizer: W' = W + (alpha/r)·B·A.")
public final class ModelMergeCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "BASE",
            description = "The base model directory (default: the adapter's base_model_name_or_path).")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR",
            description = "The adapter directory (e.g. runs/sft/model of a --lora-r run).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "Output model directory.")
    Path out;

    @Option(names = "--overwrite", description = "Replace an existing non-empty output directory.")
    boolean overwrite;

    @Option(names = "--save-dtype", paramLabel = "fp32|bf16|fp16", description = "Dtype of the merged weights. Default: fp32.")
    String saveDtype;

    @Option(names = "--max-shard-size", paramLabel = "SIZE", description = "Largest safetensors file, e.g. 5GB. Default: 5GB.")
    String maxShardSize;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto. Default: ${DEFAULT-VALUE}.")
    String device;

    /** Creates the command (picocli instantiates it). */
    public ModelMergeCommand() {}

    @Override
    public Integer call() throws Exception {
        SaveOptions options = SaveOptions.parse(saveDtype, maxShardSize);
        if (!LoraModel.isAdapterDir(adapter)) {
            throw new IllegalArgumentException("--adapter " + adapter + ": not a LoRA adapter directory (no "
                    + "adapter_config.json + adapter_model.safetensors)");
        }
        if (Files.isDirectory(out) && !overwrite) {
            try (var s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + " exists and is not empty; pass --overwrite "
                            + "to replace it");
                }
            }
        }
        Map<String, Object> res = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager(ModelOptions.DeviceOption.parse(device));
                Tokenizer tok = Checkpoint.tokenizerFor(Files.exists(adapter.resolve("tokenizer.json"))
                        || model == null ? adapter : model);
                LoraModel lora = model != null ? (LoraModel) ModelOptions.load(model, adapter, m)
                        : (LoraModel) Adapters.load(adapter, m);
                CausalLm merged = lora.merge(m)) {
            AtomicDirectory.write(out, tmp -> {
                merged.save(tmp, options);
                tok.save(tmp);
            });
            res.put("out", out.toString());
            res.put("model_type", merged.config().getClass().getSimpleName());
            res.put("parameters", merged.weights().count());
            res.put("adapter_parameters", lora.weights().count());
            res.put("r", lora.loraConfig().r());
            res.put("lora_alpha", lora.loraConfig().alpha());
            res.put("dtype", options.dtype().toString());
        }
        spec.commandLine().getOut().println(Json.compact(res));
        return 0;
    }
}
