package org.rlhf4j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * What a Hugging Face model directory says about its tokenizer besides {@code tokenizer.json}: the named special
 * tokens of {@code tokenizer_config.json} / {@code special_tokens_map.json} and the chat templates of
 * {@code tokenizer_config.json} / {@code chat_template.jinja}.
 *
 * @param specialTokens the named special tokens that are set ({@code bos_token}, {@code eos_token},
 *     {@code unk_token}, {@code sep_token}, {@code pad_token}, {@code cls_token}, {@code mask_token}) to their text;
 *     these are also the variables a chat template sees
 * @param addBosToken {@code add_bos_token} when the config names it (transformers 5 ignores it when a
 *     {@code tokenizer.json} exists: the post-processor decides)
 * @param addEosToken {@code add_eos_token} when the config names it
 * @param chatTemplates the chat templates by name ({@code "default"} for a single template)
 * @param chatTemplateSource where the templates were read, for messages
 */
public record TokenizerConfig(
        Map<String, String> specialTokens,
        Optional<Boolean> addBosToken,
        Optional<Boolean> addEosToken,
        Map<String, String> chatTemplates,
        Path chatTemplateSource) {

    /** The config file name. */
    public static final String CONFIG_FILE = "tokenizer_config.json";

    /** The legacy special-tokens file name. */
    public static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";

    /** The stand-alone chat template file name (transformers 4.43+ writes it on save). */
    public static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    /** The named special-token attributes of transformers' {@code SPECIAL_TOKENS_ATTRIBUTES}, in its order. */
    public static final List<String> SPECIAL_TOKEN_NAMES =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    /** An empty config: no special tokens, no chat template. */
    public static final TokenizerConfig EMPTY =
            new TokenizerConfig(Map.of(), Optional.empty(), Optional.empty(), Map.of(), null);

    /**
     * Copies the maps.
     *
     * @param specialTokens named special tokens
     * @param addBosToken add_bos_token
     * @param addEosToken add_eos_token
     * @param chatTemplates templates by name
     * @param chatTemplateSource where they came from
     */
    public TokenizerConfig {
        specialTokens = Map.copyOf(specialTokens);
        chatTemplates = Map.copyOf(chatTemplates);
    }

    /**
     * Reads the files of a model directory; missing files give an empty part.
     *
     * @param dir the directory
     * @return the config
     * @throws ModelFormatException when a file is not valid JSON or a field has the wrong type (the message names
     *     the file and field)
     */
    public static TokenizerConfig read(Path dir) throws ModelFormatException {
        Path cfgFile = dir.resolve(CONFIG_FILE);
        JsonNode cfg = Files.exists(cfgFile) ? readJson(cfgFile) : Json.MAPPER.createObjectNode();
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKEN_NAMES) {
            tokenText(cfg.get(name), cfgFile, name).ifPresent(t -> tokens.put(name, t));
        }
        // transformers 5 tokenization_utils_base._from_pretrained: special_tokens_map.json is read only when the
        // config has no added_tokens_decoder, and then overrides the config's entries
        Path mapFile = dir.resolve(SPECIAL_TOKENS_FILE);
        if (!cfg.has("added_tokens_decoder") && Files.exists(mapFile)) {
            JsonNode map = readJson(mapFile);
            for (String name : SPECIAL_TOKEN_NAMES) {
                if (map.has(name)) {
                    Optional<String> t = tokenText(map.get(name), mapFile, name);
                    if (t.isPresent()) {
                        tokens.put(name, t.get());
                    } else {
                        tokens.remove(name);
                    }
                }
            }
        }
        Map<String, String> templates = new LinkedHashMap<>();
        Path source = cfgFile;
        JsonNode ct = cfg.get("chat_template");
        if (ct != null && ct.isTextual()) {
            templates.put("default", ct.asText());
        } else if (ct != null && ct.isArray()) {
            // a list of {"name": ..., "template": ...} (transformers' multiple templates)
            for (int i = 0; i < ct.size(); i++) {
                JsonNode t = ct.get(i);
                if (!t.path("name").isTextual() || !t.path("template").isTextual()) {
                    throw new ModelFormatException(cfgFile, "field 'chat_template[" + i
                            + "]' must be an object with string fields 'name' and 'template'");
                }
                templates.put(t.get("name").asText(), t.get("template").asText());
            }
        } else if (ct != null && !ct.isNull()) {
            throw new ModelFormatException(cfgFile, "field 'chat_template' must be a string or a list of "
                    + "{name, template}, not " + ct.getNodeType().toString().toLowerCase());
        }
        // transformers: "If independent chat template file(s) exist, they take priority over template entries in
        // the tokenizer config"
        Path jinja = dir.resolve(CHAT_TEMPLATE_FILE);
        if (Files.exists(jinja)) {
            try {
                templates.put("default", Files.readString(jinja, StandardCharsets.UTF_8));
                source = jinja;
            } catch (IOException e) {
                throw new ModelFormatException(jinja, "cannot read: " + e.getMessage(), e);
            }
        }
        return new TokenizerConfig(tokens, bool(cfg, "add_bos_token", cfgFile), bool(cfg, "add_eos_token", cfgFile),
                templates, source);
    }

    private static JsonNode readJson(Path file) throws ModelFormatException {
        try {
            JsonNode n = Json.MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
            if (n == null || !n.isObject()) {
                throw new ModelFormatException(file, "must hold a JSON object");
            }
            return n;
        } catch (ModelFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
    }

    /** A special token: a string, an AddedToken object {@code {"content": ...}}, or null. */
    private static Optional<String> tokenText(JsonNode n, Path file, String field) throws ModelFormatException {
        if (n == null || n.isNull()) {
            return Optional.empty();
        }
        if (n.isTextual()) {
            return Optional.of(n.asText());
        }
        if (n.isObject() && n.path("content").isTextual()) {
            return Optional.of(n.get("content").asText());
        }
        throw new ModelFormatException(file, "field '" + field + "' must be a string or an object with a string "
                + "'content', not " + n);
    }

    private static Optional<Boolean> bool(JsonNode cfg, String field, Path file) throws ModelFormatException {
        JsonNode n = cfg.get(field);
        if (n == null || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isBoolean()) {
            throw new ModelFormatException(file, "field '" + field + "' must be true or false, not " + n);
        }
        return Optional.of(n.asBoolean());
    }

    /**
     * Returns a named special token's text.
     *
     * @param name e.g. {@code bos_token}
     * @return the text, empty when not set
     */
    public Optional<String> token(String name) {
        return Optional.ofNullable(specialTokens.get(name));
    }

    /**
     * Returns the default chat template: the only one, or the one named {@code default}.
     *
     * @return the template text, empty when the model has none
     */
    public Optional<String> chatTemplate() {
        if (chatTemplates.containsKey("default")) {
            return Optional.of(chatTemplates.get("default"));
        }
        return Optional.empty();
    }
}
