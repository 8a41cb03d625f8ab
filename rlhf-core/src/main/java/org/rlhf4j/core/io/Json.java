package org.rlhf4j.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The project's single Jackson mapper and small helpers around it. */
public final class Json {

    /** Shared mapper: pretty output, unknown fields allowed (HF configs carry many we do not model). */
    public static final ObjectMapper MAPPER =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Json() {}

    /**
     * Serialises a value as compact JSON (one line).
     *
     * @param value the value
     * @return the JSON text
     */
    public static String compact(Object value) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Serialises a value as indented JSON.
     *
     * @param value the value
     * @return the JSON text
     */
    public static String pretty(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a value as indented JSON to a file (not atomically; checkpoints are made atomic at directory level).
     *
     * @param file the target
     * @param value the value
     * @throws IOException on write failure
     */
    public static void write(Path file, Object value) throws IOException {
        java.nio.file.Files.writeString(file, pretty(value) + "\n", StandardCharsets.UTF_8);
    }
}
