package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.rlhf4j.core.io.Json;

/**
 * A persistent cache of LLM judge replies: a JSON Lines file of {@code {"key": sha256(request body), "content":
 * reply}} rows, so that an interrupted evaluation resumes without paying for the same request twice.
 *
 * <p>Each new reply is appended as one line and flushed before the judge moves on. On opening, a last line that is
 * not valid JSON (a crash in the middle of a write) is ignored with a warning, and the next append starts on a fresh
 * line; a malformed line elsewhere is an error naming the file and line (the file was edited or damaged, and silently
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
        boolean needsNewline = false;
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            int last = lines.size() - 1;
            while (last >= 0 && lines.get(last).isBlank()) {
                last--;
            }
            for (int i = 0; i <= last; i++) {
                String line = lines.get(i);
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
                    if (i == last) {
                        ignored = 1;
                        warn.accept("judge cache " + file + ": ignoring an incomplete last line " + (i + 1)
                                + " (an interrupted write): " + e.getMessage().lines().findFirst().orElse(""));
                    } else {
                        throw new IOException(file + ":" + (i + 1) + ": malformed judge cache line: "
                                + e.getMessage().lines().findFirst().orElse(""), e);
                    }
                }
            }
            needsNewline = Files.size(file) > 0 && !endsWithNewline(file);
        } else if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        this.ignoredTrailing = ignored;
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        if (needsNewline) {
            writer.newLine();
            writer.flush();
        }
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

    private static boolean endsWithNewline(Path f) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            raf.seek(raf.length() - 1);
            return raf.read() == '\n';
        }
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
