package org.rlhf4j.datasets.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * The record a {@link HubDownload} leaves in its directory ({@value #FILE_NAME}): which repository, revision and
 * commit the files come from, the selection that chose them, and each file's size, sha256 and git blob id. A rerun
 * that resolves to the same commit and selects the same files finds everything here and downloads nothing. The token
 * is never written.
 *
 * @param repo the repository id
 * @param revision the revision asked for (branch, tag or commit)
 * @param commit the commit it resolved to (40 hex digits)
 * @param endpoint the endpoint the files came from
 * @param includes the include globs of the selection
 * @param excludes the exclude globs of the selection
 * @param defaults whether the default files were selected
 * @param files the files, sorted by path
 */
public record HubManifest(String repo, String revision, String commit, String endpoint, List<String> includes,
        List<String> excludes, boolean defaults, List<HubManifest.Entry> files) {

    /** The manifest's file name inside a downloaded directory. */
    public static final String FILE_NAME = "rlhf4j-download.json";

    /** The format tag written into the file. */
    public static final String FORMAT = "rlhf4j-hub-download/1";

    /**
     * One downloaded file.
     *
     * @param path the path inside the repository (and the directory)
     * @param size the size in bytes
     * @param sha256 the sha256 of the content
     * @param gitOid the git blob id
     * @param lfs whether the file is stored with Git LFS
     */
    public record Entry(String path, long size, String sha256, String gitOid, boolean lfs) {}

    /**
     * Copies the lists.
     *
     * @param repo the repository id
     * @param revision the revision
     * @param commit the commit
     * @param endpoint the endpoint
     * @param includes the include globs
     * @param excludes the exclude globs
     * @param defaults whether the defaults were on
     * @param files the files
     */
    public HubManifest {
        includes = List.copyOf(includes);
        excludes = List.copyOf(excludes);
        files = files.stream().sorted(java.util.Comparator.comparing(Entry::path)).toList();
    }

    /**
     * Returns the entries by path.
     *
     * @return an ordered map
     */
    public Map<String, Entry> byPath() {
        Map<String, Entry> m = new LinkedHashMap<>();
        for (Entry e : files) {
            m.put(e.path(), e);
        }
        return m;
    }

    /**
     * Returns whether a selection is the one recorded.
     *
     * @param selection the selection
     * @return true when defaults, includes and excludes are equal
     */
    public boolean sameSelection(FileSelection selection) {
        return defaults == selection.usesDefaults() && includes.equals(selection.includes())
                && excludes.equals(selection.excludes());
    }

    /**
     * Returns the total size of the files.
     *
     * @return bytes
     */
    public long totalBytes() {
        return files.stream().mapToLong(Entry::size).sum();
    }

    /**
     * Reads the manifest of a directory.
     *
     * @param dir the directory
     * @return the manifest, or empty when the directory has none
     * @throws ModelFormatException when the file exists but is not a valid manifest (names the field)
     * @throws IOException on read failure
     */
    public static Optional<HubManifest> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "not valid JSON (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file, "not a JSON object");
        }
        if (!FORMAT.equals(root.path("format").asText(null))) {
            throw new ModelFormatException(file, "field 'format': expected '" + FORMAT + "', got "
                    + root.get("format"));
        }
        List<Entry> files = new ArrayList<>();
        JsonNode fs = root.get("files");
        if (fs == null || !fs.isArray()) {
            throw new ModelFormatException(file, "field 'files': missing or not an array");
        }
        for (int i = 0; i < fs.size(); i++) {
            JsonNode f = fs.get(i);
            String where = "files[" + i + "]";
            files.add(new Entry(text(file, f, "path", where), number(file, f, "size", where),
                    text(file, f, "sha256", where), text(file, f, "git_oid", where), f.path("lfs").asBoolean(false)));
        }
        return Optional.of(new HubManifest(text(file, root, "repo", ""), text(file, root, "revision", ""),
                text(file, root, "commit", ""), root.path("endpoint").asText(""), strings(file, root, "include"),
                strings(file, root, "exclude"), root.path("defaults").asBoolean(true), files));
    }

    /**
     * Writes the manifest into a directory (temporary file, then rename).
     *
     * @param dir the directory
     * @throws IOException on write failure
     */
    public void write(Path dir) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("repo", repo);
        root.put("revision", revision);
        root.put("commit", commit);
        root.put("endpoint", endpoint);
        root.put("defaults", defaults);
        ArrayNode inc = root.putArray("include");
        includes.forEach(inc::add);
        ArrayNode exc = root.putArray("exclude");
        excludes.forEach(exc::add);
        ArrayNode fs = root.putArray("files");
        for (Entry e : files) {
            ObjectNode n = fs.addObject();
            n.put("path", e.path());
            n.put("size", e.size());
            n.put("sha256", e.sha256());
            n.put("git_oid", e.gitOid());
            n.put("lfs", e.lfs());
        }
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        Files.writeString(tmp, Json.pretty(root) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(FILE_NAME), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static String text(Path file, JsonNode n, String field, String where) throws ModelFormatException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new ModelFormatException(file, "field '" + (where.isEmpty() ? "" : where + ".") + field
                    + "': missing or not a string");
        }
        return v.asText();
    }

    private static long number(Path file, JsonNode n, String field, String where) throws ModelFormatException {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToLong() || v.asLong() < 0) {
            throw new ModelFormatException(file, "field '" + where + "." + field + "': missing or not a size");
        }
        return v.asLong();
    }

    private static List<String> strings(Path file, JsonNode n, String field) throws ModelFormatException {
        JsonNode v = n.get(field);
        if (v == null) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new ModelFormatException(file, "field '" + field + "': not an array");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            out.add(s.asText());
        }
        return out;
    }
}
