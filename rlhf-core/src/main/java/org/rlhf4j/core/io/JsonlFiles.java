package org.rlhf4j.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only JSON Lines logs of a training run ({@code metrics.jsonl}, {@code eval.jsonl}, {@code samples.jsonl}):
 * one object per line, each with a numeric {@code step}.
 *
 * <p>A resumed run first cuts its logs back to the checkpoint it resumes from ({@link #truncateToStep}), so each file
 * describes exactly one trajectory. The cut never rewrites a file in place: the kept lines go to
 * {@code NAME.tmp-<pid>}, which is fsynced and renamed over {@code NAME}, so a kill at any moment leaves either the old
 * or the new file, never an empty or half-written one. A torn last line (a kill or a full disk in the middle of an
 * append) is expected after a crash: it is cut with a warning naming the file and line. A malformed line anywhere
 * else is an error naming the file and line, since dropping it would lose data silently.
 */
public final class JsonlFiles {

    private static final Logger LOG = LoggerFactory.getLogger(JsonlFiles.class);

    private JsonlFiles() {}

    /**
     * Keeps the lines whose {@code step} is at most {@code step} (all earlier lines, in order) and drops the rest,
     * replacing the file atomically. Does nothing when the file does not exist.
     *
     * @param file the log
     * @param step the last step to keep; a negative value empties the file
     * @return the number of lines dropped (a torn last line included)
     * @throws ModelFormatException when a line other than the last is not a JSON object with a numeric {@code step}
     *     (the message names the file, the line number and the field)
     * @throws IOException when the file cannot be read or replaced
     */
    public static int truncateToStep(Path file, long step) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        int last = lines.size() - 1;
        while (last >= 0 && lines.get(last).isBlank()) {
            last--;
        }
        List<String> kept = new ArrayList<>();
        int dropped = 0;
        for (int i = 0; i <= last; i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode row;
            try {
                row = Json.MAPPER.readTree(line);
            } catch (IOException e) {
                row = null;
            }
            if (row == null || !row.isObject()) {
                if (i == last) {
                    LOG.warn("{}:{}: torn last line ({} characters, not a JSON object) cut: the previous run was "
                            + "interrupted while writing it", file, i + 1, line.length());
                    dropped++;
                    continue;
                }
                throw new ModelFormatException(file, "line " + (i + 1) + ": not a JSON object");
            }
            JsonNode s = row.get("step");
            if (s == null || !s.isNumber()) {
                throw new ModelFormatException(file, "line " + (i + 1) + ": field 'step' is missing or not a number");
            }
            if (step >= 0 && s.asLong() <= step) {
                kept.add(line);
            } else {
                dropped++;
            }
        }
        if (dropped == 0 && endsWithNewline(file)) {
            return 0;
        }
        replace(file, kept);
        return dropped;
    }

    private static boolean endsWithNewline(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                return true;
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, size - 1);
            return b.get(0) == '\n';
        }
    }

    /**
     * Replaces a file with the given lines atomically: write {@code NAME.tmp-<pid>}, fsync, rename over {@code NAME}.
     *
     * @param file the file
     * @param lines its new lines
     * @throws IOException on failure; the file is then unchanged
     */
    public static void replace(Path file, List<String> lines) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (String l : lines) {
                w.write(l);
                w.newLine();
            }
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Opens a log for appending (created when missing).
     *
     * @param file the log
     * @return a writer positioned at the end
     * @throws IOException on failure
     */
    public static BufferedWriter append(Path file) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }
}
