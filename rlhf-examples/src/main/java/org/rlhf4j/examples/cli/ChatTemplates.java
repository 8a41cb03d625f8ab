package org.rlhf4j.examples.cli;

import java.nio.file.Path;
import java.util.Optional;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.ChatTemplate;
import org.rlhf4j.core.tokenizer.ChatTemplateException;
import org.rlhf4j.core.tokenizer.TokenizerConfig;

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
     * @return the renderer (a {@link ChatTemplate}, which also reports {@code {% generation %}} spans), or empty when
     *     the model has none
     * @throws IllegalArgumentException when {@code tokenizer_config.json} is malformed (the message names it)
     * @throws ChatTemplateException when the template has a syntax error
     */
    public static Optional<ChatRenderer> of(Path modelDir) {
        if (modelDir == null) {
            return Optional.empty();
        }
        try {
            if (TokenizerConfig.read(modelDir).chatTemplate().isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(ChatTemplate.load(modelDir));
        } catch (ModelFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
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
