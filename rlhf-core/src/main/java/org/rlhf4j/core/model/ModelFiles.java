package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.io.SaveDtype;
import org.rlhf4j.core.io.SaveOptions;

/**
 * The files of a Hugging Face model directory that every architecture shares, written in one place: the weights
 * ({@link ModelTensors#write}: one file or shards, fp32, bf16 or fp16), {@code config.json} with the dtype written,
 * and {@code generation_config.json} when the model has one. {@link CausalLm#save(Path, SaveOptions)} and
 * {@link ScalarModel#save(Path, SaveOptions)} use it; a new architecture only needs its {@link ModelConfig} and
 * {@link Weights} (named as in the HF state dict).
 */
public final class ModelFiles {

    /** The model configuration file. */
    public static final String CONFIG_FILE = "config.json";

    private ModelFiles() {}

    /**
     * Writes a model directory: the weights first (nothing is written when a weight cannot be, e.g. NaN or a value
     * that overflows fp16), then {@code config.json}, then {@code generation_config.json} when one is given.
     *
     * @param dir the directory (must exist)
     * @param config the configuration
     * @param weights the weights, named and ordered as the HF state dict
     * @param options dtype and shard limit
     * @param generation the model's {@code generation_config.json}, or null for none
     * @return the files written
     * @throws org.rlhf4j.core.io.NonFiniteTensorException when a weight holds NaN or infinity or overflows the dtype
     * @throws IOException on write failure
     */
    public static List<Path> save(Path dir, ModelConfig config, Weights weights, SaveOptions options,
            HfGenerationConfig generation) throws IOException {
        List<Path> written = new ArrayList<>(ModelTensors.write(dir, weights.asMap(), options));
        Path cfg = dir.resolve(CONFIG_FILE);
        writeConfig(cfg, config, options.dtype());
        written.add(cfg);
        if (generation != null) {
            Path gen = dir.resolve(HfGenerationConfig.FILE);
            generation.write(gen);
            written.add(gen);
        }
        return List.copyOf(written);
    }

    /**
     * Returns {@code config.json} as written for weights of a dtype: the configuration's own JSON with
     * {@code "dtype"} set to torch's name of the type ({@code float32}, {@code bfloat16}, {@code float16}), as
     * transformers 5 writes it ({@code save_pretrained}: {@code config.dtype = str(dtype).split(".")[1]}), and
     * {@code "torch_dtype"} set to the same value: the name transformers 4 writes and reads (transformers 5 still
     * accepts it, {@code PreTrainedConfig.__init__}, and prefers {@code dtype}). Reading drops both
     * ({@code ConfigFields.WEIGHT_DTYPE_FIELDS}): they describe a file, not the model.
     *
     * @param config the configuration
     * @param dtype the dtype of the weights written
     * @return the object
     */
    public static ObjectNode configJson(ModelConfig config, SaveDtype dtype) {
        ObjectNode o = config.toJson();
        o.put("dtype", dtype.torchName());
        o.put("torch_dtype", dtype.torchName());
        return o;
    }

    /**
     * Writes {@code config.json} ({@link #configJson}).
     *
     * @param file the target
     * @param config the configuration
     * @param dtype the dtype of the weights written
     * @throws IOException on write failure
     */
    public static void writeConfig(Path file, ModelConfig config, SaveDtype dtype) throws IOException {
        Json.write(file, configJson(config, dtype));
    }

    /**
     * Reads {@code generation_config.json} of a model directory when it has one.
     *
     * @param dir the directory
     * @return the config, or empty
     * @throws ModelFormatException when the file exists but is malformed (names the file and field)
     */
    public static Optional<HfGenerationConfig> readGenerationConfig(Path dir) throws ModelFormatException {
        return HfGenerationConfig.readIfPresent(dir);
    }
}
