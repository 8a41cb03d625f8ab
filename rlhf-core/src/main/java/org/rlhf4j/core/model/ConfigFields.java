package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/** Typed reads of {@code config.json} fields whose errors name the file and the field. */
final class ConfigFields {

    private ConfigFields() {}

    /**
     * Reads a JSON object from a file.
     *
     * @param file the file
     * @return the object
     * @throws ModelFormatException when the file is missing, not JSON, or not an object
     */
    static JsonNode readObject(Path file) throws ModelFormatException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file, "not a JSON object");
        }
        return root;
    }

    /**
     * Reads an integer field.
     *
     * @param file the file, for messages
     * @param root the object
     * @param name the field
     * @param dflt the value when the field is absent or null; null makes it required
     * @return the value
     * @throws ModelFormatException when required and absent, or not an integer
     */
    static int intField(Path file, JsonNode root, String name, Integer dflt) throws ModelFormatException {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            if (dflt != null) {
                return dflt;
            }
            throw new ModelFormatException(file, "missing field '" + name + "'");
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFormatException(file, "field '" + name + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    /**
     * Reads a floating-point field.
     *
     * @param file the file, for messages
     * @param root the object
     * @param name the field
     * @param dflt the value when the field is absent or null
     * @return the value
     * @throws ModelFormatException when the field is not a number
     */
    static double doubleField(Path file, JsonNode root, String name, double dflt) throws ModelFormatException {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new ModelFormatException(file, "field '" + name + "' must be a number, got " + n);
        }
        return n.asDouble();
    }

    /**
     * Reads a boolean field.
     *
     * @param file the file, for messages
     * @param root the object
     * @param name the field
     * @param dflt the value when the field is absent or null
     * @return the value
     * @throws ModelFormatException when the field is not a boolean
     */
    static boolean booleanField(Path file, JsonNode root, String name, boolean dflt) throws ModelFormatException {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new ModelFormatException(file, "field '" + name + "' must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    /**
     * Reads a string field.
     *
     * @param file the file, for messages
     * @param root the object
     * @param name the field
     * @param dflt the value when the field is absent or null
     * @return the value
     * @throws ModelFormatException when the field is not a string
     */
    static String stringField(Path file, JsonNode root, String name, String dflt) throws ModelFormatException {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw new ModelFormatException(file, "field '" + name + "' must be a string, got " + n);
        }
        return n.asText();
    }
}
