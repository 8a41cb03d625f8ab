package org.rlhf4j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * Reads the compact vocabularies of directories written before rlhf4j wrote them as a real {@code tokenizer.json}
 * ({@link CompactVocabulary}): the full GPT-2 {@code tokenizer.json} plus a private {@value #FILE} that renumbers the
 * base ids into {@code [0, n)}, with every other base id mapped to one extra unknown id {@code n}.
 *
 * <p>Text is tokenized exactly as the base tokenizer does, then renumbered; the unknown id decodes to nothing. Such
 * directories keep working in Java ({@link org.rlhf4j.core.checkpoint.Checkpoint#tokenizerFor}) and are written back
 * in the same form (the model's vocabulary has the unknown row), but {@code transformers} cannot load them: retrain
 * with a current version for a directory that loads anywhere (docs/decisions/0011-compact-vocabulary-tokenizer-json.md).
 */
public final class CompactVocabTokenizer implements Tokenizer {

    /** The mapping file written beside {@code tokenizer.json}. */
    public static final String FILE = "vocab_map.json";

    private final Tokenizer base;
    private final int[] toBase;
    private final int[] toCompact;

    private CompactVocabTokenizer(Tokenizer base, int[] baseIds) {
        this.base = base;
        this.toBase = baseIds.clone();
        this.toCompact = new int[base.vocabSize()];
        java.util.Arrays.fill(toCompact, -1);
        for (int i = 0; i < baseIds.length; i++) {
            if (baseIds[i] < 0 || baseIds[i] >= base.vocabSize()) {
                throw new IllegalArgumentException("base id " + baseIds[i] + " outside [0, " + base.vocabSize() + ")");
            }
            if (toCompact[baseIds[i]] >= 0) {
                throw new IllegalArgumentException("base id " + baseIds[i] + " listed twice");
            }
            toCompact[baseIds[i]] = i;
        }
        if (toCompact[base.eosTokenId()] < 0) {
            throw new IllegalArgumentException("the compact vocabulary must contain the EOS id " + base.eosTokenId());
        }
    }

    /**
     * Loads the mapping saved in a directory on top of a base tokenizer.
     *
     * @param dir the directory holding {@value #FILE}
     * @param base the base tokenizer (ownership moves here)
     * @return the tokenizer
     * @throws ModelFormatException when the file is missing or malformed
     */
    public static CompactVocabTokenizer load(Path dir, Tokenizer base) throws ModelFormatException {
        Path f = dir.resolve(FILE);
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(f));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(f, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(f, "not valid JSON: " + e.getMessage(), e);
        }
        JsonNode ids = root == null ? null : root.get("base_ids");
        if (ids == null || !ids.isArray() || ids.isEmpty()) {
            throw new ModelFormatException(f, "missing field 'base_ids'");
        }
        if (root.path("base_vocab_size").asInt(-1) != base.vocabSize()) {
            throw new ModelFormatException(f, "field 'base_vocab_size' is " + root.path("base_vocab_size")
                    + " but the base tokenizer has " + base.vocabSize() + " tokens");
        }
        int[] baseIds = new int[ids.size()];
        for (int i = 0; i < baseIds.length; i++) {
            baseIds[i] = ids.get(i).asInt();
        }
        try {
            return new CompactVocabTokenizer(base, baseIds);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f, "field 'base_ids': " + e.getMessage(), e);
        }
    }

    /**
     * Returns the id of unknown base tokens.
     *
     * @return n, the last id
     */
    public int unknownId() {
        return toBase.length;
    }

    /** {@inheritDoc} */
    @Override
    public int[] encode(String text) {
        return toCompact(base.encode(text));
    }

    /** {@inheritDoc} */
    @Override
    public List<int[]> encodeAll(List<String> texts) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (int[] ids : base.encodeAll(texts)) {
            out.add(toCompact(ids));
        }
        return out;
    }

    private int[] toCompact(int[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            int c = toCompact[ids[i]];
            out[i] = c < 0 ? unknownId() : c;
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        int[] b = new int[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id >= 0 && id < toBase.length) {
                b[n++] = toBase[id];
            }
        }
        return base.decode(java.util.Arrays.copyOf(b, n), skipSpecialTokens);
    }

    /** {@inheritDoc} */
    @Override
    public int vocabSize() {
        return toBase.length + 1;
    }

    /** {@inheritDoc} */
    @Override
    public int eosTokenId() {
        return toCompact[base.eosTokenId()];
    }

    /** {@inheritDoc} */
    @Override
    public void save(Path dir) throws IOException {
        base.save(dir);
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("base_vocab_size", base.vocabSize());
        root.put("unknown_id", unknownId());
        ArrayNode a = root.putArray("base_ids");
        for (int id : toBase) {
            a.add(id);
        }
        Files.writeString(dir.resolve(FILE), Json.compact(root) + "\n");
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        base.close();
    }
}
