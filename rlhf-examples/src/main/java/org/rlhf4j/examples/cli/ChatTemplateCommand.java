package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.core.tokenizer.ChatTemplate;
import org.rlhf4j.core.tokenizer.ChatTemplateException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j chat-template}: renders a conversation with a model's chat template, as transformers does. */
@Command(name = "chat-template", mixinStandardHelpOptions = true,
        description = "Print a conversation rendered with a model's chat template (the text transformers' "
                + "apply_chat_template(..., tokenize=False) gives), without a trailing newline.")
public final class ChatTemplateCommand implements Callable<Integer>, ResultCommand {

    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory with tokenizer_config.json (chat_template) or chat_template.jinja.")
    Path model;

    @Option(names = "--messages", required = true, paramLabel = "FILE",
            description = "JSON list of {\"role\": ..., \"content\": ...} objects.")
    Path messages;

    @Option(names = "--add-generation-prompt",
            description = "End with the header that opens an assistant turn.")
    boolean addGenerationPrompt;

    @Option(names = "--template", paramLabel = "NAME", defaultValue = "default",
            description = "Which of several named templates (default: ${DEFAULT-VALUE}).")
    String templateName;

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        List<ChatMessage> conversation = readMessages(messages);
        ChatTemplate template = ChatTemplate.load(model, templateName);
        String text;
        try {
            text = template.render(conversation, addGenerationPrompt);
        } catch (ChatTemplateException e) {
            throw new ChatTemplateException("chat template of " + model + " refused " + messages + ": "
                    + e.getMessage(), e);
        }
        result = text;
        PrintWriter out = spec.commandLine().getOut();
        out.print(text);
        out.flush();
        return 0;
    }

    /**
     * Reads a messages file: a JSON list of objects with string fields {@code role} and {@code content}.
     *
     * @param file the file
     * @return the messages
     * @throws ModelFormatException when the file is missing or malformed (the message names the index and field)
     */
    static List<ChatMessage> readMessages(Path file) throws ModelFormatException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new ModelFormatException(file, "must be a JSON list of {\"role\": ..., \"content\": ...} objects");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode m = root.get(i);
            if (!m.isObject()) {
                throw new ModelFormatException(file, "messages[" + i + "] is not an object");
            }
            for (String field : List.of("role", "content")) {
                if (!m.path(field).isTextual()) {
                    throw new ModelFormatException(file, "messages[" + i + "]: " + (m.has(field)
                            ? "field '" + field + "' must be a string" : "missing field '" + field + "'"));
                }
            }
            if (m.get("role").asText().isBlank()) {
                throw new ModelFormatException(file, "messages[" + i + "]: field 'role' is blank");
            }
            out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }
}
