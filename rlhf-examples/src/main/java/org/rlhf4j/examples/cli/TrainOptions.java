package org.rlhf4j.examples.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.examples.Presets;
import picocli.CommandLine.Option;

/** Options shared by the training commands. */
public final class TrainOptions {

    @Option(names = "--preset", defaultValue = "tiny",
            description = "tiny (CPU, bundled sample, from-scratch model), gpt2 or pythia (the references' "
                    + "hyperparameters, full data, an HF checkpoint as --model; references = pythia). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--data", paramLabel = "bundled|full|FILE",
            description = "Training data: the bundled TL;DR sample, the full downloaded TL;DR data (rlhf4j data download "
                    + "tldr) or a JSON Lines file (any supported format). Default: the preset's (tiny: bundled; gpt2, pythia: full).")
    String data;

    @Option(names = "--eval-data", paramLabel = "bundled|full|FILE",
            description = "Held-out data (default: the validation split of --data when it is bundled or full, else bundled).")
    String evalData;

    /**
     * Returns the training data source: {@code --data}, else the preset's.
     *
     * @return the bundled samples, the full downloaded data or a file
     */
    public DataSource data() {
        return DataSource.parse(data != null ? data : preset().data());
    }

    /**
     * Returns the held-out data source: {@code --eval-data}, else the validation split of {@link #data()} when that
     * is bundled or full, else the bundled one.
     *
     * @return the bundled samples, the full downloaded data or a file
     */
    public DataSource evalData() {
        return evalData != null ? DataSource.parse(evalData) : data().builtIn();
    }

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default: runs/<command>). Its model/ is the checkpoint.")
    Path out;

    @Option(names = "--force", description = "Start over, deleting an existing run directory instead of resuming it.")
    boolean force;

    @Option(names = "--seed", description = "Run seed (default: the preset's).")
    Long seed;

    @Option(names = "--epochs", description = "Passes over the training data (default: the preset's).")
    Double epochs;

    @Option(names = "--lr", description = "Peak learning rate (default: the preset's).")
    Double lr;

    @Option(names = "--batch-size", description = "Samples per update (default: the preset's).")
    Integer batchSize;

    @Option(names = "--micro-batch-size", description = "Samples per forward/backward (default: the preset's).")
    Integer microBatchSize;

    @Option(names = "--max-query-tokens", description = "Query token budget; posts are truncated to fit (default: the preset's).")
    Integer maxQueryTokens;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto. Default: ${DEFAULT-VALUE}.")
    String device;

    /**
     * Returns the preset.
     *
     * @return the preset
     */
    public Presets preset() {
        return Presets.named(preset);
    }

    /**
     * Returns the task limits (preset, with the query budget override).
     *
     * @return the task config
     */
    public TaskConfig task() {
        TaskConfig t = preset().task();
        return maxQueryTokens == null ? t : t.toBuilder().setMaxQueryTokens(maxQueryTokens).build();
    }

    /**
     * Returns the run directory, deleted first with {@code --force} (refused while another process owns the run).
     *
     * @param command the command name (default directory runs/NAME)
     * @return the run directory
     * @throws IOException on failure
     */
    public RunDir runDir(String command) throws IOException {
        Path dir = out != null ? out : Path.of("runs", command);
        if (force) {
            new RunDir(dir).delete();
        }
        return new RunDir(dir).create();
    }

    /**
     * Returns the device.
     *
     * @return the device
     */
    public ai.djl.Device device() {
        return ModelOptions.DeviceOption.parse(device);
    }
}
