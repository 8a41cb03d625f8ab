package org.rlhf4j.datasets.download;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.rlhf4j.core.io.Json;

/**
 * The cache's record of downloaded files: {@code manifest.json} maps each file's relative path to its sha256 and
 * size. Written atomically (temporary file, then rename).
 */
public final class Manifest {

    /**
     * One recorded file.
     *
     * @param sha256 hex sha256 of the content
     * @param size size in bytes
     * @param url where it was downloaded from (or {@code local} when it was placed by hand)
     */
    public record Entry(String sha256, long size, String url) {}

    private final Path file;
    private final TreeMap<String, Entry> entries = new TreeMap<>();

    private Manifest(Path file) {
        this.file = file;
    }

    /**
     * Loads a manifest (empty when the file does not exist).
     *
     * @param file the manifest path
     * @return the manifest
     * @throws DownloadException when the file exists but is not a valid manifest
     */
    public static Manifest load(Path file) throws DownloadException {
        Manifest m = new Manifest(file);
        if (!Files.exists(file)) {
            return m;
        }
        try {
            JsonNode root = Json.MAPPER.readTree(file.toFile());
            JsonNode files = root == null ? null : root.get("files");
            if (files == null || !files.isObject()) {
                throw new DownloadException(file + ": not a manifest (no 'files' object); delete it to start over");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (!v.path("sha256").isTextual()) {
                    throw new DownloadException(
                            file + ": entry '" + e.getKey() + "' has no sha256; delete the entry to start over");
                }
                m.entries.put(e.getKey(),
                        new Entry(v.get("sha256").asText(), v.path("size").asLong(-1), v.path("url").asText(null)));
            }
        } catch (DownloadException e) {
            throw e;
        } catch (IOException e) {
            throw new DownloadException(file + ": unreadable manifest (" + e.getMessage() + "); delete it to start"
                    + " over", e);
        }
        return m;
    }

    /**
     * Returns the entry of a file.
     *
     * @param path the relative path
     * @return the entry, if recorded
     */
    public Optional<Entry> get(String path) {
        return Optional.ofNullable(entries.get(path));
    }

    /**
     * Records a file and saves the manifest atomically.
     *
     * @param path the relative path
     * @param entry its checksum, size and source
     * @throws IOException on write failure
     */
    public synchronized void put(String path, Entry entry) throws IOException {
        entries.put(path, entry);
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode files = root.putObject("files");
        entries.forEach((k, v) -> {
            ObjectNode n = files.putObject(k);
            n.put("sha256", v.sha256());
            n.put("size", v.size());
            if (v.url() != null) {
                n.put("url", v.url());
            }
        });
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Json.pretty(root) + "\n", StandardCharsets.UTF_8);
        moveAtomically(tmp, file);
    }

    /**
     * Moves a file into place atomically where the file system allows it, replacing the target.
     *
     * @param from source
     * @param to target
     * @throws IOException on failure
     */
    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Computes the sha256 of a file.
     *
     * @param file the file
     * @return lower-case hex
     * @throws IOException on read failure
     */
    public static String sha256(Path file) throws IOException {
        return org.rlhf4j.core.io.Hashes.sha256(file);
    }
}
