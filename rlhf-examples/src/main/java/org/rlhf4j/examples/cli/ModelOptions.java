package org.rlhf4j.examples.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** Options shared by commands that load a model: {@code --model DIR} and {@code --device}. */
public final class ModelOptions {

    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description = "Hugging Face format directory: config.json + model.safetensors [+ tokenizer.json; without it"
                    + " the bundled GPT-2 tokenizer is used].")
    Path model;

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
                return Device.gpu();
            }
            if (s.startsWith("gpu:")) {
                return Device.gpu(Integer.parseInt(s.substring(4)));
            }
            throw new IllegalArgumentException("unknown device '" + s + "' (use cpu, gpu, gpu:N or auto)");
        }
    }
}
