package org.rlhf4j.core.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Text to token ids and back. Implementations never truncate, and {@link #encode} never adds special tokens on its
 * own: what the caller passes is what gets encoded ({@link #encodeWithSpecialTokens} adds the tokenizer's own, as
 * transformers' {@code tokenizer(text)} does).
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
     * Encodes text adding the tokenizer's own special tokens, as transformers' {@code tokenizer(text)} does (e.g.
     * Llama's leading BOS). The default adds nothing.
     *
     * @param text the text
     * @return token ids, never truncated
     */
    default int[] encodeWithSpecialTokens(String text) {
        return encode(text);
    }

    /**
     * Returns the beginning-of-sequence token id.
     *
     * @return the BOS id, empty when the tokenizer has none (GPT-2 as bundled, Qwen)
     */
    default OptionalInt bosTokenId() {
        return OptionalInt.empty();
    }

    /**
     * Returns the padding token id the tokenizer names.
     *
     * @return the pad id, empty when it names none (GPT-2, Llama, Mistral)
     */
    default OptionalInt padTokenId() {
        return OptionalInt.empty();
    }

    /**
     * Returns the id to pad with: the pad token, or the EOS token when there is none, as TRL's trainers do
     * ({@code trl/trainer/sft_trainer.py}: {@code pad_token = args.pad_token or tokenizer.pad_token or
     * tokenizer.eos_token}; {@code dpo_trainer.py}: {@code if tokenizer.pad_token is None: tokenizer.pad_token =
     * tokenizer.eos_token}). Padded positions are masked out of attention and losses, so the choice never changes a
     * result.
     *
     * @return the pad id
     */
    default int padOrEosTokenId() {
        return padTokenId().orElse(eosTokenId());
    }

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
