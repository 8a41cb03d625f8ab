package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.rlhf4j.core.io.Json;

/**
 * A persistent cache of LLM judge replies: a JSON Lines file of {@code {"key": sha256(request body), "content":
 * reply}} rows, so that an interrupted evaluation resumes, and a rerun repeats, without paying for the same request
 * twice. Request bodies are {@linkplain #canonicalJson canonical JSON}, so keys are the same in every JVM run.
 * {@link LlmJudge} stores replies with the API key already replaced by {@code ***}: the file never holds the key.
 *
 * <p>Each new reply is appended as one line and flushed before the judge moves on. On opening, a last line that is
 * not valid JSON (a crash in the middle of a write) is ignored with a warning and cut off, so the next append starts
 * on a fresh line and the file stays valid; a malformed line elsewhere is an error naming the file and line (the file was edited or damaged, and silently
 * dropping rows could hide it). Not thread-safe.
 */
public final class JudgeCache implements AutoCloseable {

    private final Path file;
    private final Map<String, String> entries = new HashMap<>();
    private final BufferedWriter writer;
    private final int ignoredTrailing;

    private JudgeCache(Path file, Consumer<String> warn) throws IOException {
        this.file = file;
        int ignored = 0;
        if (Files.exists(file)) {
            byte[] bytes = Files.readAllBytes(file);
            // line i spans [starts[i], ends[i]) without its '\n'
            List<int[]> spans = new ArrayList<>();
            int from = 0;
            for (int i = 0; i <= bytes.length; i++) {
                if (i == bytes.length || bytes[i] == '\n') {
                    if (i > from || i < bytes.length) {
                        spans.add(new int[] {from, i});
                    }
                    from = i + 1;
                }
            }
            int last = spans.size() - 1;
            while (last >= 0 && text(bytes, spans.get(last)).isBlank()) {
                last--;
            }
            for (int i = 0; i <= last; i++) {
                String line = text(bytes, spans.get(i));
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode n = Json.MAPPER.readTree(line);
                    if (n == null || !n.hasNonNull("key") || !n.hasNonNull("content")) {
                        throw new IOException("missing 'key' or 'content'");
                    }
                    entries.put(n.get("key").asText(), n.get("content").asText());
                } catch (IOException e) {
                    String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                    if (i != last) {
                        throw new IOException(file + ":" + (i + 1) + ": malformed judge cache line: " + why, e);
                    }
                    ignored = 1;
                    warn.accept("judge cache " + file + ": ignoring an incomplete last line " + (i + 1)
                            + " (an interrupted write) and cutting it off: " + why);
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        ch.truncate(spans.get(i)[0]);
                    }
                }
            }
            if (ignored == 0 && bytes.length > 0 && bytes[bytes.length - 1] != '\n') {
                // a complete last line without its newline: terminate it before appending
                Files.write(file, new byte[] {'\n'}, StandardOpenOption.APPEND);
            }
        } else if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        this.ignoredTrailing = ignored;
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /**
     * Opens (or creates) a cache file.
     *
     * @param file the JSON Lines file
     * @param warn receives warnings (the ignored trailing line)
     * @return the cache
     * @throws IOException when the file cannot be read or written, or a line other than the last is malformed
     */
    public static JudgeCache open(Path file, Consumer<String> warn) throws IOException {
        return new JudgeCache(file, warn);
    }

    private static String text(byte[] bytes, int[] span) {
        return new String(bytes, span[0], span[1] - span[0], StandardCharsets.UTF_8);
    }

    /**
     * Serialises a value as canonical JSON: compact, with the keys of every object sorted (by UTF-16 code units, as
     * {@link String#compareTo}), so the text depends only on the content, never on a map's iteration order (that of
     * {@code Map.of} changes from one JVM run to the next). Request bodies are built with it so that their
     * {@link #key} is stable across runs.
     *
     * @param value a map, list, record or JSON tree
     * @return the canonical JSON text
     */
    public static String canonicalJson(Object value) {
        return Json.compact(sorted(Json.MAPPER.valueToTree(value)));
    }

    private static JsonNode sorted(JsonNode n) {
        if (n.isObject()) {
            List<String> names = new ArrayList<>();
            n.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (String name : names) {
                out.set(name, sorted(n.get(name)));
            }
            return out;
        }
        if (n.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode(n.size());
            n.forEach(e -> out.add(sorted(e)));
            return out;
        }
        return n;
    }

    /**
     * Returns the cache key of a request body: its SHA-256, hex.
     *
     * @param requestBody the exact JSON body sent
     * @return 64 hex digits
     */
    public static String key(String requestBody) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(requestBody.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /**
     * Returns a cached reply.
     *
     * @param key the key
     * @return the reply content, or null when absent
     */
    public String get(String key) {
        return entries.get(key);
    }

    /**
     * Stores a reply: appended as one line and flushed.
     *
     * @param key the key
     * @param content the reply content
     */
    public void put(String key, String content) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("key", key);
        row.put("content", content);
        try {
            writer.write(Json.compact(row));
            writer.newLine();
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to judge cache " + file, e);
        }
        entries.put(key, content);
    }

    /**
     * Returns the number of cached replies.
     *
     * @return the size
     */
    public int size() {
        return entries.size();
    }

    /**
     * Returns how many incomplete trailing lines were ignored on opening (0 or 1).
     *
     * @return the count
     */
    public int ignoredTrailingLines() {
        return ignoredTrailing;
    }

    /**
     * Returns the file.
     *
     * @return the path
     */
    public Path file() {
        return file;
    }

    /** Closes the file. */
    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close judge cache " + file, e);
        }
    }
}
