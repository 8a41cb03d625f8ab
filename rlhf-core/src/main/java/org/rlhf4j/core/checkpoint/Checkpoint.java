package org.rlhf4j.core.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.CompactVocabTokenizer;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;

/**
 * Checkpoint directories: Hugging Face files ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}) plus, for training, {@code trainer_state.json}, {@code optimizer.safetensors} and
 * {@code provenance.json}; always written atomically through {@link AtomicDirectory}.
 */
public final class Checkpoint {

    /** Optimizer moments file name. */
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";

    private Checkpoint() {}

    /**
     * Saves a language model with its tokenizer and, when given, the training state, atomically.
     *
     * @param dir the checkpoint directory (replaced as a whole)
     * @param model the model
     * @param tokenizer the tokenizer (written as {@code tokenizer.json})
     * @param state trainer state or null
     * @param optimizer optimizer or null
     * @param provenance provenance or null
     * @throws IOException on failure; the previous checkpoint is then intact
     */
    public static void save(
            Path dir, CausalLm model, Tokenizer tokenizer, TrainerState state, AdamW optimizer, Provenance provenance)
            throws IOException {
        save(dir, model::save, tokenizer, state, optimizer, provenance);
    }

    /**
     * Saves any model (e.g. a {@link org.rlhf4j.core.model.ScalarModel}) with its tokenizer and training state,
     * atomically.
     *
     * @param dir the checkpoint directory (replaced as a whole)
     * @param modelWriter writes the model files into a directory
     * @param tokenizer the tokenizer
     * @param state trainer state or null
     * @param optimizer optimizer or null
     * @param provenance provenance or null
     * @throws IOException on failure; the previous checkpoint is then intact
     */
    public static void save(
            Path dir,
            AtomicDirectory.Filler modelWriter,
            Tokenizer tokenizer,
            TrainerState state,
            AdamW optimizer,
            Provenance provenance)
            throws IOException {
        AtomicDirectory.write(
                dir,
                tmp -> {
                    modelWriter.fill(tmp);
                    tokenizer.save(tmp);
                    if (state != null) {
                        state.write(tmp);
                    }
                    if (optimizer != null) {
                        optimizer.save(tmp.resolve(OPTIMIZER_FILE));
                    }
                    if (provenance != null) {
                        provenance.write(tmp);
                    }
                });
    }

    /**
     * Returns the tokenizer of a model directory: its {@code tokenizer.json} (compact vocabularies included, see
     * {@link org.rlhf4j.core.tokenizer.CompactVocabulary}), or the bundled GPT-2 tokenizer when there is none; with a
     * {@value CompactVocabTokenizer#FILE} beside it (directories written before compact vocabularies had a
     * {@code tokenizer.json} of their own), the legacy renumbering over it. Only reads: while a trainer is replacing
     * the directory, the last complete version is read ({@link AtomicReads}).
     *
     * @param dir the model directory
     * @return the tokenizer
     * @throws IOException when {@code tokenizer.json} or the vocabulary map exists but is malformed
     */
    public static Tokenizer tokenizerFor(Path dir) throws IOException {
        return AtomicReads.read(dir, Checkpoint::readTokenizer);
    }

    private static Tokenizer readTokenizer(Path dir) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Tokenizer base = Files.exists(f) ? HfTokenizer.load(f) : Gpt2Tokenizers.bundled();
        if (Files.exists(dir.resolve(CompactVocabTokenizer.FILE))) {
            try {
                return CompactVocabTokenizer.load(dir, base);
            } catch (IOException | RuntimeException e) {
                base.close();
                throw e;
            }
        }
        return base;
    }
}
