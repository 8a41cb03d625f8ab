package org.rlhf4j.core.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * A {@link Tokenizer} over a Hugging Face {@code tokenizer.json}, run by DJL's bundled native {@code tokenizers}
 * library (offline).
 *
 * <p>DJL's {@code HuggingFaceTokenizer} truncates to 512 tokens and adds special tokens by default; both are turned
 * off here ({@code truncation=false, padding=false, addSpecialTokens=false}) so nothing is ever cut silently.
 *
 * <p>{@link #save} writes {@code tokenizer.json} with a {@value #CONFIG_FILE} and a {@value #SPECIAL_TOKENS_FILE}
 * that name the EOS token, so that {@code transformers.AutoTokenizer} loads the directory as a
 * {@code PreTrainedTokenizerFast} with the same ids; a tokenizer loaded from a directory that already had a
 * {@value #CONFIG_FILE} (e.g. a Hugging Face checkpoint) writes its files back unchanged instead.
 *
 * <p>Special tokens come from the {@link TokenizerConfig} beside {@code tokenizer.json} ({@value #CONFIG_FILE},
 * {@value #SPECIAL_TOKENS_FILE}): {@link #eosTokenId()} is the config's {@code eos_token} when it names one (else the
 * first of {@link #EOS_NAMES} found), {@link #bosTokenId()} and {@link #padTokenId()} are the config's
 * {@code bos_token} / {@code pad_token} when set. {@link #encode} never adds special tokens;
 * {@link #encodeWithSpecialTokens} adds what the {@code tokenizer.json} post-processor adds (transformers'
 * {@code tokenizer(text)}, e.g. Llama's BOS). Special tokens written in the text encode as single tokens either way.
 */
public final class HfTokenizer implements Tokenizer {

    /** Names tried, in order, for the EOS token when the caller does not give one. */
    static final List<String> EOS_NAMES = List.of("<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "[SEP]");

    private static final Map<String, String> OPTIONS =
            Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false", "modelMaxLength", "1000000000");

    /** The named special tokens rlhf4j gives ids for; the config naming one outside the vocabulary is an error. */
    private static final List<String> USED_SPECIAL_TOKENS = List.of("bos_token", "eos_token", "unk_token", "pad_token");

    /** {@code model_max_length} written to {@value #CONFIG_FILE}: no limit (the model config has the real one). */
    private static final long MAX_LENGTH = 1_000_000_000L;

    /** The {@code transformers} tokenizer settings file written beside {@code tokenizer.json}. */
    public static final String CONFIG_FILE = "tokenizer_config.json";

    /** The {@code transformers} special-tokens file written beside {@code tokenizer.json}. */
    public static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";

    private final String json;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final int eosId;
    private final String eosToken;
    private final Map<String, String> sidecars;
    private final TokenizerConfig config;
    private final Map<String, Integer> specialIds;

    private HfTokenizer(String json, int vocabSize, int eosId, String eosToken, Map<String, String> sidecars,
            TokenizerConfig config, Map<String, Integer> specialIds) throws IOException {
        this.json = json;
        this.config = config;
        this.specialIds = specialIds;
        this.tokenizer =
                HuggingFaceTokenizer.newInstance(
                        new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), OPTIONS);
        this.vocabSize = vocabSize;
        this.eosId = eosId;
        this.eosToken = eosToken;
        this.sidecars = sidecars;
    }

    /**
     * Loads a {@code tokenizer.json}; a {@value #CONFIG_FILE} (and {@value #SPECIAL_TOKENS_FILE}) beside it is kept
     * for {@link #save}.
     *
     * @param file the file
     * @return the tokenizer
     * @throws ModelFormatException when the file is missing or not a tokenizer definition
     */
    public static HfTokenizer load(Path file) throws ModelFormatException {
        String text = read(file);
        Map<String, String> sidecars = new java.util.TreeMap<>();
        Path dir = file.toAbsolutePath().getParent();
        TokenizerConfig config = TokenizerConfig.EMPTY;
        if (dir != null && Files.exists(dir.resolve(CONFIG_FILE))) {
            for (String name : List.of(CONFIG_FILE, SPECIAL_TOKENS_FILE, TokenizerConfig.CHAT_TEMPLATE_FILE)) {
                if (Files.exists(dir.resolve(name))) {
                    sidecars.put(name, read(dir.resolve(name)));
                }
            }
        }
        if (dir != null) {
            config = TokenizerConfig.read(dir);
        }
        return fromJson(text, file, sidecars, config);
    }

    private static String read(Path file) throws ModelFormatException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Creates a tokenizer from the text of a {@code tokenizer.json}.
     *
     * @param text the JSON
     * @param source where it came from, for messages
     * @return the tokenizer
     * @throws ModelFormatException when the JSON is not a tokenizer definition
     */
    public static HfTokenizer fromJson(String text, Path source) throws ModelFormatException {
        return fromJson(text, source, Map.of(), TokenizerConfig.EMPTY);
    }

    private static HfTokenizer fromJson(String text, Path source, Map<String, String> sidecars,
            TokenizerConfig config) throws ModelFormatException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new ModelFormatException(source, "not valid JSON: " + e.getMessage(), e);
        }
        JsonNode vocab = root == null ? null : root.path("model").get("vocab");
        if (vocab == null || !vocab.isObject()) {
            throw new ModelFormatException(source, "missing field 'model.vocab'");
        }
        int size = 0;
        for (JsonNode id : vocab) {
            size = Math.max(size, id.asInt() + 1);
        }
        int eos = -1;
        String eosName = null;
        for (JsonNode added : root.path("added_tokens")) {
            size = Math.max(size, added.path("id").asInt() + 1);
        }
        for (String name : EOS_NAMES) {
            for (JsonNode added : root.path("added_tokens")) {
                if (eos < 0 && name.equals(added.path("content").asText())) {
                    eos = added.path("id").asInt();
                    eosName = name;
                }
            }
            if (eos < 0 && vocab.has(name)) {
                eos = vocab.get(name).asInt();
                eosName = name;
            }
        }
        Map<String, Integer> specialIds = new java.util.HashMap<>();
        for (Map.Entry<String, String> t : config.specialTokens().entrySet()) {
            int id = tokenId(root, t.getValue());
            if (id < 0 && !USED_SPECIAL_TOKENS.contains(t.getKey())) {
                continue; // sep/cls/mask: not used by rlhf4j (a chat template still sees their text)
            }
            if (id < 0) {
                throw new ModelFormatException(source.resolveSibling(CONFIG_FILE), "field '" + t.getKey() + "' is '"
                        + t.getValue() + "', which is neither an added token nor in the vocabulary of " + source);
            }
            specialIds.put(t.getKey(), id);
        }
        if (specialIds.containsKey("eos_token")) { // transformers' eos_token_id
            eos = specialIds.get("eos_token");
            eosName = config.specialTokens().get("eos_token");
        }
        if (eos < 0) {
            throw new ModelFormatException(
                    source, "no end-of-sequence token found among " + EOS_NAMES + " in 'added_tokens' or 'model.vocab'");
        }
        try {
            return new HfTokenizer(text, size, eos, eosName, Map.copyOf(sidecars), config, Map.copyOf(specialIds));
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(source, "not a valid tokenizer definition: " + e.getMessage(), e);
        }
    }

    /** {@inheritDoc} */
    @Override
    public int[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        return toInts(e.getIds());
    }

    private static int tokenId(JsonNode root, String token) {
        for (JsonNode added : root.path("added_tokens")) {
            if (token.equals(added.path("content").asText())) {
                return added.path("id").asInt();
            }
        }
        JsonNode v = root.path("model").path("vocab");
        return v.isObject() && v.has(token) ? v.get(token).asInt() : -1;
    }

    /**
     * Encodes text with the tokenizer's own special tokens, as transformers' {@code tokenizer(text)}
     * ({@code add_special_tokens=True}) does: whatever the {@code tokenizer.json} post-processor adds (Llama 2 and 3,
     * Mistral, TinyLlama: a leading BOS; GPT-2, Qwen: nothing). transformers 5 builds the post-processor from
     * {@code add_bos_token}/{@code add_eos_token} only when the directory has no {@code tokenizer.json}
     * ({@code tokenization_utils_base._from_pretrained} drops both keys when it has one), so the file decides here.
     *
     * @param text the text
     * @return token ids, never truncated
     */
    @Override
    public int[] encodeWithSpecialTokens(String text) {
        Encoding e = tokenizer.encode(text, true, false);
        return toInts(e.getIds());
    }

    /** {@inheritDoc} */
    @Override
    public OptionalInt bosTokenId() {
        return special("bos_token");
    }

    /** {@inheritDoc} */
    @Override
    public OptionalInt padTokenId() {
        return special("pad_token");
    }

    /**
     * Returns the unknown-token id ({@code unk_token} of the config).
     *
     * @return the id, empty when the config names none
     */
    public OptionalInt unkTokenId() {
        return special("unk_token");
    }

    private OptionalInt special(String name) {
        Integer id = specialIds.get(name);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * Returns the beginning-of-sequence token's text.
     *
     * @return e.g. {@code <s>}, empty when the config names none
     */
    public Optional<String> bosToken() {
        return config.token("bos_token");
    }

    /**
     * Returns what the files beside {@code tokenizer.json} say: named special tokens, chat templates.
     *
     * @return the config ({@link TokenizerConfig#EMPTY} when built from JSON text alone)
     */
    public TokenizerConfig config() {
        return config;
    }

    /** {@inheritDoc} */
    @Override
    public List<int[]> encodeAll(List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        Encoding[] es = tokenizer.batchEncode(texts, false, false);
        int[][] out = new int[es.length][];
        for (int i = 0; i < es.length; i++) {
            out[i] = toInts(es[i].getIds());
        }
        return List.of(out);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, skipSpecialTokens);
    }

    /** {@inheritDoc} */
    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /** {@inheritDoc} */
    @Override
    public int eosTokenId() {
        return eosId;
    }

    /**
     * Returns the end-of-sequence token's text.
     *
     * @return e.g. {@code <|endoftext|>}
     */
    public String eosToken() {
        return eosToken;
    }

    /**
     * Returns the {@code tokenizer.json} text this tokenizer was built from.
     *
     * @return the JSON
     */
    public String json() {
        return json;
    }

    /**
     * Writes {@code tokenizer.json}, {@value #CONFIG_FILE} and {@value #SPECIAL_TOKENS_FILE} into a directory.
     *
     * @param dir the directory
     * @throws IOException on write failure
     */
    @Override
    public void save(Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), json, StandardCharsets.UTF_8);
        if (!sidecars.isEmpty()) {
            for (Map.Entry<String, String> e : sidecars.entrySet()) {
                Files.writeString(dir.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
            }
            return;
        }
        ObjectNode special = Json.MAPPER.createObjectNode();
        special.put("bos_token", eosToken);
        special.put("eos_token", eosToken);
        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.setAll(special);
        config.put("add_bos_token", false);
        config.put("add_eos_token", false);
        config.put("clean_up_tokenization_spaces", false);
        config.put("model_max_length", MAX_LENGTH);
        ObjectNode decoder = config.putObject("added_tokens_decoder");
        try {
            for (JsonNode added : Json.MAPPER.readTree(json).path("added_tokens")) {
                ObjectNode a = ((ObjectNode) added).deepCopy();
                a.remove("id");
                decoder.set(added.path("id").asText(), a);
            }
        } catch (IOException e) {
            throw new IllegalStateException("tokenizer.json was valid when loaded", e);
        }
        Files.writeString(dir.resolve(CONFIG_FILE), Json.pretty(config) + "\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(SPECIAL_TOKENS_FILE), Json.pretty(special) + "\n", StandardCharsets.UTF_8);
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        tokenizer.close();
    }
}
