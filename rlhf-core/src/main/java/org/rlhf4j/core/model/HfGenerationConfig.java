package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * A model's {@code generation_config.json}: the decoding defaults its authors chose, as transformers'
 * {@code GenerationConfig} reads them ({@code generation/configuration_utils.py}). Not to be confused with
 * {@link org.rlhf4j.core.generation.GenerationConfig}, rlhf4j's sampling settings, which
 * {@link org.rlhf4j.core.generation.GenerationConfig#builder(HfGenerationConfig, int, int)} derives from this file.
 *
 * <p>Every modelled field is null (or, for the EOS ids, empty) when the file does not set it; transformers then
 * applies its defaults ({@code do_sample} false, {@code temperature} 1, {@code top_k} 50, {@code top_p} 1,
 * {@code repetition_penalty} 1, {@code max_length} 20). Fields not modelled ({@code transformers_version},
 * {@code _from_model_config}, beam settings...) are kept in {@link #extra()} and written back unchanged, so a model
 * that is loaded and saved keeps its file.
 *
 * @param bosTokenId {@code bos_token_id}, or null
 * @param eosTokenIds {@code eos_token_id}: one id or, for models that end text in several ways (Llama 3 instruct:
 *     {@code <|end_of_text|>} and {@code <|eot_id|>}), a list; empty when absent
 * @param padTokenId {@code pad_token_id}, or null
 * @param doSample {@code do_sample}, or null (transformers: false, i.e. greedy)
 * @param temperature {@code temperature} (≥ 0), or null
 * @param topP {@code top_p} in [0, 1], or null
 * @param topK {@code top_k} (≥ 0; 0 = off), or null
 * @param maxNewTokens {@code max_new_tokens} (&gt; 0), or null
 * @param maxLength {@code max_length} (prompt plus new tokens, ≥ 0), or null
 * @param repetitionPenalty {@code repetition_penalty} (&gt; 0), or null
 * @param extra the other fields, in file order
 */
public record HfGenerationConfig(
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Integer padTokenId,
        Boolean doSample,
        Double temperature,
        Double topP,
        Integer topK,
        Integer maxNewTokens,
        Integer maxLength,
        Double repetitionPenalty,
        Map<String, JsonNode> extra) {

    /** The file name in a model directory. */
    public static final String FILE = "generation_config.json";

    private static final Set<String> KNOWN = Set.of("bos_token_id", "eos_token_id", "pad_token_id", "do_sample",
            "temperature", "top_p", "top_k", "max_new_tokens", "max_length", "repetition_penalty");

    /** Validates the values (each message names the {@code generation_config.json} field). */
    public HfGenerationConfig {
        check(bosTokenId == null || bosTokenId >= 0, "bos_token_id", bosTokenId);
        check(eosTokenIds != null, "eos_token_id", "null (use an empty list for none)");
        eosTokenIds = List.copyOf(eosTokenIds);
        for (Integer id : eosTokenIds) {
            check(id >= 0, "eos_token_id", eosTokenIds);
        }
        check(padTokenId == null || padTokenId >= 0, "pad_token_id", padTokenId);
        check(temperature == null || (temperature >= 0 && Double.isFinite(temperature)), "temperature", temperature);
        check(topP == null || (topP >= 0 && topP <= 1), "top_p (in [0, 1])", topP);
        check(topK == null || topK >= 0, "top_k", topK);
        check(maxNewTokens == null || maxNewTokens > 0, "max_new_tokens (> 0)", maxNewTokens);
        check(maxLength == null || maxLength >= 0, "max_length", maxLength);
        check(repetitionPenalty == null || (repetitionPenalty > 0 && Double.isFinite(repetitionPenalty)),
                "repetition_penalty (> 0)", repetitionPenalty);
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra == null ? Map.of() : extra));
    }

    private static void check(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid " + field + ": " + value);
        }
    }

    /**
     * Returns whether decoding samples (transformers: {@code do_sample} true; absent means greedy).
     *
     * @return true when sampling
     */
    public boolean sampling() {
        return Boolean.TRUE.equals(doSample);
    }

    /**
     * Reads a {@code generation_config.json}.
     *
     * @param file the file
     * @return the config
     * @throws ModelFormatException when the file is missing, not a JSON object, or a field has the wrong type or an
     *     invalid value; the message names the file and the field
     */
    public static HfGenerationConfig read(Path file) throws ModelFormatException {
        JsonNode root = ConfigFields.readObject(file);
        try {
            Map<String, JsonNode> extra = ConfigFields.unknownFields(root, KNOWN);
            return new HfGenerationConfig(
                    optInt(file, root, "bos_token_id"),
                    eosIds(file, root),
                    optInt(file, root, "pad_token_id"),
                    optBoolean(file, root, "do_sample"),
                    optDouble(file, root, "temperature"),
                    optDouble(file, root, "top_p"),
                    optInt(file, root, "top_k"),
                    optInt(file, root, "max_new_tokens"),
                    optInt(file, root, "max_length"),
                    optDouble(file, root, "repetition_penalty"),
                    extra);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    /**
     * Reads {@code generation_config.json} of a model directory when it has one.
     *
     * @param dir the directory
     * @return the config, or empty when the directory has no such file
     * @throws ModelFormatException when the file exists but is malformed
     */
    public static Optional<HfGenerationConfig> readIfPresent(Path dir) throws ModelFormatException {
        Path f = dir.resolve(FILE);
        return Files.exists(f) ? Optional.of(read(f)) : Optional.empty();
    }

    private static Integer optInt(Path file, JsonNode root, String name) throws ModelFormatException {
        JsonNode n = root.get(name);
        return n == null || n.isNull() ? null : ConfigFields.intField(file, root, name, null);
    }

    private static Double optDouble(Path file, JsonNode root, String name) throws ModelFormatException {
        JsonNode n = root.get(name);
        return n == null || n.isNull() ? null : ConfigFields.doubleField(file, root, name, Double.NaN);
    }

    private static Boolean optBoolean(Path file, JsonNode root, String name) throws ModelFormatException {
        JsonNode n = root.get(name);
        return n == null || n.isNull() ? null : ConfigFields.booleanField(file, root, name, false);
    }

    private static List<Integer> eosIds(Path file, JsonNode root) throws ModelFormatException {
        JsonNode n = root.get("eos_token_id");
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (n.isArray()) {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                JsonNode v = n.get(i);
                if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                    throw new ModelFormatException(
                            file, "field 'eos_token_id[" + i + "]' must be an integer, got " + v);
                }
                ids.add(v.asInt());
            }
            return ids;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFormatException(
                    file, "field 'eos_token_id' must be an integer or a list of integers, got " + n);
        }
        return List.of(n.asInt());
    }

    /**
     * Returns the JSON object that {@link #write} writes: the set fields and the kept ones, keys sorted as
     * transformers' {@code to_json_string} sorts them. One EOS id is written as an integer, several as a list.
     *
     * @return the object
     */
    public ObjectNode toJson() {
        Map<String, JsonNode> all = new TreeMap<>(extra);
        ObjectNode known = Json.MAPPER.createObjectNode();
        if (bosTokenId != null) {
            known.put("bos_token_id", bosTokenId);
        }
        if (eosTokenIds.size() == 1) {
            known.put("eos_token_id", eosTokenIds.get(0));
        } else if (!eosTokenIds.isEmpty()) {
            eosTokenIds.forEach(known.putArray("eos_token_id")::add);
        }
        if (padTokenId != null) {
            known.put("pad_token_id", padTokenId);
        }
        if (doSample != null) {
            known.put("do_sample", doSample);
        }
        if (temperature != null) {
            known.put("temperature", temperature);
        }
        if (topP != null) {
            known.put("top_p", topP);
        }
        if (topK != null) {
            known.put("top_k", topK);
        }
        if (maxNewTokens != null) {
            known.put("max_new_tokens", maxNewTokens);
        }
        if (maxLength != null) {
            known.put("max_length", maxLength);
        }
        if (repetitionPenalty != null) {
            known.put("repetition_penalty", repetitionPenalty);
        }
        known.fields().forEachRemaining(f -> all.put(f.getKey(), f.getValue()));
        ObjectNode o = Json.MAPPER.createObjectNode();
        all.forEach(o::set);
        return o;
    }

    /**
     * Writes the file as transformers does (sorted keys, 2-space indent, final newline).
     *
     * @param file the target
     * @throws IOException on write failure
     */
    public void write(Path file) throws IOException {
        Files.writeString(file, Json.pythonStyle(toJson()) + "\n", StandardCharsets.UTF_8);
    }
}
