package org.rlhf4j.examples.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** Options shared by commands that load a model: {@code --model DIR}, {@code --adapter DIR} and {@code --device}. */
public final class ModelOptions {

    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description = "Hugging Face format directory: config.json + model.safetensors [+ tokenizer.json; without it"
                    + " the bundled GPT-2 tokenizer is used].")
    Path model;

    @Option(
            names = "--adapter",
            paramLabel = "DIR",
            description = "A LoRA adapter (PEFT adapter_config.json + adapter_model.safetensors, e.g. the model/ of a "
                    + "--lora-r run) applied over --model. A --model that is itself an adapter directory loads its "
                    + "base_model_name_or_path with the adapter on top.")
    Path adapter;

    @Option(
            names = "--device",
            defaultValue = "auto",
            description = "cpu, gpu, gpu:N or auto (GPU when the CUDA engine is present). Default: ${DEFAULT-VALUE}.")
    String device;

    /**
     * Returns the chosen device.
     *
     * @return the device
     */
    public Device device() {
        return DeviceOption.parse(device);
    }

    /**
     * Opens a base manager on the chosen device.
     *
     * @return the manager
     */
    public NDManager newManager() {
        return NDManager.newBaseManager(device());
    }

    /**
     * Loads {@code --model} with {@code --adapter} on top when given ({@link #load(Path, Path, NDManager)}).
     *
     * @param parent the parent manager
     * @return the model
     * @throws IOException when a directory is missing or malformed
     */
    public CausalLm load(NDManager parent) throws IOException {
        return load(model, adapter, parent);
    }

    /**
     * Loads a model directory (which may itself be an adapter directory, or a chain of them: {@link Adapters#load})
     * and, when {@code adapter} is given, applies that PEFT LoRA adapter over it ({@link LoraModel#load}, over the
     * merged model when {@code model} is an adapter, the loaded model owned by the result).
     *
     * @param model the model directory
     * @param adapter the adapter directory, or null
     * @param parent the parent manager
     * @return the model
     * @throws IOException when a directory is missing or malformed
     */
    static CausalLm load(Path model, Path adapter, NDManager parent) throws IOException {
        if (adapter != null && !LoraModel.isAdapterDir(adapter)) {
            throw new IllegalArgumentException("--adapter " + adapter + ": not a LoRA adapter directory (no "
                    + "adapter_config.json + adapter_model.safetensors)");
        }
        if (adapter == null) {
            return Adapters.load(model, parent);
        }
        CausalLm base = Adapters.loadMerged(model, parent);
        try {
            return LoraModel.load(adapter, base, true);
        } catch (IOException | RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /**
     * Loads the model directory's tokenizer.
     *
     * @return the tokenizer
     * @throws IOException when tokenizer.json is malformed
     */
    public Tokenizer tokenizer() throws IOException {
        return Checkpoint.tokenizerFor(model);
    }

    /** Parsing of device names. */
    static final class DeviceOption {
        private DeviceOption() {}

        static Device parse(String s) {
            if (s == null || s.equals("auto")) {
                return Engine.getInstance().defaultDevice();
            }
            if (s.equals("cpu")) {
                return Device.cpu();
            }
            if (s.equals("gpu")) {
                requireGpu(0, s);
                return Device.gpu();
            }
            if (s.startsWith("gpu:")) {
                int index;
                try {
                    index = Integer.parseInt(s.substring(4));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--device: bad GPU index in '" + s + "' (use gpu:0, gpu:1, ...)");
                }
                requireGpu(index, s);
                return Device.gpu(index);
            }
            throw new IllegalArgumentException("--device: unknown device '" + s + "' (valid: cpu, gpu, gpu:N, auto)");
        }

        /**
         * Fails in one line, before any work, when the PyTorch engine cannot run on the requested GPU; otherwise
         * libtorch's CPU build answers the first CUDA op with a ~50-line dispatcher listing.
         */
        private static void requireGpu(int index, String requested) {
            Engine engine = Engine.getInstance();
            if (!engine.hasCapability(StandardCapabilities.CUDA)) {
                throw new IllegalArgumentException("--device " + requested + ": this build's PyTorch engine ("
                        + engine.getEngineName() + " " + engine.getVersion() + ") has no CUDA support; rebuild with "
                        + "'RLHF4J_MVN_OPTS=-Pgpu RLHF4J_OFFLINE=false ./rlhf4j ...' so DJL downloads the CUDA libtorch "
                        + "(README, section GPU)");
            }
            int count = engine.getGpuCount();
            if (index < 0 || index >= count) {
                throw new IllegalArgumentException("--device " + requested + ": the PyTorch engine sees " + count
                        + " GPU(s)" + (count > 0 ? " (valid: gpu:0 .. gpu:" + (count - 1) + ")" : ""));
            }
        }
    }
}
