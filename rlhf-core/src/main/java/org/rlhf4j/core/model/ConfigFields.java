package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/** Typed reads of {@code config.json} fields whose errors name the file and the field. */
final class ConfigFields {

    private ConfigFields() {}

    /**
     * Checks one constructor argument of a config record.
     *
     * @param ok whether the value is valid
     * @param field the {@code config.json} field name (with any constraint), for the message
     * @param value the value
     * @throws IllegalArgumentException {@code "invalid <field>: <value>"} when not ok
     */
    static void check(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid " + field + ": " + value);
        }
    }

    /**
     * Checks that the special token ids are inside the vocabulary.
     *
     * @param bos {@code bos_token_id}
     * @param eos {@code eos_token_id}
     * @param vocabSize {@code vocab_size}
     * @throws IllegalArgumentException naming the field, the vocabulary size and the value
     */
    static void checkTokenIds(int bos, int eos, int vocabSize) {
        check(eos >= 0 && eos < vocabSize, "eos_token_id (vocab_size=" + vocabSize + ")", eos);
        check(bos >= 0 && bos < vocabSize, "bos_token_id (vocab_size=" + vocabSize + ")", bos);
    }

    /**
     * Reads a {@code config.json} object that must be of one architecture.
     *
     * @param file the file
     * @param modelType the expected {@code model_type}
     * @param whenAbsent the type assumed when the field is absent ({@code gpt2} for the original GPT-2 files)
     * @return the object
     * @throws ModelFormatException when the file is missing or malformed, or of another architecture
     */
    static JsonNode readObjectOfType(Path file, String modelType, String whenAbsent) throws ModelFormatException {
        JsonNode root = readObject(file);
        String type = root.path("model_type").asText(whenAbsent);
        if (!modelType.equals(type)) {
            throw new ModelFormatException(
                    file, "field 'model_type' is '" + type + "', expected '" + modelType
                            + "' (ModelConfig.read and CausalLm.load accept every supported architecture)");
        }
        return root;
    }

    /**
     * Fields that describe the stored weights rather than the model ({@code dtype}, and {@code torch_dtype} as
     * transformers 4 named it): never kept, since weights are float32 in memory and {@link ModelFiles} writes both
     * for the dtype of each save.
     */
    static final Set<String> WEIGHT_DTYPE_FIELDS = Set.of("dtype", "torch_dtype");

    /**
     * Returns the fields a record does not model, in file order, to be written back unchanged (except
     * {@link #WEIGHT_DTYPE_FIELDS}, which each save rewrites).
     *
     * @param root the parsed object
     * @param known the modelled (or rewritten) field names
     * @return field name to value
     */
    static Map<String, JsonNode> unknownFields(JsonNode root, Set<String> known) {
        Map<String, JsonNode> extra = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!known.contains(f.getKey()) && !WEIGHT_DTYPE_FIELDS.contains(f.getKey())) {
                extra.put(f.getKey(), f.getValue());
            }
        }
        return extra;
    }

    /**
     * Starts a {@code config.json} object: {@code model_type}, then {@code architectures} unless the kept fields
     * have their own (a scalar-head model's).
     *
     * @param modelType the model type
     * @param architecture the default architecture class name
     * @param extra the kept fields
     * @return the object
     */
    static ObjectNode header(String modelType, String architecture, Map<String, JsonNode> extra) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model_type", modelType);
        if (!extra.containsKey("architectures")) {
            o.putArray("architectures").add(architecture);
        }
        return o;
    }

    /**
     * Appends the kept fields that the modelled ones did not write ({@code architectures} always).
     *
     * @param o the object
     * @param extra the kept fields
     * @return {@code o}
     */
    static ObjectNode appendExtra(ObjectNode o, Map<String, JsonNode> extra) {
        extra.forEach((k, v) -> {
            if (!o.has(k) || k.equals("architectures")) {
                o.set(k, v);
            }
        });
        return o;
    }

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
