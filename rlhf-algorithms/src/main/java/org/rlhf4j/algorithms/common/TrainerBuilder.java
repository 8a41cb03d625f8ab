package org.rlhf4j.algorithms.common;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.MetricsSink;

/**
 * The settings every trainer builder shares: the tokenizer (required) and the optional run directory, metrics,
 * progress, provenance strings and early stop. Trainer builders extend it ({@code B} is the concrete builder, so
 * chained calls keep their type) and check their required values with {@link #required(String, Object)}.
 *
 * @param <B> the concrete builder type
 */
public abstract class TrainerBuilder<B extends TrainerBuilder<B>> {

    /** The tokenizer (required). */
    protected Tokenizer tokenizer;
    /** Run directory (checkpoints, metrics; resume), or null. */
    protected RunDir runDir;
    /** Additional metrics sink, or null. */
    protected MetricsSink metrics;
    /** Progress listener, or null. */
    protected ProgressListener progress;
    /** Data identifier for provenance, or null. */
    protected String dataId;
    /** Command line for provenance, or null. */
    protected String command;
    /** Directory the trained model was loaded from, recorded as provenance lineage, or null. */
    protected Path initialModel;
    /** Stop after this many updates (0 = run to the end). */
    protected long stopAfter;
    /** The command-line options of the run, or null. */
    protected Map<String, Object> commandOptions;
    /** What to do with a run already in the run directory. */
    protected ExistingRun existingRun = ExistingRun.CONTINUE_IF_SAME;
    /** How the final model's weights are written (dtype, shard size); checkpoints are always fp32. */
    protected SaveOptions modelSaveOptions = SaveOptions.DEFAULTS;

    /** Creates a builder. */
    protected TrainerBuilder() {}

    /**
     * Returns this builder as its concrete type.
     *
     * @return this
     */
    protected abstract B self();

    /**
     * Sets the tokenizer (its EOS id ends and pads sequences; it decodes samples and is saved with checkpoints).
     *
     * @param t the tokenizer
     * @return this
     */
    public B setTokenizer(Tokenizer t) {
        this.tokenizer = t;
        return self();
    }

    /**
     * Sets the run directory (checkpoints, metrics, samples; a directory with a checkpoint is resumed).
     *
     * @param dir the run directory
     * @return this
     */
    public B optRunDir(RunDir dir) {
        this.runDir = dir;
        return self();
    }

    /**
     * Sets an additional metrics sink (the run directory's {@code metrics.jsonl} is always written).
     *
     * @param sink the sink
     * @return this
     */
    public B optMetrics(MetricsSink sink) {
        this.metrics = sink;
        return self();
    }

    /**
     * Sets a progress listener.
     *
     * @param p the listener
     * @return this
     */
    public B optProgress(ProgressListener p) {
        this.progress = p;
        return self();
    }

    /**
     * Sets the data identifier recorded in provenance.
     *
     * @param id the identifier
     * @return this
     */
    public B optDataId(String id) {
        this.dataId = id;
        return self();
    }

    /**
     * Sets the command line recorded in provenance.
     *
     * @param c the command
     * @return this
     */
    public B optCommand(String c) {
        this.command = c;
        return self();
    }

    /**
     * Sets the directory the model to train was loaded from. It is recorded as the lineage in the checkpoints'
     * provenance ({@code Provenance.lineageOf}: that directory's own {@code provenance.json} nested whole, or the
     * SHA-256 of its config and weight files); null records none (e.g. a model initialised from scratch).
     *
     * @param dir the initial model directory, or null
     * @return this
     */
    public B optInitialModel(Path dir) {
        this.initialModel = dir;
        return self();
    }

    /**
     * Stops after this many total updates (a checkpoint is written there), as if interrupted; 0 = run to the end.
     *
     * @param steps the stop step
     * @return this
     */
    public B optStopAfter(long steps) {
        this.stopAfter = steps;
        return self();
    }

    /**
     * Sets what to do when the run directory already holds a run (default {@link ExistingRun#CONTINUE_IF_SAME}:
     * continue it when its saved configuration equals this one, else fail naming the fields that differ).
     *
     * @param mode the policy
     * @return this
     */
    public B optExistingRun(ExistingRun mode) {
        if (mode == null) {
            throw new IllegalArgumentException("mode must not be null");
        }
        this.existingRun = mode;
        return self();
    }

    /**
     * Sets the command-line options that produced this run (name to value, as a {@code --config} file takes them):
     * saved in {@code run_config.json} so the run can be repeated; not compared on re-runs.
     *
     * @param options the options, or null
     * @return this
     */
    public B optCommandOptions(Map<String, ?> options) {
        this.commandOptions = options == null ? null : new java.util.LinkedHashMap<>(options);
        return self();
    }

    /**
     * Sets how the final model's weights are written: dtype ({@code bf16}/{@code fp16} halve the files, converted in
     * Java with torch's rounding) and maximum shard size. {@code checkpoint-STEP/} directories stay fp32 in one file,
     * so resuming is exact. Default {@link SaveOptions#DEFAULTS} (fp32, 5 GB shards).
     *
     * @param options the options
     * @return this
     */
    public B optModelSaveOptions(SaveOptions options) {
        this.modelSaveOptions = java.util.Objects.requireNonNull(options, "options");
        return self();
    }

    /**
     * Returns how the final model's weights are written.
     *
     * @return the options
     */
    public SaveOptions modelSaveOptions() {
        return modelSaveOptions;
    }

    /**
     * Returns the tokenizer, or null when not set.
     *
     * @return the tokenizer
     */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Returns the command-line options, or null.
     *
     * @return name to value
     */
    public Map<String, Object> commandOptions() {
        return commandOptions;
    }

    /**
     * Returns what to do with an existing run.
     *
     * @return the policy
     */
    public ExistingRun existingRun() {
        return existingRun;
    }

    /**
     * Returns the initial model directory, or null.
     *
     * @return the directory
     */
    public Path initialModel() {
        return initialModel;
    }

    /**
     * Checks the shared settings.
     *
     * @throws IllegalArgumentException when {@code stopAfter} is negative
     */
    protected void checkCommon() {
        if (stopAfter < 0) {
            throw new IllegalArgumentException("stopAfter must be >= 0, got " + stopAfter);
        }
    }

    /**
     * Copies the settings this class holds (tokenizer, run directory, metrics, progress, provenance, early stop,
     * existing-run mode) to another builder: for a trainer whose builder configures the trainer it runs.
     *
     * @param other the builder to configure
     * @param <T> its type
     * @return {@code other}
     */
    protected final <T extends TrainerBuilder<T>> T copySettingsTo(T other) {
        other.tokenizer = tokenizer;
        other.runDir = runDir;
        other.metrics = metrics;
        other.progress = progress;
        other.dataId = dataId;
        other.command = command;
        other.initialModel = initialModel;
        other.stopAfter = stopAfter;
        other.commandOptions = commandOptions;
        other.existingRun = existingRun;
        other.modelSaveOptions = modelSaveOptions;
        return other;
    }

    /**
     * Starts the check of a builder's required values, e.g.
     * {@code required("config", config).and("tokenizer", tokenizer).check()}.
     *
     * @param name the value's name in the error message
     * @param value the value, null when not set
     * @return the check, to add the other required values to
     */
    protected static Required required(String name, Object value) {
        return new Required().and(name, value);
    }

    /** The required values of a builder, checked together so that one message names every missing one. */
    protected static final class Required {
        private final List<String> names = new ArrayList<>();
        private final List<String> missing = new ArrayList<>();

        private Required() {}

        /**
         * Adds a required value.
         *
         * @param name the value's name in the error message
         * @param value the value, null when not set
         * @return this
         */
        public Required and(String name, Object value) {
            names.add(name);
            if (value == null) {
                missing.add(name);
            }
            return this;
        }

        /**
         * Checks that every value is set.
         *
         * @throws IllegalArgumentException when one is not, e.g. {@code config, policy, tokenizer and train data are
         *     required; missing: policy, tokenizer}
         */
        public void check() {
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException(listed(names) + (names.size() == 1 ? " is" : " are")
                        + " required; missing: " + String.join(", ", missing));
            }
        }

        private static String listed(List<String> names) {
            int last = names.size() - 1;
            return last == 0 ? names.get(0) : String.join(", ", names.subList(0, last)) + " and " + names.get(last);
        }
    }

    /**
     * Returns the run directory, or null.
     *
     * @return the run directory
     */
    public RunDir runDir() {
        return runDir;
    }

    /**
     * Returns the command line for provenance, or null.
     *
     * @return the command
     */
    public String command() {
        return command;
    }

    /**
     * Returns the early-stop step (0 = none).
     *
     * @return the step
     */
    public long stopAfter() {
        return stopAfter;
    }

    /**
     * Returns the metrics sink to use (a no-op when none was set).
     *
     * @return the sink
     */
    public MetricsSink metricsOrNone() {
        return metrics == null ? MetricsSink.none() : metrics;
    }

    /**
     * Returns the progress listener to use.
     *
     * @return the listener
     */
    public ProgressListener progressOrNone() {
        return progress == null ? ProgressListener.NONE : progress;
    }

    /**
     * Returns the data identifier or {@code unspecified}.
     *
     * @return the identifier
     */
    public String dataIdOrUnspecified() {
        return dataId == null ? "unspecified" : dataId;
    }
}
