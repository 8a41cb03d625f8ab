package org.rlhf4j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.rlhf4j.core.io.Json;

/**
 * Builds a compact byte-level BPE vocabulary: a real {@code tokenizer.json} over a subset of a base tokenizer's
 * vocabulary (GPT-2's), with its own contiguous ids, that any Hugging Face {@code tokenizers} runtime (DJL in Java,
 * {@code AutoTokenizer} in Python) loads as-is.
 *
 * <p>Small CPU models spend most of their time in the vocabulary projection (d·V per token); restricting V to the
 * tokens that occur in the training data makes the tiny preset much faster. The kept set is
 *
 * <ol>
 *   <li>the <em>seen</em> tokens: every base token that occurs in the given texts, plus EOS, in base-id order
 *       (compact ids {@code 0..k-1});
 *   <li>then, in base-id order, every token that the base merges build on the way to a seen token (the BPE
 *       derivation of each seen token) and the 256 byte-level symbols.
 * </ol>
 *
 * <p>The merges are the base merges, in the base order, whose two parts and result are all kept. Because every merge
 * that the base BPE applies to a word made of seen tokens is still there, in the same relative order, such text is
 * tokenized exactly as the base tokenizer does (renumbered); any other text is spelled with shorter kept tokens, down
 * to single bytes, so every text encodes to ids below V and decodes back to itself. There is no unknown token.
 * See docs/decisions/0011-compact-vocabulary-tokenizer-json.md.
 */
public final class CompactVocabulary {

    private CompactVocabulary() {}

    /**
     * Builds the compact vocabulary of the tokens that occur in some texts.
     *
     * @param base a byte-level BPE {@link HfTokenizer} such as {@link Gpt2Tokenizers#bundled()} (closed here)
     * @param texts the texts (typically every query and response of the training data)
     * @return the compact tokenizer; its {@code save} writes the compact {@code tokenizer.json}
     * @throws IllegalArgumentException when the base is not a byte-level BPE {@code tokenizer.json}
     */
    public static HfTokenizer fromTexts(Tokenizer base, List<String> texts) {
        try (base) {
            if (!(base instanceof HfTokenizer hf)) {
                throw new IllegalArgumentException(
                        "a compact vocabulary needs a tokenizer.json base, got " + base.getClass().getSimpleName());
            }
            TreeSet<Integer> seen = new TreeSet<>();
            seen.add(base.eosTokenId());
            for (int[] enc : base.encodeAll(texts)) {
                for (int id : enc) {
                    seen.add(id);
                }
            }
            String json = tokenizerJson(hf.json(), seen.stream().mapToInt(Integer::intValue).toArray());
            return HfTokenizer.fromJson(json, java.nio.file.Path.of("compact-vocabulary"));
        } catch (IOException e) {
            throw new UncheckedIOException("the compact tokenizer.json does not load", e);
        }
    }

    /**
     * Returns the compact {@code tokenizer.json} for a set of seen base ids.
     *
     * @param baseJson the base {@code tokenizer.json} (BPE model, ByteLevel pre-tokenizer, no subword affixes)
     * @param seenBaseIds base ids that keep the lowest compact ids, in this order (the base EOS among them)
     * @return the JSON
     * @throws IllegalArgumentException when the base is not byte-level BPE or an id is unknown
     */
    public static String tokenizerJson(String baseJson, int[] seenBaseIds) {
        ObjectNode root;
        try {
            root = (ObjectNode) Json.MAPPER.readTree(baseJson);
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException("the base tokenizer.json is not a JSON object", e);
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new IllegalArgumentException("a compact vocabulary needs a BPE model, got model.type '"
                    + model.path("type").asText() + "'");
        }
        if (!"ByteLevel".equals(root.path("pre_tokenizer").path("type").asText())) {
            throw new IllegalArgumentException("a compact vocabulary needs a ByteLevel pre_tokenizer, got "
                    + root.path("pre_tokenizer"));
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(affix).asText("").isEmpty()) {
                throw new IllegalArgumentException("a compact vocabulary needs no model." + affix + ", got '"
                        + model.path(affix).asText() + "'");
            }
        }
        Map<Integer, String> byId = new HashMap<>();
        model.path("vocab").fields().forEachRemaining(e -> byId.put(e.getValue().asInt(), e.getKey()));
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode a : root.path("added_tokens")) {
            added.put(a.path("id").asInt(), a);
            byId.putIfAbsent(a.path("id").asInt(), a.path("content").asText());
        }
        Map<String, Integer> baseVocab = new HashMap<>();
        model.path("vocab").fields().forEachRemaining(e -> baseVocab.put(e.getKey(), e.getValue().asInt()));
        List<String[]> merges = new ArrayList<>();
        boolean mergesAsArrays = false;
        for (JsonNode m : model.path("merges")) {
            String[] pair;
            if (m.isArray()) {
                mergesAsArrays = true;
                pair = new String[] {m.get(0).asText(), m.get(1).asText()};
            } else {
                pair = m.asText().split(" ", 2);
            }
            merges.add(pair);
        }
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) {
            rank.putIfAbsent(key(merges.get(i)[0], merges.get(i)[1]), i);
        }

        // compact ids: the seen ids in the given order, then derivation symbols and bytes in base-id order
        LinkedHashMap<String, Integer> vocab = new LinkedHashMap<>();
        Map<Integer, Integer> addedCompact = new LinkedHashMap<>();
        Set<String> assigned = new HashSet<>();
        TreeSet<Integer> extra = new TreeSet<>();
        int next = 0;
        for (int id : seenBaseIds) {
            String token = byId.get(id);
            if (token == null) {
                throw new IllegalArgumentException("base id " + id + " is not in the base vocabulary");
            }
            if (!assigned.add(token)) {
                throw new IllegalArgumentException("base id " + id + " ('" + token + "') listed twice");
            }
            if (added.containsKey(id)) {
                addedCompact.put(id, next);
            } else {
                for (String part : derivation(token, rank)) {
                    Integer partId = baseVocab.get(part);
                    if (partId == null) {
                        throw new IllegalArgumentException(
                                "'" + part + "' (on the way to '" + token + "') is not in the base vocabulary");
                    }
                    extra.add(partId);
                }
            }
            if (baseVocab.containsKey(token)) {
                vocab.put(token, next);
            }
            next++;
        }
        for (char c : byteAlphabet()) {
            Integer id = baseVocab.get(String.valueOf(c));
            if (id == null) {
                throw new IllegalArgumentException("byte symbol '" + c + "' is not in the base vocabulary");
            }
            extra.add(id);
        }
        for (int id : extra) {
            if (assigned.add(byId.get(id))) {
                vocab.put(byId.get(id), next++);
            }
        }

        ObjectNode out = root.deepCopy();
        ArrayNode addedOut = out.putArray("added_tokens");
        for (Map.Entry<Integer, Integer> e : addedCompact.entrySet()) {
            ObjectNode a = ((ObjectNode) added.get(e.getKey())).deepCopy();
            a.put("id", e.getValue());
            addedOut.add(a);
        }
        ObjectNode modelOut = (ObjectNode) out.get("model");
        ObjectNode vocabOut = Json.MAPPER.createObjectNode();
        vocab.forEach(vocabOut::put);
        modelOut.set("vocab", vocabOut);
        modelOut.putNull("unk_token");
        ArrayNode mergesOut = modelOut.putArray("merges");
        for (String[] m : merges) {
            if (vocab.containsKey(m[0]) && vocab.containsKey(m[1]) && vocab.containsKey(m[0] + m[1])) {
                if (mergesAsArrays) {
                    mergesOut.addArray().add(m[0]).add(m[1]);
                } else {
                    mergesOut.add(m[0] + " " + m[1]);
                }
            }
        }
        return Json.compact(out);
    }

    private static String key(String a, String b) {
        return a + '\u0000' + b;
    }

    /**
     * Returns every symbol that byte-level BPE builds on the way from a token's characters to the token: the
     * characters, each merge result, and the token itself.
     */
    static List<String> derivation(String token, Map<String, Integer> rank) {
        List<String> symbols = new ArrayList<>();
        token.codePoints().forEach(c -> symbols.add(new String(Character.toChars(c))));
        List<String> out = new ArrayList<>(symbols);
        while (symbols.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = rank.get(key(symbols.get(i), symbols.get(i + 1)));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
            out.add(symbols.get(best));
        }
        if (symbols.size() != 1 || !symbols.get(0).equals(token)) {
            throw new IllegalArgumentException("the base merges do not build '" + token + "' (they stop at "
                    + symbols + ")");
        }
        return out;
    }

    /** The 256 characters that GPT-2's byte-level pre-tokenizer maps bytes to. */
    static char[] byteAlphabet() {
        char[] out = new char[256];
        int n = 0;
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[n++] = printable ? (char) b : (char) (256 + extra++);
        }
        return out;
    }
}
