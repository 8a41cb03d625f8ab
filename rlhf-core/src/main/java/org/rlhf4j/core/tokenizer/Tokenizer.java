package org.rlhf4j.core.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Text to token ids and back. Implementations never truncate and never add special tokens on their own: what the
 * caller passes is what gets encoded.
 */
public interface Tokenizer extends AutoCloseable {

    /**
     * Encodes text. Special tokens written literally (e.g. {@code <|endoftext|>}) map to their ids.
     *
     * @param text the text
     * @return token ids, never truncated
     */
    int[] encode(String text);

    /**
     * Encodes several texts (implementations may batch natively).
     *
     * @param texts the texts
     * @return ids per text
     */
    default List<int[]> encodeAll(List<String> texts) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(encode(t));
        }
        return out;
    }

    /**
     * Decodes ids to text, keeping special tokens.
     *
     * @param ids token ids
     * @return the text
     */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text.
     *
     * @param ids token ids
     * @param skipSpecialTokens whether to drop special tokens such as EOS
     * @return the text
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /**
     * Returns the vocabulary size (base vocabulary plus added tokens).
     *
     * @return V
     */
    int vocabSize();

    /**
     * Returns the end-of-sequence token id.
     *
     * @return the EOS id
     */
    int eosTokenId();

    /**
     * Writes this tokenizer as {@code tokenizer.json} into a directory.
     *
     * @param dir the directory
     * @throws IOException on write failure
     */
    void save(Path dir) throws IOException;

    /** Releases native resources. */
    @Override
    void close();
}
