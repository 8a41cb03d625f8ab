package org.rlhf4j.algorithms.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.JsonlFiles;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * The effective configuration of a run, saved as {@code OUT/run_config.json} when the run starts. A later run into the
 * same directory is compared with it field by field ({@link #differences}), so that re-running a stage with other
 * settings can never silently continue (or overwrite) the old run.
 *
 * @param algorithm the trainer ({@code sft}, {@code reward}, {@code dpo}, {@code ppo}, {@code drpo})
 * @param seed the run seed
 * @param config the trainer configuration as JSON (the config record's fields)
 * @param dataId identifier of the training data (sources with sha256)
 * @param initialModel the model directory training started from, or null (from scratch, or not given)
 * @param options the command-line options that produced the run (name to value, as a {@code --config} file takes
 *     them), or null for a run started from Java; recorded to rerun it, not compared (the fields above and below
 *     decide)
 * @param adapters the LoRA adapters the run trains, by model role ({@code policy}, {@code critic}, {@code reward}) to
 *     their {@link org.rlhf4j.core.lora.LoraConfig}, or null for full fine-tuning; compared like the config, so a
 *     run is never continued with other LoRA settings (or with LoRA switched on or off)
 */
public record RunConfig(String algorithm, long seed, JsonNode config, String dataId, String initialModel,
        JsonNode options, JsonNode adapters) {

    /** File name inside the run directory. */
    public static final String FILE = "run_config.json";

    /**
     * Config fields that cannot change a run's trajectory (what it logs, evaluates and keeps on disk, not what it
     * trains): with {@link ExistingRun#RESUME} only these may differ from the saved run. They are the
     * {@link TrainingSchedule} of a config ({@code config.schedule.*}; {@code config.ppo.schedule.*} for DR-PO, whose
     * config nests its PPO settings under {@code ppo}) and the SFT sample counts. {@link #isTrajectoryNeutral} also
     * accepts the four schedule names directly under a config root ({@code config} or {@code config.ppo}), and the
     * whole {@code schedule} object there, so that configs without a schedule record and {@code run_config.json}
     * files written before it (flat {@code config.evalSteps} …) resume the same way.
     */
    public static final Set<String> TRAJECTORY_NEUTRAL = Set.of(
            "config.schedule.evalSteps", "config.schedule.saveSteps", "config.schedule.saveTotalLimit",
            "config.schedule.loggingSteps", "config.ppo.schedule.evalSteps", "config.ppo.schedule.saveSteps",
            "config.ppo.schedule.saveTotalLimit", "config.ppo.schedule.loggingSteps", "config.numSamples",
            "config.sampleMaxTokens");

    /** The component names of {@link TrainingSchedule}. */
    private static final Set<String> SCHEDULE_FIELDS =
            Set.of("evalSteps", "saveSteps", "saveTotalLimit", "loggingSteps");

    /**
     * Returns whether a config field cannot change the trajectory: one of {@link #TRAJECTORY_NEUTRAL}, or, directly
     * under a config root ({@code config} or {@code config.ppo}), one of the four schedule names or the whole
     * {@code schedule} object (present on one side only).
     *
     * @param field dotted path, e.g. {@code config.schedule.evalSteps}
     * @return true when the field may differ on {@link ExistingRun#RESUME}
     */
    public static boolean isTrajectoryNeutral(String field) {
        if (TRAJECTORY_NEUTRAL.contains(field)) {
            return true;
        }
        int dot = field.lastIndexOf('.');
        if (dot < 0) {
            return false;
        }
        String parent = field.substring(0, dot);
        String name = field.substring(dot + 1);
        return (parent.equals("config") || parent.equals("config.ppo"))
                && (SCHEDULE_FIELDS.contains(name) || name.equals("schedule"));
    }

    /** Validates. */
    public RunConfig {
        if (algorithm == null || algorithm.isBlank()) {
            throw new IllegalArgumentException("algorithm must not be blank, got '" + algorithm + "'");
        }
        config = config == null ? NullNode.getInstance() : config;
    }

    /**
     * Builds the run config of a trainer configuration object.
     *
     * @param algorithm the trainer
     * @param seed the seed
     * @param config the config record (serialised with Jackson)
     * @param dataId the data id, or null
     * @param initialModel the initial model directory, or null
     * @return the run config
     */
    public static RunConfig of(String algorithm, long seed, Object config, String dataId, Path initialModel) {
        return of(algorithm, seed, config, dataId, initialModel, null);
    }

    /**
     * Builds the run config of a trainer configuration object, with the command-line options that produced it.
     *
     * @param algorithm the trainer
     * @param seed the seed
     * @param config the config record (serialised with Jackson)
     * @param dataId the data id, or null
     * @param initialModel the initial model directory, or null
     * @param options the command-line options (name to value), or null
     * @return the run config
     */
    public static RunConfig of(String algorithm, long seed, Object config, String dataId, Path initialModel,
            Map<String, ?> options) {
        return of(algorithm, seed, config, dataId, initialModel, options, null);
    }

    /**
     * Builds the run config of a trainer configuration object, with the command-line options that produced it and
     * the LoRA adapters it trains.
     *
     * @param algorithm the trainer
     * @param seed the seed
     * @param config the config record (serialised with Jackson)
     * @param dataId the data id, or null
     * @param initialModel the initial model directory, or null
     * @param options the command-line options (name to value), or null
     * @param adapters model role to adapter settings (serialised with Jackson); null or empty for full fine-tuning
     * @return the run config
     */
    public static RunConfig of(String algorithm, long seed, Object config, String dataId, Path initialModel,
            Map<String, ?> options, Map<String, ?> adapters) {
        return new RunConfig(algorithm, seed, Json.MAPPER.valueToTree(config), dataId,
                initialModel == null ? null : initialModel.toAbsolutePath().normalize().toString(),
                options == null ? null : Json.MAPPER.valueToTree(options),
                adapters == null || adapters.isEmpty() ? null : Json.MAPPER.valueToTree(adapters));
    }

    /**
     * One field whose value differs.
     *
     * @param field dotted path, e.g. {@code config.optimizer.learningRate}
     * @param saved the saved run's value (JSON text; {@code absent} when missing)
     * @param current this run's value
     */
    public record Difference(String field, String saved, String current) {

        /**
         * Returns whether the field cannot change the trajectory.
         *
         * @return {@link #isTrajectoryNeutral}(field)
         */
        public boolean trajectoryNeutral() {
            return isTrajectoryNeutral(field);
        }

        @Override
        public String toString() {
            return field + " " + saved + " -> " + current;
        }
    }

    /**
     * Lists the fields whose values differ between a saved run config and this one, in field order.
     *
     * @param saved the saved run's config
     * @return the differences (empty when equal)
     */
    public List<Difference> differences(RunConfig saved) {
        List<Difference> out = new ArrayList<>();
        diff("", Json.MAPPER.valueToTree(saved), Json.MAPPER.valueToTree(this), out);
        out.removeIf(d -> d.field().equals("options") || d.field().startsWith("options."));
        return out;
    }

    private static void diff(String path, JsonNode a, JsonNode b, List<Difference> out) {
        if (a != null && b != null && a.isObject() && b.isObject()) {
            Set<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            // keep the current object's field order, then fields only the saved one has
            List<String> ordered = new ArrayList<>();
            for (Iterator<String> it = b.fieldNames(); it.hasNext();) {
                ordered.add(it.next());
            }
            for (String n : names) {
                if (!ordered.contains(n)) {
                    ordered.add(n);
                }
            }
            for (String n : ordered) {
                diff(path.isEmpty() ? n : path + "." + n, a.get(n), b.get(n), out);
            }
            return;
        }
        boolean aMissing = a == null || a.isNull();
        boolean bMissing = b == null || b.isNull();
        if (aMissing && bMissing) {
            return;
        }
        if (aMissing || bMissing || !equalValues(a, b)) {
            out.add(new Difference(path, aMissing ? "absent" : a.toString(), bMissing ? "absent" : b.toString()));
        }
    }

    private static boolean equalValues(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }

    /**
     * Writes {@code OUT/run_config.json} atomically.
     *
     * @param file the file
     * @throws IOException on failure
     */
    public void write(Path file) throws IOException {
        JsonlFiles.replace(file, List.of(Json.pretty(this)));
    }

    /**
     * Reads a saved run config.
     *
     * @param file the file
     * @return the config, or null when the file does not exist (a run directory from before run configs)
     * @throws ModelFormatException when the file is malformed
     */
    public static RunConfig read(Path file) throws ModelFormatException {
        try {
            return Json.MAPPER.readValue(Files.readString(file), RunConfig.class);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelFormatException(file, "malformed: " + e.getMessage(), e);
        }
    }
}
