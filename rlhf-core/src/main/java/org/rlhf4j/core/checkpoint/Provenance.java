package org.rlhf4j.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * Where a checkpoint came from: everything needed to repeat the run ({@code provenance.json}).
 *
 * @param library always {@code rlhf4j}
 * @param version rlhf4j version
 * @param djlVersion DJL version
 * @param javaVersion {@code java.version}
 * @param gitCommit commit of the working directory's repository, or {@code unknown}
 * @param created creation time (UTC, ISO-8601)
 * @param algorithm what produced it (e.g. {@code sft}, {@code ppo})
 * @param seed the run seed
 * @param dataId identifier of the training data (file names and sha256, or {@code bundled:...})
 * @param config the full trainer configuration
 * @param command the command line, when run from the CLI
 */
public record Provenance(
        String library,
        String version,
        String djlVersion,
        String javaVersion,
        String gitCommit,
        String created,
        String algorithm,
        long seed,
        String dataId,
        JsonNode config,
        String command) {

    private static final Properties VERSIONS = loadVersions();

    /**
     * Captures the provenance of the current run.
     *
     * @param algorithm what is running
     * @param seed the seed
     * @param dataId the data identifier
     * @param config the trainer configuration (any Jackson-serialisable value, typically the config record)
     * @param command the command line or null
     * @return the provenance
     */
    public static Provenance capture(String algorithm, long seed, String dataId, Object config, String command) {
        return new Provenance(
                "rlhf4j",
                libraryVersion(),
                VERSIONS.getProperty("djl", "unknown"),
                System.getProperty("java.version"),
                currentGitCommit(),
                Instant.now().toString(),
                algorithm,
                seed,
                dataId,
                Json.MAPPER.valueToTree(config),
                command);
    }

    /**
     * Returns the rlhf4j version.
     *
     * @return the version string
     */
    public static String libraryVersion() {
        return VERSIONS.getProperty("version", "unknown");
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

    private static String currentGitCommit() {
        String env = System.getenv("RLHF4J_GIT_COMMIT");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            Process proc = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            if (!proc.waitFor(2, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                return "unknown";
            }
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return proc.exitValue() == 0 && out.matches("[0-9a-f]{40}") ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    /**
     * Writes {@code provenance.json}.
     *
     * @param dir the checkpoint directory
     * @throws IOException on failure
     */
    public void write(Path dir) throws IOException {
        Json.write(dir.resolve("provenance.json"), this);
    }

    /**
     * Reads {@code provenance.json}.
     *
     * @param dir the checkpoint directory
     * @return the provenance
     * @throws ModelFormatException when missing or malformed
     */
    public static Provenance read(Path dir) throws ModelFormatException {
        Path f = dir.resolve("provenance.json");
        try {
            return Json.MAPPER.readValue(Files.readString(f), Provenance.class);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ModelFormatException(f, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(f, "malformed: " + e.getMessage(), e);
        }
    }
}
