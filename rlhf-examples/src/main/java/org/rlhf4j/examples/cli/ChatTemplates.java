package org.rlhf4j.examples.cli;

import java.nio.file.Path;
import java.util.Optional;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.ChatTemplateException;

/**
 * Where the command line finds a model's chat template: the single place the training commands get the
 * {@link ChatRenderer} that renders conversational {@code --data} rows and {@code --chat} prompts
 * ({@link TrainOptions#newTask}).
 */
public final class ChatTemplates {

    private ChatTemplates() {}

    /**
     * Returns the chat template of a model directory (its {@code tokenizer_config.json} {@code chat_template} or
     * {@code chat_template.jinja}, as transformers reads them).
     *
     * @param modelDir the model directory, or null for a from-scratch model
     * @return the renderer, or empty when the model has none
     */
    public static Optional<ChatRenderer> of(Path modelDir) {
        if (modelDir == null) {
            return Optional.empty();
        }
        // TODO(coordinator): return the Jinja ChatTemplate loaded from modelDir here (empty when it has none)
        return Optional.empty();
    }

    /**
     * Says that a model has no chat template.
     *
     * @param modelDir the model directory, or null for a from-scratch model
     * @return e.g. {@code model runs/sft/model has no chat template}
     */
    public static String missing(Path modelDir) {
        return modelDir == null ? "a model trained from scratch (no --model) has no chat template"
                : "model " + modelDir + " has no chat template (no chat_template in its tokenizer_config.json, no"
                        + " chat_template.jinja)";
    }

    /**
     * Returns a renderer that fails with {@link #missing}: conversational rows then fail at their first line with
     * that message, naming the file and line.
     *
     * @param modelDir the model directory, or null
     * @return the failing renderer
     */
    static ChatRenderer missingRenderer(Path modelDir) {
        String why = missing(modelDir);
        return (messages, addGenerationPrompt) -> {
            throw new ChatTemplateException(why);
        };
    }
}
