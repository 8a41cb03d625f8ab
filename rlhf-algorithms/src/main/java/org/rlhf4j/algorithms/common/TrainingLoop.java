package org.rlhf4j.algorithms.common;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.rlhf4j.core.checkpoint.AtomicDirectory;
import org.rlhf4j.core.checkpoint.Provenance;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.JsonlFiles;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.train.MetricsSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop every trainer runs (in the spirit of DJL's {@code EasyTrain} with listeners and Hugging Face's
 * {@code Trainer} with callbacks): a trainer supplies one update ({@link Trainee#step}) and its evaluation
 * ({@link Trainee#evaluate}); the loop owns everything around them, in this order:
 *
 * <ol>
 *   <li>ownership: the run directory's owner lock for the whole run;
 *   <li>the existing run: compare the saved {@code run_config.json} with this run's ({@link ExistingRun}), then
 *       resume from the latest checkpoint ({@link RunDir#latestCheckpoint()}: weights, optimizer moments, trainer
 *       state; random streams derive from (seed, step), so seed and step are the whole RNG state) and cut the logs
 *       back to it ({@link JsonlFiles#truncateToStep});
 *   <li>data order: step s takes the samples of {@link DataStream#indices}(s, B), so a resumed run sees exactly what
 *       an uninterrupted one would;
 *   <li>per update: the trainer's step (forward, backward, the guarded optimizer update of
 *       {@link org.rlhf4j.core.train.Updater}), evaluation every {@code eval_steps} updates and at the end, metrics
 *       every {@code logging_steps} updates (and at evaluations and the end), progress every update;
 *   <li>checkpoints: {@code checkpoint-STEP/} every {@code save_steps} updates and where the run stops early, at most
 *       {@code save_total_limit} kept; the final model in {@code model/}; every save atomic, so a kill -9 at any
 *       moment leaves the last complete checkpoint, from which the re-run continues exactly;
 *   <li>cleanup: logs closed, lock released, also when a step fails (nothing is saved from a failed step).
 * </ol>
 */
public final class TrainingLoop {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

    /**
     * One update's inputs.
     *
     * @param step the update, 0-based (the loop's {@code done} is step + 1)
     * @param indices the update's B sample indices from the seeded data stream
     * @param epoch the (fractional) epoch reached after this update, steps·B / N
     */
    public record Step(long step, int[] indices, double epoch) {}

    /**
     * The schedule of a run.
     *
     * @param totalSteps updates in the whole run
     * @param batchSize samples per update, B
     * @param datasetSize training samples, N
     * @param loggingSteps log metrics every n updates (&ge; 1)
     * @param evalSteps evaluate every n updates (0: only at the end)
     * @param saveSteps write {@code checkpoint-STEP} every n updates (0: only where the run stops early)
     * @param saveTotalLimit keep at most n checkpoints (0: all)
     */
    public record Schedule(long totalSteps, int batchSize, int datasetSize, int loggingSteps, int evalSteps,
            int saveSteps, int saveTotalLimit) {

        /** Validates. */
        public Schedule {
            if (totalSteps < 1 || batchSize < 1 || datasetSize < 1) {
                throw new IllegalArgumentException("totalSteps, batchSize and datasetSize must be >= 1, got "
                        + totalSteps + ", " + batchSize + ", " + datasetSize);
            }
            if (loggingSteps < 1) {
                throw new IllegalArgumentException("loggingSteps must be >= 1, got " + loggingSteps);
            }
            if (evalSteps < 0 || saveSteps < 0 || saveTotalLimit < 0) {
                throw new IllegalArgumentException("evalSteps, saveSteps and saveTotalLimit must be >= 0, got "
                        + evalSteps + ", " + saveSteps + ", " + saveTotalLimit);
            }
        }

        /**
         * Returns the schedule of a run of a trainer config's {@link TrainingSchedule}.
         *
         * @param totalSteps updates in the whole run
         * @param batchSize samples per update, B
         * @param datasetSize training samples, N
         * @param s the config's evaluation, checkpoint and logging periods
         * @return the schedule
         */
        public static Schedule of(long totalSteps, int batchSize, int datasetSize, TrainingSchedule s) {
            return new Schedule(totalSteps, batchSize, datasetSize, s.loggingSteps(), s.evalSteps(), s.saveSteps(),
                    s.saveTotalLimit());
        }
    }

    /** What a trainer supplies to the loop. */
    public interface Trainee {

        /**
         * Restores the trainer from a checkpoint directory: weights and, when asked, optimizer moments and extra state.
         *
         * @param dir the checkpoint ({@code checkpoint-STEP/}, or the final {@code model/})
         * @param state its trainer state
         * @param withOptimizer false when the run is complete (the final model has no optimizer state)
         * @throws IOException when a file is missing or inconsistent
         */
        void restore(Path dir, TrainerState state, boolean withOptimizer) throws IOException;

        /**
         * Runs one update and returns its metrics in display order.
         *
         * @param step the update's inputs
         * @return metric name to value
         */
        Map<String, Double> step(Step step);

        /**
         * Evaluates after {@code done} updates (on schedule), writing side rows (evaluation results, samples) to the
         * logs, and returns metrics to add to the update's row (empty when there is nothing to evaluate).
         *
         * @param done completed updates
         * @param logs the run's side logs
         * @return metric name to value
         * @throws IOException when a log cannot be written
         */
        Map<String, Double> evaluate(long done, Logs logs) throws IOException;

        /**
         * Runs once after the last update, before it is logged and saved (e.g. the reward model's normalisation).
         *
         * @param done completed updates (the total)
         * @param row the last update's metrics, to add to
         */
        default void finish(long done, Map<String, Double> row) {}

        /**
         * Writes the model files (with the tokenizer) and, when asked, the optimizer state into a directory.
         *
         * @param dir an empty directory
         * @param withOptimizer whether to write optimizer moments (checkpoints) or not (the final model)
         * @param weights how to write the weights: fp32 in one file for checkpoints (exact resume), the run's
         *     {@link TrainerBuilder#optModelSaveOptions model save options} for the final model
         * @throws IOException on failure
         */
        void save(Path dir, boolean withOptimizer, SaveOptions weights) throws IOException;

        /**
         * Returns trainer-specific state to save (e.g. the adaptive KL coefficient).
         *
         * @return name to value
         */
        default Map<String, JsonNode> extraState() {
            return Map.of();
        }

        /**
         * Returns the LoRA adapters this trainer trains, by model role ({@code policy}, {@code critic},
         * {@code reward}); recorded in {@code run_config.json} and compared on resume like the configuration.
         *
         * @return role to adapter settings; empty for full fine-tuning
         */
        default Map<String, LoraConfig> adapters() {
            return Map.of();
        }
    }

    /** The run's append-only side logs ({@code eval.jsonl}, {@code samples.jsonl}); no-ops without a run directory. */
    public static final class Logs implements AutoCloseable {
        private final RunDir runDir;
        private final Map<Path, BufferedWriter> open = new LinkedHashMap<>();

        Logs(RunDir runDir) {
            this.runDir = runDir;
        }

        /**
         * Appends an evaluation result (an object with a {@code step} field) to {@code eval.jsonl}.
         *
         * @param row the row
         * @throws IOException on failure
         */
        public void eval(Object row) throws IOException {
            if (runDir != null) {
                append(runDir.eval(), row);
            }
        }

        /**
         * Appends sample rows (objects with a {@code step} field) to {@code samples.jsonl}.
         *
         * @param rows the rows
         * @throws IOException on failure
         */
        public void samples(List<?> rows) throws IOException {
            if (runDir != null) {
                for (Object r : rows) {
                    append(runDir.samples(), r);
                }
            }
        }

        private void append(Path file, Object row) throws IOException {
            BufferedWriter w = open.get(file);
            if (w == null) {
                w = JsonlFiles.append(file);
                open.put(file, w);
            }
            w.write(Json.compact(row));
            w.newLine();
            w.flush();
        }

        @Override
        public void close() {
            for (BufferedWriter w : open.values()) {
                try {
                    w.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            open.clear();
        }
    }

    /**
     * What a run did.
     *
     * @param startStep the step it started from (0, or the checkpoint's step when resumed)
     * @param steps updates completed when it stopped
     * @param rows the metrics of each update of this run, in order (every update, whatever {@code logging_steps})
     */
    public record Outcome(long startStep, long steps, List<Map<String, Double>> rows) {}

    private final String algorithm;
    private final long seed;
    private final Object config;
    private final Schedule schedule;
    private final Trainee trainee;
    private final RunDir runDir;
    private final ExistingRun existing;
    private final MetricsSink metrics;
    private final ProgressListener progress;
    private final String dataId;
    private final String command;
    private final Path initialModel;
    private final long stopAfter;
    private final Map<String, Object> options;
    private final SaveOptions modelSave;
    private JsonNode lineage;

    /**
     * Creates a loop.
     *
     * @param algorithm the trainer's name (checkpoints, provenance, progress)
     * @param seed the run seed
     * @param config the trainer's configuration (saved in {@code run_config.json} and provenance)
     * @param schedule the schedule
     * @param trainee the trainer
     * @param common the trainer builder's shared settings (run directory, sinks, provenance strings, early stop)
     */
    public TrainingLoop(String algorithm, long seed, Object config, Schedule schedule, Trainee trainee,
            TrainerBuilder<?> common) {
        this.algorithm = algorithm;
        this.seed = seed;
        this.config = config;
        this.schedule = schedule;
        this.trainee = trainee;
        this.runDir = common.runDir();
        this.existing = common.existingRun();
        this.metrics = common.metricsOrNone();
        this.progress = common.progressOrNone();
        this.dataId = common.dataIdOrUnspecified();
        this.command = common.command();
        this.initialModel = common.initialModel();
        this.stopAfter = common.stopAfter();
        this.options = common.commandOptions();
        this.modelSave = common.modelSaveOptions();
    }

    /**
     * Runs (resuming when the run directory holds a checkpoint of the same configuration).
     *
     * @return what the run did
     * @throws RunConfigMismatchException when the run directory holds a run with another configuration
     * @throws org.rlhf4j.core.train.Updater.NonFiniteException when training diverges (no checkpoint of the diverged
     *     weights is written)
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run directory
     * @throws IOException when a checkpoint or log cannot be written or read
     */
    public Outcome run() throws IOException {
        try (AtomicDirectory.Lock owner = runDir == null ? null : runDir.lock()) {
            return runOwned();
        }
    }

    private Outcome runOwned() throws IOException {
        long total = schedule.totalSteps();
        // provenance lineage: the initial model's own provenance nested whole, or the hashes of its files
        lineage = initialModel == null || runDir == null ? null : Provenance.lineageOf(initialModel);
        long start = runDir == null ? 0 : prepare(total);
        MetricsSink sink = metrics;
        if (runDir != null) {
            sink = MetricsSink.tee(metrics, new MetricsSink.Jsonl(runDir.metrics(), start == 0 ? -1 : start));
        }
        DataStream stream = new DataStream(schedule.datasetSize(), seed);
        List<Map<String, Double>> rows = new ArrayList<>();
        long end = stopAfter > 0 ? Math.min(total, stopAfter) : total;
        try (Logs logs = new Logs(runDir)) {
            for (long step = start; step < end; step++) {
                long done = step + 1;
                boolean last = done == total;
                Map<String, Double> row = trainee.step(new Step(step, stream.indices(step, schedule.batchSize()),
                        stream.epoch(done, schedule.batchSize())));
                boolean evaluated = (schedule.evalSteps() > 0 && done % schedule.evalSteps() == 0) || last;
                if (evaluated) {
                    row.putAll(trainee.evaluate(done, logs));
                }
                if (last) {
                    trainee.finish(done, row);
                }
                rows.add(row);
                if (done % schedule.loggingSteps() == 0 || evaluated || done == end) {
                    sink.log(done, row);
                }
                progress.onStep(algorithm, done, total, row);
                if (last) {
                    save(runDir == null ? null : runDir.model(), done, false);
                } else if ((schedule.saveSteps() > 0 && done % schedule.saveSteps() == 0) || done == end) {
                    save(runDir == null ? null : runDir.checkpoint(done), done, true);
                }
            }
        } finally {
            if (runDir != null) {
                sink.close();
            }
        }
        return new Outcome(start, Math.max(start, end), List.copyOf(rows));
    }

    /** Steps 1–2: the existing run's configuration, resume, logs cut back; returns the step to start from. */
    private long prepare(long total) throws IOException {
        RunConfig current = RunConfig.of(algorithm, seed, config, dataId, initialModel, options, trainee.adapters());
        if (existing == ExistingRun.OVERWRITE) {
            clear();
        }
        runDir.create();
        Path latest = runDir.latestCheckpoint();
        RunConfig saved = RunConfig.read(runDir.runConfig());
        if (saved != null) {
            List<RunConfig.Difference> diffs = current.differences(saved);
            List<RunConfig.Difference> blocking = existing == ExistingRun.RESUME
                    ? diffs.stream().filter(d -> !d.trajectoryNeutral()).toList()
                    : diffs;
            if (!blocking.isEmpty()) {
                throw new RunConfigMismatchException(runDir.root(), blocking, existing, saved, current);
            }
            if (!diffs.isEmpty()) {
                LOG.info("{}: resuming with other schedules: {}", runDir.root(), diffs);
            }
        }
        long start = 0;
        if (latest != null) {
            TrainerState st = Checkpoints.state(latest, algorithm);
            if (st.seed() != seed) {
                throw new RunConfigMismatchException(runDir.root(),
                        List.of(new RunConfig.Difference("seed", Long.toString(st.seed()), Long.toString(seed))),
                        existing, saved, current);
            }
            boolean complete = st.step() >= total;
            trainee.restore(latest, st, !complete);
            start = Math.min(st.step(), total);
            LOG.info("{}: resuming from {} at update {}/{}", algorithm, latest, start, total);
        }
        current.write(runDir.runConfig());
        int cut = JsonlFiles.truncateToStep(runDir.eval(), start == 0 ? -1 : start)
                + JsonlFiles.truncateToStep(runDir.samples(), start == 0 ? -1 : start);
        if (cut > 0) {
            LOG.info("{}: dropped {} evaluation/sample rows after update {} (not part of this trajectory)",
                    runDir.root(), cut, start);
        }
        return start;
    }

    /** Deletes everything in the run directory but the owner lock this run holds. */
    private void clear() throws IOException {
        if (!Files.isDirectory(runDir.root())) {
            return;
        }
        String lockName = runDir.model().getFileName() + ".lock";
        try (Stream<Path> s = Files.list(runDir.root())) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals(lockName)) {
                    if (Files.isDirectory(p)) {
                        AtomicDirectory.deleteTree(p);
                    } else {
                        Files.delete(p);
                    }
                }
            }
        }
        LOG.info("{}: overwritten (previous run deleted)", runDir.root());
    }

    private void save(Path dir, long done, boolean withOptimizer) throws IOException {
        if (dir == null) {
            return;
        }
        long samples = done * schedule.batchSize();
        TrainerState st = new TrainerState(algorithm, done, samples / schedule.datasetSize(), seed, samples,
                trainee.extraState());
        Provenance prov = Provenance.capture(algorithm, seed, dataId, config, command, lineage);
        AtomicDirectory.write(dir, tmp -> {
            // checkpoints stay fp32 so a resume continues bit for bit; only the final model takes the chosen dtype
            trainee.save(tmp, withOptimizer, withOptimizer ? SaveOptions.DEFAULTS : modelSave);
            st.write(tmp);
            prov.write(tmp);
        });
        runDir.rotateCheckpoints(schedule.saveTotalLimit());
    }
}
