package org.rlhf4j.core.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.io.Hashes;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * Where a checkpoint came from: everything needed to repeat the run ({@code provenance.json}), including, nested,
 * where its initial model came from.
 *
 * <p>{@code parent} is the lineage of the initial model ({@link #lineageOf}): the initial model's own
 * {@code provenance.json}, whole, when it has one (so a DPO model's provenance holds its SFT model's, which holds
 * that model's parent), else a description of the directory with the SHA-256 of its files (a downloaded HF model),
 * or {@link #randomInit} for a model initialised from scratch. Files written before the field existed read with
 * {@code parent} and {@code gitDirty} null.
 *
 * @param library always {@code rlhf4j}
 * @param version rlhf4j version
 * @param djlVersion DJL version
 * @param javaVersion {@code java.version}
 * @param gitCommit commit rlhf4j was built from (recorded at build time), or {@code unknown}
 * @param gitDirty whether the tree rlhf4j was built from had uncommitted changes; null when unknown
 * @param created creation time (UTC, ISO-8601)
 * @param algorithm what produced it (e.g. {@code sft}, {@code ppo})
 * @param seed the run seed
 * @param dataId identifier of the training data (file names and sha256, or {@code bundled:...})
 * @param config the full trainer configuration
 * @param command the command line, when run from the CLI
 * @param parent lineage of the initial model, or null when not recorded
 */
public record Provenance(
        String library,
        String version,
        String djlVersion,
        String javaVersion,
        String gitCommit,
        Boolean gitDirty,
        String created,
        String algorithm,
        long seed,
        String dataId,
        JsonNode config,
        String command,
        JsonNode parent) {

    /** The file name inside a checkpoint directory. */
    public static final String FILE = "provenance.json";

    /** Files of a model directory without provenance that {@link #lineageOf} hashes, besides the weights. */
    private static final List<String> HASHED_FILES = List.of("config.json", "tokenizer.json");

    private static final Properties VERSIONS = loadVersions();

    /**
     * Captures the provenance of the current run, without lineage.
     *
     * @param algorithm what is running
     * @param seed the seed
     * @param dataId the data identifier
     * @param config the trainer configuration (any Jackson-serialisable value, typically the config record)
     * @param command the command line or null
     * @return the provenance
     */
    public static Provenance capture(String algorithm, long seed, String dataId, Object config, String command) {
        return capture(algorithm, seed, dataId, config, command, null);
    }

    /**
     * Captures the provenance of the current run, with the lineage of its initial model.
     *
     * @param algorithm what is running
     * @param seed the seed
     * @param dataId the data identifier
     * @param config the trainer configuration (any Jackson-serialisable value, typically the config record)
     * @param command the command line or null
     * @param parent the initial model's lineage ({@link #lineageOf}, {@link #randomInit}) or null
     * @return the provenance
     */
    public static Provenance capture(
            String algorithm, long seed, String dataId, Object config, String command, JsonNode parent) {
        return new Provenance(
                "rlhf4j",
                libraryVersion(),
                VERSIONS.getProperty("djl", "unknown"),
                System.getProperty("java.version"),
                buildCommit(),
                buildDirty(),
                Instant.now().toString(),
                algorithm,
                seed,
                dataId,
                Json.MAPPER.valueToTree(config),
                command,
                parent);
    }

    /**
     * Returns a copy with another lineage.
     *
     * @param lineage the initial model's lineage, or null
     * @return the copy
     */
    public Provenance withParent(JsonNode lineage) {
        return new Provenance(library, version, djlVersion, javaVersion, gitCommit, gitDirty, created, algorithm, seed,
                dataId, config, command, lineage);
    }

    /**
     * Returns the lineage of a model directory: its {@code provenance.json} as it is, when it has one; otherwise
     * {@code {"path", "model_type", "files": {name: sha256}}} for {@code config.json}, {@code tokenizer.json} and
     * the weight files ({@code model*.safetensors}, {@code pytorch_model*.bin} and their index files), each hashed
     * as a stream. Only reads, through {@link AtomicReads}, so a directory a trainer is saving right now is read as
     * its last complete version.
     *
     * @param modelDir the model directory
     * @return the lineage
     * @throws ModelFormatException when the directory is missing, has neither provenance nor model files, or its
     *     provenance or config is malformed
     * @throws IOException when a file cannot be read
     */
    public static JsonNode lineageOf(Path modelDir) throws IOException {
        Path shown = modelDir.toAbsolutePath().normalize();
        return AtomicReads.read(modelDir, dir -> {
            if (!Files.isDirectory(dir)) {
                throw new ModelFormatException(shown, "model directory not found");
            }
            if (Files.isRegularFile(dir.resolve(FILE))) {
                return readTree(dir.resolve(FILE));
            }
            TreeMap<String, String> files = new TreeMap<>();
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    String name = f.getFileName().toString();
                    if (Files.isRegularFile(f) && (HASHED_FILES.contains(name) || isWeightFile(name))) {
                        files.put(name, Hashes.sha256(f));
                    }
                }
            }
            if (files.keySet().stream().noneMatch(Provenance::isWeightFile)) {
                throw new ModelFormatException(shown, "no provenance.json and no model weights to record as lineage");
            }
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.put("path", shown.toString());
            JsonNode modelType = files.containsKey("config.json")
                    ? readTree(dir.resolve("config.json")).get("model_type") : null;
            out.put("model_type", modelType != null && modelType.isTextual() ? modelType.asText() : null);
            out.set("files", Json.MAPPER.valueToTree(files));
            return out;
        });
    }

    /**
     * Returns the lineage of a model initialised from scratch: {@code {"source": "random_init", "config": ...,
     * "seed": ...}}.
     *
     * @param modelConfig the model's configuration (any Jackson-serialisable value) or null
     * @param seed the initialisation seed
     * @return the lineage
     */
    public static JsonNode randomInit(Object modelConfig, long seed) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("source", "random_init");
        out.set("config", Json.MAPPER.valueToTree(modelConfig));
        out.put("seed", seed);
        return out;
    }

    private static boolean isWeightFile(String name) {
        return (name.startsWith("model") && (name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json")))
                || (name.startsWith("pytorch_model") && (name.endsWith(".bin") || name.endsWith(".bin.index.json")));
    }

    private static JsonNode readTree(Path file) throws IOException {
        String text = Files.readString(file);
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "malformed: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Returns the rlhf4j version.
     *
     * @return the version string
     */
    public static String libraryVersion() {
        return VERSIONS.getProperty("version", "unknown");
    }

    /**
     * Returns the commit rlhf4j was built from, as recorded in its {@code version.properties} at build time.
     *
     * @return 40 hex digits, or {@code unknown} (built without git metadata)
     */
    public static String buildCommit() {
        String c = VERSIONS.getProperty("gitCommit", "").trim();
        return c.matches("[0-9a-f]{40}") ? c : "unknown";
    }

    /**
     * Returns whether the tree rlhf4j was built from had uncommitted changes.
     *
     * @return true or false, or null when unknown
     */
    public static Boolean buildDirty() {
        String d = VERSIONS.getProperty("gitDirty", "").trim();
        return "true".equals(d) ? Boolean.TRUE : "false".equals(d) ? Boolean.FALSE : null;
    }

    private static Properties loadVersions() {
        Properties p = new Properties();
        try (InputStream in = Provenance.class.getResourceAsStream("/org/rlhf4j/core/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // versions stay unknown
        }
        return p;
    }

    /**
     * Writes {@code provenance.json}.
     *
     * @param dir the checkpoint directory
     * @throws IOException on failure
     */
    public void write(Path dir) throws IOException {
        Json.write(dir.resolve(FILE), this);
    }

    /**
     * Reads {@code provenance.json} (through {@link AtomicReads}, so never from a save in progress).
     *
     * @param dir the checkpoint directory
     * @return the provenance
     * @throws ModelFormatException when missing or malformed
     */
    public static Provenance read(Path dir) throws ModelFormatException {
        Path f = dir.resolve(FILE);
        try {
            return AtomicReads.read(dir, d -> Json.MAPPER.readValue(Files.readString(d.resolve(FILE)),
                    Provenance.class));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(f, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(f, "malformed: " + e.getMessage(), e);
        }
    }
}
