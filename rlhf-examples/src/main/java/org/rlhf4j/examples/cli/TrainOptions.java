package org.rlhf4j.examples.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.datasets.source.DataSource;
import java.util.Optional;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.rlhf4j.algorithms.common.ExistingRun;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.examples.Presets;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options shared by the training commands. */
public final class TrainOptions {

    @Option(names = "--preset", defaultValue = "tiny",
            description = "tiny (CPU, bundled sample, from-scratch model), gpt2 or pythia (the references' "
                    + "hyperparameters, full data, an HF checkpoint as --model; references = pythia), smollm2 (the "
                    + "same for an instruction-tuned Llama-family checkpoint, prompts rendered as a chat). "
                    + "Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--data", paramLabel = "bundled|full|FILE",
            description = "Training data: the bundled TL;DR sample, the full downloaded TL;DR data (rlhf4j data download "
                    + "tldr) or a JSON Lines file (any supported format, TRL's conversational ones included: "
                    + "docs/data.md)."
                    + " Default: the preset's (tiny: bundled; gpt2, pythia: full).")
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

    @Option(names = "--overwrite",
            description = "Start fresh: delete the run already in the run directory (under its owner lock).")
    boolean overwrite;

    @Option(names = "--force", hidden = true, description = "Old name of --overwrite.")
    boolean force;

    @Option(names = "--resume",
            description = "Continue the run in the run directory from its latest checkpoint although some settings "
                    + "differ; only --eval-steps, --save-steps, --save-total-limit, --logging-steps may. Without "
                    + "--resume or --overwrite a run directory is continued only when every setting is the same.")
    boolean resume;

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML or JSON file of options (keys are the long option names without dashes, e.g. "
                    + "'lr: 3e-4'); flags on the command line override it. OUT/run_config.json repeats a past run.")
    Path config;

    @Option(names = "--save-steps", paramLabel = "N",
            description = "Write OUT/checkpoint-STEP every N updates (0: only where a run stops early). Default: the preset's.")
    Integer saveSteps;

    @Option(names = "--save-total-limit", paramLabel = "N",
            description = "Keep at most N checkpoint-STEP directories, deleting the oldest (0: keep all). Default: the preset's.")
    Integer saveTotalLimit;

    @Option(names = "--eval-steps", paramLabel = "N",
            description = "Evaluate every N updates (0: only at the end). Default: the preset's.")
    Integer evalSteps;

    @Option(names = "--logging-steps", paramLabel = "N",
            description = "Write metrics every N updates (evaluations and the last update always). Default: the preset's.")
    Integer loggingSteps;

    @Option(names = "--save-dtype", paramLabel = "fp32|bf16|fp16",
            description = "Dtype of the final OUT/model weights (converted in Java with torch's rounding; "
                    + "checkpoint-STEP directories stay fp32 so resuming is exact). Default: fp32.")
    String saveDtype;

    @Option(names = "--max-shard-size", paramLabel = "SIZE",
            description = "Largest safetensors file of the final model, e.g. 500MB or 5GB (transformers' sharded "
                    + "layout with model.safetensors.index.json above it). Default: 5GB.")
    String maxShardSize;

    /**
     * Returns how the final model is written: {@code --save-dtype} and {@code --max-shard-size}, else fp32 in 5 GB
     * shards.
     *
     * @return the options
     * @throws IllegalArgumentException naming the bad value and the valid ones
     */
    public SaveOptions modelSaveOptions() {
        return SaveOptions.parse(saveDtype, maxShardSize);
    }

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** Options that say how to run, not what: left out of {@link #options()}. */
    private static final Set<String> NOT_SETTINGS = Set.of("config", "resume", "overwrite", "force", "help", "version");

    /**
     * Returns the preset's schedule with {@code --eval-steps}, {@code --save-steps}, {@code --save-total-limit} and
     * {@code --logging-steps} where given.
     *
     * @param preset the preset's schedule
     * @return the schedule
     */
    public TrainingSchedule schedule(TrainingSchedule preset) {
        return preset.toBuilder()
                .setEvalSteps(evalSteps != null ? evalSteps : preset.evalSteps())
                .setSaveSteps(saveSteps != null ? saveSteps : preset.saveSteps())
                .setSaveTotalLimit(saveTotalLimit != null ? saveTotalLimit : preset.saveTotalLimit())
                .setLoggingSteps(loggingSteps != null ? loggingSteps : preset.loggingSteps())
                .build();
    }

    /**
     * Returns what to do with a run already in the run directory.
     *
     * @return overwrite, resume or (default) continue only when the settings are the same
     */
    public ExistingRun existingRun() {
        boolean fresh = overwrite || force;
        if (fresh && resume) {
            throw new IllegalArgumentException("--resume and --overwrite exclude each other");
        }
        return fresh ? ExistingRun.OVERWRITE : resume ? ExistingRun.RESUME : ExistingRun.CONTINUE_IF_SAME;
    }

    /**
     * Returns the options given to the command (on the command line or in a {@code --config} file), by long name
     * without dashes, as a {@code --config} file takes them: saved in the run's {@code run_config.json}.
     *
     * @return name to value, in declaration order
     */
    public Map<String, Object> options() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (OptionSpec o : mixee.options()) {
            String name = o.longestName().replaceFirst("^--", "");
            Object v = o.getValue();
            if (v == null || NOT_SETTINGS.contains(name) || o.usageHelp() || o.versionHelp()
                    || (v instanceof Boolean b && !b)) {
                continue;
            }
            out.put(name, v instanceof Path || v instanceof Enum<?> ? v.toString() : v);
        }
        return out;
    }

    @Option(names = "--seed", description = "Run seed (default: the preset's).")
    Long seed;

    @Option(names = "--epochs", description = "Passes over the training data (default: the preset's).")
    Double epochs;

    @Option(names = "--lr", description = "Peak learning rate (default: the preset's).")
    Double lr;

    @Option(names = "--fp16",
            description = "fp16 mixed precision: fp32 master weights, fp16 linear layers, dynamic loss scaling "
                    + "(docs/training.md). Needs a CUDA GPU (refused on CPU, where fp16 is 10-37x slower). Not for ppo/drpo yet. "
                    + "bf16 is not available (DJL 0.36 has no bfloat16).")
    boolean fp16;

    /**
     * Returns the preset's optimizer with {@code --lr} and {@code --fp16} where given.
     *
     * @param preset the preset's optimizer settings
     * @return the settings
     */
    public org.rlhf4j.algorithms.common.OptimizerConfig optimizer(org.rlhf4j.algorithms.common.OptimizerConfig preset) {
        org.rlhf4j.algorithms.common.OptimizerConfig o = lr != null ? preset.withLearningRate(lr) : preset;
        if (fp16 && ai.djl.engine.Engine.getInstance().getGpuCount() == 0) {
            // measured (docs/training.md): libtorch 2.7 has no fast float16 GEMM on CPU, a GPT-2 train step is
            // 10-37x slower in fp16 than in fp32 there
            throw new IllegalArgumentException("--fp16 needs a CUDA GPU and none is visible: on CPU fp16 training "
                    + "is correct but 10-37x slower than fp32 (no fast float16 matmul); train in fp32 on CPU");
        }
        return fp16 ? o.toBuilder().setFp16(true).build() : o;
    }

    @Option(names = "--batch-size", description = "Samples per update (default: the preset's).")
    Integer batchSize;

    @Option(names = "--micro-batch-size", description = "Samples per forward/backward (default: the preset's).")
    Integer microBatchSize;

    @Option(names = "--max-query-tokens", description = "Query token budget; posts are truncated to fit (default: the preset's).")
    Integer maxQueryTokens;

    @Option(names = "--max-response-tokens", paramLabel = "N",
            description = "Longest response kept, for SFT, preference and reference responses alike (EOS or the chat "
                    + "template's end of turn included); longer rows are skipped and counted (default: the preset's, "
                    + "SFT 53, preference 169).")
    Integer maxResponseTokens;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--chat", negatable = true,
            description = "Render TL;DR prompts as one user message through the model's chat template (for "
                    + "instruction-tuned models); responses become the assistant's answer. Conversational --data "
                    + "files (TRL's messages / prompt / completion / chosen / rejected lists) use the template anyway. "
                    + "Default: the preset's (smollm2: on; others: off).")
    Boolean chat;

    /**
     * Returns whether TL;DR prompts are rendered as a chat: {@code --chat} / {@code --no-chat}, else the preset's.
     *
     * @return true to render prompts through the chat template
     */
    public boolean chat() {
        return chat != null ? chat : preset().chat();
    }

    /**
     * Returns the model's chat template, failing at once when {@code --chat} is given and the model has none (call it
     * before slow work; {@link #newTask} calls it too).
     *
     * @param modelDir the model directory, or null for a from-scratch model
     * @return the template, or empty
     * @throws IllegalArgumentException with {@code --chat} when the model has no chat template
     */
    public Optional<ChatRenderer> checkChat(Path modelDir) {
        Optional<ChatRenderer> template = ChatTemplates.of(modelDir);
        if (chat() && template.isEmpty()) {
            throw new IllegalArgumentException("--chat: " + ChatTemplates.missing(modelDir));
        }
        return template;
    }

    /**
     * Returns the task that turns this command's data into samples for a model: the limits ({@link #task()}), the
     * model's chat template (for conversational data files and {@code --chat}) and {@code --chat}.
     *
     * @param tokenizer the model's tokenizer
     * @param modelDir the model directory whose chat template is used, or null for a from-scratch model
     * @return the task
     * @throws IllegalArgumentException with {@code --chat} when the model has no chat template
     */
    public TldrTask newTask(Tokenizer tokenizer, Path modelDir) {
        Optional<ChatRenderer> template = checkChat(modelDir);
        return TldrTask.builder().setTokenizer(tokenizer).optConfig(task())
                .optChatRenderer(template.orElseGet(() -> ChatTemplates.missingRenderer(modelDir)))
                .optChatPrompts(chat()).build();
    }

    /**
     * Returns the preset.
     *
     * @return the preset
     */
    public Presets preset() {
        return Presets.named(preset);
    }

    /**
     * Returns the task limits (preset, with the {@code --max-query-tokens} and {@code --max-response-tokens}
     * overrides).
     *
     * @return the task config
     */
    public TaskConfig task() {
        TaskConfig.Builder t = preset().task().toBuilder();
        if (maxQueryTokens != null) {
            t.setMaxQueryTokens(maxQueryTokens);
        }
        if (maxResponseTokens != null) {
            t.setMaxSftResponseTokens(maxResponseTokens).setMaxRmResponseTokens(maxResponseTokens)
                    .setMaxCnnDmResponseTokens(maxResponseTokens);
        }
        return t.build();
    }

    /**
     * Returns the run directory ({@code --out}, else {@code runs/COMMAND}). What happens to a run already there is
     * the trainer's decision under the run's owner lock ({@link #existingRun()}).
     *
     * @param command the command name (default directory runs/NAME)
     * @return the run directory
     * @throws IOException on failure
     */
    public RunDir runDir(String command) throws IOException {
        existingRun(); // refuses --resume with --overwrite before any work
        Path dir = out != null ? out : Path.of("runs", command);
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
