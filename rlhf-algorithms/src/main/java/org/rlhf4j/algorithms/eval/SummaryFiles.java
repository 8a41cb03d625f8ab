package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rlhf4j.core.io.Json;

/**
 * Summary files: JSON Lines of {@code {"id": ..., "summary": "..."}}, one summary per prompt id, as
 * {@code rlhf4j eval --save-summaries} writes them and {@code --summaries} / {@code --against} read them (to judge
 * saved summaries again, or two policies against each other, without the models).
 */
public final class SummaryFiles {

    private SummaryFiles() {}

    /**
     * Reads a summary file. Blank lines are ignored; an id may be a string or a number (read as its text).
     *
     * @param file the file
     * @return summary per id, in file order
     * @throws IOException when the file is unreadable, or a line is not JSON, lacks a value {@code id} or a text
     *     {@code summary}, or repeats an id (the message names file and line)
     */
    public static Map<String, String> read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Map<String, String> out = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = Json.MAPPER.readTree(lines.get(i));
            } catch (IOException e) {
                throw new IOException(file + ":" + (i + 1) + ": not JSON: "
                        + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
            }
            if (n == null || !n.path("id").isValueNode() || n.path("id").isNull() || !n.path("summary").isTextual()) {
                throw new IOException(file + ":" + (i + 1) + ": expected {\"id\": ..., \"summary\": \"...\"}");
            }
            if (out.put(n.get("id").asText(), n.get("summary").asText()) != null) {
                throw new IOException(file + ":" + (i + 1) + ": duplicate id '" + n.get("id").asText() + "'");
            }
        }
        return out;
    }

    /**
     * Writes the summaries of an evaluation as a summary file (parent directories created, an existing file
     * replaced), one line per summary in order.
     *
     * @param file the file
     * @param summaries the summaries ({@link PolicyEvaluation#summaries()})
     * @throws IOException when the file cannot be written
     */
    public static void write(Path file, List<PolicyEvaluation.Summary> summaries) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(summaries, "summaries");
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (PolicyEvaluation.Summary s : summaries) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", s.id());
                row.put("summary", s.summary());
                w.write(Json.compact(row));
                w.newLine();
            }
        }
    }
}
