package org.rlhf4j.core.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.StringWriter;
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
     * Serialises a tree as Python's {@code json.dumps(obj, indent=2)} prints it ({@code "key": value}, objects and
     * arrays one element per line, 2-space indent), the layout of the JSON files transformers writes. Keys keep the
     * tree's order; sort them first for {@code sort_keys=True}.
     *
     * @param node the tree
     * @return the JSON text, without a final newline
     */
    public static String pythonStyle(JsonNode node) {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                        .withObjectEmptySeparator("")
                        .withArrayEmptySeparator(""));
        pp.indentObjectsWith(new DefaultIndenter("  ", "\n"));
        pp.indentArraysWith(new DefaultIndenter("  ", "\n"));
        StringWriter w = new StringWriter();
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(w)) {
            g.setPrettyPrinter(pp);
            MAPPER.writeTree(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
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
