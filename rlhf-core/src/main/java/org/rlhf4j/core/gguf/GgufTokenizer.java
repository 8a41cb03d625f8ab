package org.rlhf4j.core.gguf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * Rebuilds a Hugging Face {@code tokenizer.json} and its sidecar files from a GGUF file's {@code tokenizer.ggml.*}
 * metadata, the way transformers does ({@code integrations/gguf/gguf_tokenizer_mapping.py}).
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.model = "gpt2"}: byte-level BPE over the file's tokens and merges (tokens outside the
 *       byte alphabet re-spelled through it, as {@code byte_level_tokenizer}); the pre-tokenizer is chosen from
 *       {@code tokenizer.ggml.pre} as {@code set_split_regex} does (llama-bpe, qwen2, gpt-4o, tekken... split regex
 *       then ByteLevel without regex), else GPT-2's ByteLevel; ByteLevel decoder.</li>
 *   <li>{@code "llama"}: SentencePiece BPE with byte fallback ({@code LlamaTokenizer}: Metaspace pre-tokenizer with
 *       prepend scheme "first", Replace/ByteFallback/Fuse/Strip decoder); merges from the file or, when it has none,
 *       rebuilt from the vocabulary and scores as {@code tokenization_utils_base.generate_merges} does.</li>
 * </ul>
 * Tokens of type CONTROL (3) and the bos/eos/unk/pad tokens become special added tokens; USER_DEFINED (4) tokens
 * become non-special added tokens ({@code add_gguf_special_tokens}). Unlike transformers' GGUF loader, which drops
 * {@code tokenizer.ggml.add_bos_token}, the post-processor adds BOS/EOS as the file asks, as llama.cpp does.
 */
public final class GgufTokenizer {

    /** llama.cpp token types ({@code gguf.TokenType}). */
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;

    private static final String LLAMA3_SPLIT =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_SPLIT =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String TEKKEN_SPLIT =
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
                    + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
                    + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String GPT4O_SPLIT =
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
                    + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                    + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
                    + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                    + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** tokenizer.ggml.pre to split regex (gguf_tokenizer_mapping.py GGUF_PRE_TOKENIZER_SPLITS). */
    static final Map<String, String> PRE_SPLITS = Map.ofEntries(
            Map.entry("llama3", LLAMA3_SPLIT), Map.entry("llama-v3", LLAMA3_SPLIT),
            Map.entry("llama-bpe", LLAMA3_SPLIT), Map.entry("falcon3", LLAMA3_SPLIT),
            Map.entry("falcon-h1", LLAMA3_SPLIT), Map.entry("pixtral", LLAMA3_SPLIT),
            Map.entry("midm-2.0", LLAMA3_SPLIT), Map.entry("lfm2", LLAMA3_SPLIT),
            Map.entry("jina-v5-nano", LLAMA3_SPLIT), Map.entry("dbrx", LLAMA3_SPLIT),
            Map.entry("smaug-bpe", LLAMA3_SPLIT), Map.entry("tekken", TEKKEN_SPLIT),
            Map.entry("qwen2", QWEN2_SPLIT), Map.entry("deepseek-r1-qwen", QWEN2_SPLIT),
            Map.entry("kormo", QWEN2_SPLIT), Map.entry("f2llmv2", QWEN2_SPLIT), Map.entry("megrez", QWEN2_SPLIT),
            Map.entry("gpt-4o", GPT4O_SPLIT), Map.entry("llama4", GPT4O_SPLIT), Map.entry("kanana2", GPT4O_SPLIT),
            Map.entry("talkie", GPT4O_SPLIT), Map.entry("minimax-m2", GPT4O_SPLIT));

    /**
     * The files of a rebuilt tokenizer.
     *
     * @param tokenizerJson {@code tokenizer.json}
     * @param tokenizerConfig {@code tokenizer_config.json}
     * @param specialTokensMap {@code special_tokens_map.json}
     * @param bosId BOS id or -1
     * @param eosId EOS id or -1
     * @param padId PAD id or -1
     */
    public record Files(ObjectNode tokenizerJson, ObjectNode tokenizerConfig, ObjectNode specialTokensMap,
            int bosId, int eosId, int padId) {}

    private GgufTokenizer() {}

    /**
     * Builds the tokenizer files from a GGUF file's metadata.
     *
     * @param gguf the file
     * @return the files
     * @throws ModelFormatException when the tokenizer metadata is missing, malformed, or of an unsupported model
     */
    public static Files build(GgufFile gguf) throws ModelFormatException {
        String model = gguf.string("tokenizer.ggml.model");
        List<String> tokens = gguf.strings("tokenizer.ggml.tokens");
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, 1);
        if (gguf.has("tokenizer.ggml.token_type")) {
            List<Object> t = gguf.array("tokenizer.ggml.token_type");
            if (t.size() != tokens.size()) {
                throw new ModelFormatException(gguf.file(), "metadata 'tokenizer.ggml.token_type' has " + t.size()
                        + " entries for " + tokens.size() + " tokens");
            }
            for (int i = 0; i < types.length; i++) {
                types[i] = (int) (long) (Long) t.get(i);
            }
        }
        int bos = optId(gguf, "tokenizer.ggml.bos_token_id", tokens.size());
        int eos = optId(gguf, "tokenizer.ggml.eos_token_id", tokens.size());
        int unk = optId(gguf, "tokenizer.ggml.unknown_token_id", tokens.size());
        int pad = optId(gguf, "tokenizer.ggml.padding_token_id", tokens.size());
        boolean byteLevel;
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        root.putNull("normalizer");
        ObjectNode bpe = Json.MAPPER.createObjectNode();
        bpe.put("type", "BPE");
        bpe.putNull("dropout");
        bpe.putNull("unk_token");
        List<String> vocabTokens;
        List<String[]> merges;
        switch (model) {
            case "gpt2" -> {
                byteLevel = true;
                vocabTokens = respellByteLevel(tokens);
                merges = fileMerges(gguf);
                if (merges == null) {
                    throw new ModelFormatException(gguf.file(), "missing metadata key 'tokenizer.ggml.merges' "
                            + "(required by tokenizer.ggml.model 'gpt2')");
                }
                String split = gguf.has("tokenizer.ggml.pre") ? PRE_SPLITS.get(gguf.string("tokenizer.ggml.pre")) : null;
                ObjectNode pre = root.putObject("pre_tokenizer");
                if (split != null) {
                    // set_split_regex: Split(regex, isolated) then ByteLevel without its own regex
                    pre.put("type", "Sequence");
                    ArrayNode seq = pre.putArray("pretokenizers");
                    ObjectNode s = seq.addObject();
                    s.put("type", "Split");
                    s.putObject("pattern").put("Regex", split);
                    s.put("behavior", "Isolated");
                    s.put("invert", false);
                    seq.add(byteLevelNode(false, false));
                } else {
                    // GPT2Tokenizer: ByteLevel(add_prefix_space=False) with GPT-2's regex
                    pre.setAll(byteLevelNode(false, true));
                }
                bpe.put("continuing_subword_prefix", "");
                bpe.put("end_of_word_suffix", "");
                bpe.put("fuse_unk", false);
                bpe.put("byte_fallback", false);
            }
            case "llama" -> {
                byteLevel = false;
                vocabTokens = tokens;
                merges = fileMerges(gguf);
                if (merges == null) {
                    merges = generateMerges(tokens, scores(gguf, tokens.size()));
                }
                // LlamaTokenizer: Metaspace(replacement "▁", prepend_scheme "first", split false)
                ObjectNode pre = root.putObject("pre_tokenizer");
                pre.put("type", "Metaspace");
                pre.put("replacement", "\u2581");
                pre.put("prepend_scheme", "first");
                pre.put("split", false);
                bpe.putNull("continuing_subword_prefix");
                bpe.putNull("end_of_word_suffix");
                bpe.put("fuse_unk", true);
                bpe.put("byte_fallback", true);
            }
            default -> throw new ModelFormatException(gguf.file(), "metadata 'tokenizer.ggml.model' = '" + model
                    + "' is not supported (supported: gpt2, llama)");
        }
        bpe.put("ignore_merges", false);
        ObjectNode vocab = bpe.putObject("vocab");
        for (int i = 0; i < vocabTokens.size(); i++) {
            vocab.put(vocabTokens.get(i), i); // a duplicate token keeps its last id, as Python's dict does
        }
        ArrayNode mergeArray = bpe.putArray("merges");
        for (String[] m : merges) {
            mergeArray.addArray().add(m[0]).add(m[1]);
        }

        // added tokens (add_gguf_special_tokens plus the named special tokens), in id order
        TreeMap<Integer, Boolean> addedIds = new TreeMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] == CONTROL && (!byteLevel || inByteAlphabet(tokens.get(i)))) {
                addedIds.put(i, true);
            }
        }
        for (int id : new int[] {bos, eos, unk, pad}) {
            if (id >= 0) {
                addedIds.put(id, true);
            }
        }
        for (int i = 0; i < tokens.size(); i++) {
            // transformers adds a USER_DEFINED token only when its spelling is a key of the (re-spelled) vocabulary
            if (types[i] == USER_DEFINED && !addedIds.containsKey(i) && (!byteLevel || inByteAlphabet(tokens.get(i)))) {
                addedIds.put(i, false);
            }
        }
        for (Map.Entry<Integer, Boolean> e : addedIds.entrySet()) {
            ObjectNode a = added.addObject();
            a.put("id", e.getKey());
            a.put("content", tokens.get(e.getKey()));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", e.getValue());
        }

        boolean addBos = gguf.has("tokenizer.ggml.add_bos_token")
                ? Boolean.TRUE.equals(gguf.metadata().get("tokenizer.ggml.add_bos_token"))
                : "llama".equals(model); // llama.cpp's default for SentencePiece vocabularies
        boolean addEos = Boolean.TRUE.equals(gguf.metadata().get("tokenizer.ggml.add_eos_token"));
        addBos &= bos >= 0;
        addEos &= eos >= 0;
        root.set("post_processor", postProcessor(tokens, addBos ? bos : -1, addEos ? eos : -1));
        ObjectNode dec = root.putObject("decoder");
        if (byteLevel) {
            dec.setAll(byteLevelNode(true, true));
        } else {
            dec.put("type", "Sequence");
            ArrayNode ds = dec.putArray("decoders");
            ObjectNode r = ds.addObject();
            r.put("type", "Replace");
            r.putObject("pattern").put("String", "\u2581");
            r.put("content", " ");
            ds.addObject().put("type", "ByteFallback");
            ds.addObject().put("type", "Fuse");
            ObjectNode st = ds.addObject();
            st.put("type", "Strip");
            st.put("content", " ");
            st.put("start", 1);
            st.put("stop", 0);
        }
        root.set("model", bpe);

        ObjectNode special = Json.MAPPER.createObjectNode();
        putToken(special, "bos_token", tokens, bos);
        putToken(special, "eos_token", tokens, eos);
        putToken(special, "unk_token", tokens, unk);
        putToken(special, "pad_token", tokens, pad);
        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("add_bos_token", addBos);
        config.put("add_eos_token", addEos);
        config.setAll(special.deepCopy());
        config.put("clean_up_tokenization_spaces", false);
        config.put("model_max_length", 1_000_000_000L);
        if (gguf.has("tokenizer.chat_template")) {
            config.put("chat_template", gguf.string("tokenizer.chat_template"));
        }
        ObjectNode decoderMap = config.putObject("added_tokens_decoder");
        for (Map.Entry<Integer, Boolean> e : addedIds.entrySet()) {
            ObjectNode a = decoderMap.putObject(Integer.toString(e.getKey()));
            a.put("content", tokens.get(e.getKey()));
            a.put("lstrip", false);
            a.put("normalized", false);
            a.put("rstrip", false);
            a.put("single_word", false);
            a.put("special", e.getValue());
        }
        return new Files(root, config, special, bos, eos, pad);
    }

    private static void putToken(ObjectNode node, String key, List<String> tokens, int id) {
        if (id >= 0) {
            node.put(key, tokens.get(id));
        }
    }

    private static ObjectNode postProcessor(List<String> tokens, int bos, int eos) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        ArrayNode pair = p.putArray("pair");
        ObjectNode specials = Json.MAPPER.createObjectNode();
        for (int seq = 0; seq < 2; seq++) {
            ArrayNode target = seq == 0 ? single : pair;
            for (int part = 0; part <= seq; part++) {
                if (bos >= 0) {
                    target.addObject().putObject("SpecialToken").put("id", tokens.get(bos)).put("type_id", part);
                }
                target.addObject().putObject("Sequence").put("id", part == 0 ? "A" : "B").put("type_id", part);
                if (eos >= 0) {
                    target.addObject().putObject("SpecialToken").put("id", tokens.get(eos)).put("type_id", part);
                }
            }
        }
        for (int id : new int[] {bos, eos}) {
            if (id >= 0) {
                ObjectNode s = specials.putObject(tokens.get(id));
                s.put("id", tokens.get(id));
                s.putArray("ids").add(id);
                s.putArray("tokens").add(tokens.get(id));
            }
        }
        p.set("special_tokens", specials);
        return p;
    }

    private static ObjectNode byteLevelNode(boolean addPrefixSpace, boolean useRegex) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", true);
        n.put("use_regex", useRegex);
        return n;
    }

    private static int optId(GgufFile gguf, String key, int vocab) throws ModelFormatException {
        if (!gguf.has(key)) {
            return -1;
        }
        long id = gguf.integer(key);
        if (id < 0 || id >= vocab) {
            throw new ModelFormatException(gguf.file(), "metadata '" + key + "' = " + id + " is not a token id (vocab "
                    + vocab + ")");
        }
        return (int) id;
    }

    private static float[] scores(GgufFile gguf, int n) throws ModelFormatException {
        List<Object> s = gguf.array("tokenizer.ggml.scores");
        if (s.size() != n) {
            throw new ModelFormatException(gguf.file(), "metadata 'tokenizer.ggml.scores' has " + s.size()
                    + " entries for " + n + " tokens");
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = ((Number) s.get(i)).floatValue();
        }
        return out;
    }

    private static List<String[]> fileMerges(GgufFile gguf) throws ModelFormatException {
        if (!gguf.has("tokenizer.ggml.merges")) {
            return null;
        }
        List<String> raw = gguf.strings("tokenizer.ggml.merges");
        List<String[]> out = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            String m = raw.get(i);
            int sp = m.indexOf(' ');
            if (sp < 0 || m.indexOf(' ', sp + 1) >= 0) {
                throw new ModelFormatException(gguf.file(), "metadata 'tokenizer.ggml.merges' entry " + i + " '" + m
                        + "' is not two tokens separated by one space");
            }
            out.add(new String[] {m.substring(0, sp), m.substring(sp + 1)});
        }
        return out;
    }

    /**
     * Rebuilds BPE merges from a vocabulary and its scores: every split of a token into two tokens of the
     * vocabulary, ordered by descending score, then longer left part, then longer right part (ties keep vocabulary
     * order; within one token by the ids of the parts). Mirrors transformers'
     * {@code tokenization_utils_base.generate_merges(vocab, vocab_scores)}; lengths and splits are in code points, as
     * Python's.
     *
     * @param tokens the vocabulary in id order
     * @param scores one score per token
     * @return the merges, best first
     */
    static List<String[]> generateMerges(List<String> tokens, float[] scores) {
        Map<String, Integer> ids = new HashMap<>();
        Map<String, Float> byToken = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
            byToken.put(tokens.get(i), scores[i]);
        }
        record Merge(String left, String right, float score, int lenLeft, int lenRight) {}
        List<Merge> merges = new ArrayList<>();
        for (Map.Entry<String, Float> e : byToken.entrySet()) {
            String t = e.getKey();
            List<Merge> local = new ArrayList<>();
            int cps = t.codePointCount(0, t.length());
            for (int k = 1; k < cps; k++) {
                int cut = t.offsetByCodePoints(0, k);
                String l = t.substring(0, cut);
                String r = t.substring(cut);
                if (ids.containsKey(l) && ids.containsKey(r)) {
                    local.add(new Merge(l, r, e.getValue(), k, cps - k));
                }
            }
            local.sort((a, b) -> {
                int c = Integer.compare(ids.get(a.left()), ids.get(b.left()));
                return c != 0 ? c : Integer.compare(ids.get(a.right()), ids.get(b.right()));
            });
            merges.addAll(local);
        }
        // sorted(key=(score, len(l), len(r)), reverse=True): descending and stable
        merges.sort((a, b) -> {
            int c = Float.compare(b.score(), a.score());
            if (c != 0) {
                return c;
            }
            c = Integer.compare(b.lenLeft(), a.lenLeft());
            return c != 0 ? c : Integer.compare(b.lenRight(), a.lenRight());
        });
        List<String[]> out = new ArrayList<>(merges.size());
        for (Merge m : merges) {
            out.add(new String[] {m.left(), m.right()});
        }
        return out;
    }

    /** GPT-2's bytes_to_unicode: byte value to the printable character that spells it. */
    static final char[] BYTE_TO_CHAR = new char[256];

    static {
        boolean[] direct = new boolean[256];
        for (int b = 0; b < 256; b++) {
            direct[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            BYTE_TO_CHAR[b] = direct[b] ? (char) b : (char) (256 + n++);
        }
    }

    private static boolean inByteAlphabet(String token) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            boolean ok = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF)
                    || (c >= 256 && c < 256 + 68);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** byte_level_tokenizer: a token with a character outside the byte alphabet is spelled from its UTF-8 bytes. */
    private static List<String> respellByteLevel(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            if (inByteAlphabet(t)) {
                out.add(t);
            } else {
                StringBuilder sb = new StringBuilder();
                for (byte b : t.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    sb.append(BYTE_TO_CHAR[b & 0xFF]);
                }
                out.add(sb.toString());
            }
        }
        return out;
    }
}
