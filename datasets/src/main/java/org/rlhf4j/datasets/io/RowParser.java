package org.rlhf4j.datasets.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.datasets.ChatExample;
import org.rlhf4j.datasets.ChatPair;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.Conversation;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.TldrPost;

/**
 * Turns one JSON object into a {@link DataRow} for a given format, checking every field it uses.
 *
 * <p>Conversational rows (TRL's formats: {@code messages}; {@code prompt} [+ {@code completion}]; [{@code prompt} +]
 * {@code chosen} + {@code rejected}) hold lists of {@code {"role", "content"}} objects; a row is conversational when
 * its {@code prompt} (or, without a prompt, its {@code chosen}) is a list, as TRL's {@code is_conversational} decides.
 *
 * <p>Checks: required fields present and not null ({@code missing_field}), of the right JSON type
 * ({@code wrong_type}), required texts not blank ({@code empty_field}), {@code choice} in {0, 1}
 * ({@code bad_choice}). Errors name the file, line and field path, e.g. {@code summaries[1].text}.
 */
public final class RowParser {

    /** The prefix CarperAI puts before each chosen / rejected summary. */
    public static final String TLDR_PREFIX = "TL;DR:";

    private final String file;
    private final String defaultSplit;

    /**
     * Creates a parser for one file.
     *
     * @param file the file name used in messages
     * @param defaultSplit the split of rows that carry none
     */
    public RowParser(String file, String defaultSplit) {
        this.file = Objects.requireNonNull(file, "file");
        this.defaultSplit = Objects.requireNonNull(defaultSplit, "defaultSplit");
    }

    /**
     * Parses one row.
     *
     * @param row a JSON object
     * @param format the format (not {@link DataFormat#AUTO})
     * @param line the 1-based line number, for messages
     * @return the row
     * @throws DataFormatException when a field is missing, mistyped, empty or out of range
     */
    public DataRow parse(JsonNode row, DataFormat format, long line) {
        return switch (format) {
            case OPENAI_TLDR -> tldr(row, line);
            case OPENAI_COMPARISONS -> comparison(row, line);
            case PAIRS -> pair(row, line);
            case SFT -> sft(row, line);
            case PROMPTS -> prompt(row, line);
            case MESSAGES -> conversation(row, line);
            case AUTO -> throw new IllegalArgumentException("format AUTO must be resolved before parsing");
        };
    }

    private TldrPost tldr(JsonNode row, long line) {
        return new TldrPost(
                text(row, "id", "id", line, false),
                optText(row, "split", "split", line, defaultSplit),
                text(row, "subreddit", "subreddit", line, false),
                text(row, "title", "title", line, true),
                text(row, "post", "post", line, false),
                text(row, "summary", "summary", line, false));
    }

    private Comparison comparison(JsonNode row, long line) {
        JsonNode info = object(row, "info", "info", line);
        String id = text(info, "id", "info.id", line, false);
        Comparison.Kind kind;
        Prompt prompt;
        JsonNode article = info.get("article");
        if (article != null && !article.isNull()) {
            kind = Comparison.Kind.CNNDM;
            prompt = new Prompt.Article(text(info, "article", "info.article", line, false));
        } else {
            kind = Comparison.Kind.TLDR;
            String post = text(info, "post", "info.post", line, false);
            prompt =
                    new Prompt.Reddit(
                            text(info, "subreddit", "info.subreddit", line, false),
                            text(info, "title", "info.title", line, true),
                            post);
        }
        JsonNode summaries = row.get("summaries");
        if (summaries == null || summaries.isNull()) {
            throw error(line, "summaries", SkipReason.MISSING_FIELD, "missing");
        }
        if (!summaries.isArray()) {
            throw error(line, "summaries", SkipReason.WRONG_TYPE, "expected an array, got " + type(summaries));
        }
        if (summaries.size() != 2) {
            throw error(
                    line, "summaries", SkipReason.WRONG_TYPE, "expected 2 summaries, got " + summaries.size());
        }
        List<Comparison.Summary> list = new ArrayList<>(2);
        for (int i = 0; i < 2; i++) {
            String path = "summaries[" + i + "]";
            JsonNode s = summaries.get(i);
            if (!s.isObject()) {
                throw error(line, path, SkipReason.WRONG_TYPE, "expected an object, got " + type(s));
            }
            list.add(
                    new Comparison.Summary(
                            text(s, "text", path + ".text", line, false),
                            optText(s, "policy", path + ".policy", line, null),
                            optText(s, "note", path + ".note", line, null)));
        }
        JsonNode choice = row.get("choice");
        if (choice == null || choice.isNull()) {
            throw error(line, "choice", SkipReason.MISSING_FIELD, "missing");
        }
        if (!choice.isIntegralNumber()) {
            throw error(line, "choice", SkipReason.WRONG_TYPE, "expected an integer, got " + type(choice));
        }
        if (!choice.canConvertToInt() || (choice.intValue() != 0 && choice.intValue() != 1)) {
            throw error(line, "choice", SkipReason.BAD_CHOICE, "must be 0 or 1, got " + choice.asText());
        }
        Integer confidence = null;
        JsonNode extra = row.get("extra");
        if (extra != null && !extra.isNull()) {
            if (!extra.isObject()) {
                throw error(line, "extra", SkipReason.WRONG_TYPE, "expected an object, got " + type(extra));
            }
            JsonNode c = extra.get("confidence");
            if (c != null && !c.isNull()) {
                if (!c.isIntegralNumber() || !c.canConvertToInt()) {
                    throw error(
                            line, "extra.confidence", SkipReason.WRONG_TYPE, "expected an integer, got " + type(c));
                }
                confidence = c.intValue();
            }
        }
        return new Comparison(
                id,
                kind,
                prompt,
                list,
                choice.intValue(),
                optText(row, "worker", "worker", line, null),
                optText(row, "batch", "batch", line, null),
                text(row, "split", "split", line, false),
                confidence);
    }

    private DataRow pair(JsonNode row, long line) {
        JsonNode p = row.get("prompt");
        if (p == null || p.isNull()) {
            return implicitChatPair(row, line);
        }
        if (p.isArray()) {
            List<ChatMessage> prompt = chatPrompt(row, line);
            return new ChatPair(id(row, line), optText(row, "split", "split", line, defaultSplit), prompt,
                    messages(row, "chosen", line), messages(row, "rejected", line));
        }
        String promptText = text(row, "prompt", "prompt", line, false);
        String chosen = text(row, "chosen", "chosen", line, false);
        String rejected = text(row, "rejected", "rejected", line, false);
        Prompt prompt = Prompt.parse(promptText);
        if (chosen.startsWith(TLDR_PREFIX) && rejected.startsWith(TLDR_PREFIX)) {
            chosen = stripTldrPrefix(chosen);
            rejected = stripTldrPrefix(rejected);
            if (chosen.isBlank()) {
                throw error(line, "chosen", SkipReason.EMPTY_FIELD, "empty after the 'TL;DR:' prefix");
            }
            if (rejected.isBlank()) {
                throw error(line, "rejected", SkipReason.EMPTY_FIELD, "empty after the 'TL;DR:' prefix");
            }
            if (prompt instanceof Prompt.Raw raw && !raw.text().stripTrailing().endsWith(TLDR_PREFIX)) {
                prompt = new Prompt.Raw(raw.text() + "\n" + TLDR_PREFIX);
            }
        }
        return new PreferencePair(id(row, line), optText(row, "split", "split", line, defaultSplit), prompt, chosen,
                rejected);
    }

    private DataRow sft(JsonNode row, long line) {
        JsonNode p = row.get("prompt");
        JsonNode flag = row.get("label");
        if (flag != null && flag.isBoolean()) {
            // TRL's unpaired preference rows (prompt, completion, label: bool) are KTO's data
            throw error(line, "label", SkipReason.WRONG_TYPE, "a boolean: unpaired preference rows (prompt,"
                    + " completion, label: true|false; TRL's KTO format) are not supported by any rlhf4j trainer");
        }
        if (p != null && p.isArray()) {
            List<ChatMessage> prompt = chatPrompt(row, line);
            JsonNode c = row.get("completion");
            if (c == null || c.isNull()) {
                throw error(line, "completion", SkipReason.MISSING_FIELD, "missing (a conversational prompt needs a"
                        + " conversational completion)");
            }
            return new ChatExample(id(row, line), optText(row, "split", "split", line, defaultSplit), prompt,
                    messages(row, "completion", line));
        }
        String promptText = text(row, "prompt", "prompt", line, false);
        Prompt prompt;
        String completion;
        if (row.has("completion")) {
            completion = text(row, "completion", "completion", line, false);
            prompt = Prompt.parse(promptText);
        } else if (row.has("label")) {
            String label = text(row, "label", "label", line, false);
            completion = Character.isWhitespace(label.charAt(0)) ? label : " " + label;
            prompt = Prompt.parse(promptText);
            if (prompt instanceof Prompt.Raw raw) {
                prompt = new Prompt.Raw(stripTrailingSpaces(raw.text()));
            }
        } else {
            throw error(line, "completion", SkipReason.MISSING_FIELD, "missing (nor is there a 'label')");
        }
        return new SftExample(id(row, line), optText(row, "split", "split", line, defaultSplit), prompt, completion);
    }

    private PromptRow prompt(JsonNode row, long line) {
        JsonNode p = row.get("prompt");
        if (p != null && p.isArray()) {
            return new PromptRow(id(row, line), optText(row, "split", "split", line, defaultSplit),
                    new Prompt.Chat(chatPrompt(row, line)), null);
        }
        Prompt prompt = Prompt.parse(text(row, "prompt", "prompt", line, false));
        String reference = null;
        if (row.has("completion") && !row.get("completion").isNull()) {
            reference = text(row, "completion", "completion", line, false);
        } else if (row.has("label") && !row.get("label").isNull()) {
            String label = text(row, "label", "label", line, false);
            reference = Character.isWhitespace(label.charAt(0)) ? label : " " + label;
        }
        return new PromptRow(id(row, line), optText(row, "split", "split", line, defaultSplit), prompt, reference);
    }

    private Conversation conversation(JsonNode row, long line) {
        List<ChatMessage> messages = messages(row, "messages", line);
        boolean assistant = messages.stream().anyMatch(m -> ChatMessage.ASSISTANT.equals(m.role()));
        if (!assistant) {
            throw error(line, "messages", SkipReason.EMPTY_FIELD, "no assistant message: nothing to train on");
        }
        return new Conversation(id(row, line), optText(row, "split", "split", line, defaultSplit), messages);
    }

    /**
     * Parses a preference row without a prompt: the prompt is the longest run of leading messages that chosen and
     * rejected share, as TRL's {@code data_utils.extract_prompt} finds it (including its quirk: when one list is a
     * prefix of the other, the prompt stops one message before the shorter list's end).
     */
    private ChatPair implicitChatPair(JsonNode row, long line) {
        for (String f : List.of("chosen", "rejected")) {
            JsonNode v = row.get(f);
            if (v != null && v.isTextual()) {
                throw error(line, "prompt", SkipReason.MISSING_FIELD, "missing; an implicit prompt is extracted from"
                        + " conversational chosen/rejected only, and '" + f + "' is a string");
            }
        }
        List<ChatMessage> chosen = messages(row, "chosen", line);
        List<ChatMessage> rejected = messages(row, "rejected", line);
        int n = Math.min(chosen.size(), rejected.size());
        int idx = n - 1; // trl data_utils.extract_prompt: the loop variable's value when no message differs
        for (int i = 0; i < n; i++) {
            if (!chosen.get(i).equals(rejected.get(i))) {
                idx = i;
                break;
            }
        }
        if (idx <= 0) {
            throw error(line, "chosen", SkipReason.EMPTY_FIELD, "chosen and rejected share no leading message, so"
                    + " there is no implicit prompt; give a 'prompt' field");
        }
        List<ChatMessage> prompt = chosen.subList(0, idx);
        checkPromptEnd(prompt, "chosen", line);
        return new ChatPair(id(row, line), optText(row, "split", "split", line, defaultSplit), prompt,
                chosen.subList(idx, chosen.size()), rejected.subList(idx, rejected.size()));
    }

    /** A conversational prompt: a message list whose last message is a user or tool message. */
    private List<ChatMessage> chatPrompt(JsonNode row, long line) {
        List<ChatMessage> prompt = messages(row, "prompt", line);
        checkPromptEnd(prompt, "prompt", line);
        return prompt;
    }

    /**
     * Checks the last role of a prompt as TRL's {@code data_utils.apply_chat_template} does: user or tool get the
     * generation prompt; assistant would need {@code continue_final_message}, which rlhf4j does not offer; any other
     * role is an error.
     */
    private void checkPromptEnd(List<ChatMessage> prompt, String field, long line) {
        int last = prompt.size() - 1;
        String role = prompt.get(last).role();
        if (!role.equals(ChatMessage.USER) && !role.equals("tool")) {
            throw error(line, field + "[" + last + "].role", SkipReason.WRONG_TYPE, "the prompt's last message is '"
                    + role + "'; it must be 'user' or 'tool' (the model answers it"
                    + (role.equals(ChatMessage.ASSISTANT) ? "; continuing a final assistant message is not supported"
                    : "") + ")");
        }
    }

    /**
     * Parses a list of messages: a non-empty JSON array of objects with a non-blank string {@code role} and a string
     * {@code content} (may be empty); errors name the element, e.g. {@code messages[2].content}.
     */
    private List<ChatMessage> messages(JsonNode row, String field, long line) {
        JsonNode v = row.get(field);
        if (v == null || v.isNull()) {
            throw error(line, field, SkipReason.MISSING_FIELD, "missing");
        }
        if (!v.isArray()) {
            throw error(line, field, SkipReason.WRONG_TYPE, "expected a list of messages ({\"role\": ..., \"content\":"
                    + " ...} objects), got " + type(v));
        }
        if (v.isEmpty()) {
            throw error(line, field, SkipReason.EMPTY_FIELD, "no messages");
        }
        List<ChatMessage> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            String path = field + "[" + i + "]";
            JsonNode m = v.get(i);
            if (!m.isObject()) {
                throw error(line, path, SkipReason.WRONG_TYPE, "expected a message object {\"role\": ..., \"content\":"
                        + " ...}, got " + type(m));
            }
            JsonNode tools = m.get("tool_calls");
            if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
                throw error(line, path + ".tool_calls", SkipReason.WRONG_TYPE, "tool calls are not supported");
            }
            String role = text(m, "role", path + ".role", line, false);
            JsonNode c = m.get("content");
            if (c != null && c.isArray()) {
                throw error(line, path + ".content", SkipReason.WRONG_TYPE, "expected a string, got an array"
                        + " (multimodal content parts are not supported)");
            }
            out.add(new ChatMessage(role, text(m, "content", path + ".content", line, true)));
        }
        return out;
    }

    /**
     * Removes CarperAI's {@code "TL;DR: "} prefix and restores OpenAI's response text: CarperAI wrote
     * {@code "TL;DR: " + text}, and OpenAI's texts begin with a space, so {@code "TL;DR:  Snooped"} becomes
     * {@code " Snooped"}; a text without its own leading space gets one ({@code "TL;DR: I'm"} becomes
     * {@code " I'm"}), because the query ends with {@code "TL;DR:"}.
     *
     * @param s a response starting with {@code "TL;DR:"}
     * @return the response text before EOS
     */
    static String stripTldrPrefix(String s) {
        String rest = s.substring(TLDR_PREFIX.length());
        if (rest.startsWith(" ")) {
            rest = rest.substring(1);
        }
        if (rest.isBlank()) {
            return rest;
        }
        return Character.isWhitespace(rest.charAt(0)) ? rest : " " + rest;
    }

    private static String stripTrailingSpaces(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
            end--;
        }
        return s.substring(0, end);
    }

    private String id(JsonNode row, long line) {
        JsonNode id = row.get("id");
        if (id == null || id.isNull()) {
            return file + ":" + line;
        }
        if (!id.isTextual() && !id.isIntegralNumber()) {
            throw error(line, "id", SkipReason.WRONG_TYPE, "expected a string or an integer, got " + type(id));
        }
        return id.asText();
    }

    private JsonNode object(JsonNode node, String name, String path, long line) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw error(line, path, SkipReason.MISSING_FIELD, "missing");
        }
        if (!v.isObject()) {
            throw error(line, path, SkipReason.WRONG_TYPE, "expected an object, got " + type(v));
        }
        return v;
    }

    private String text(JsonNode node, String name, String path, long line, boolean allowEmpty) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw error(line, path, SkipReason.MISSING_FIELD, "missing");
        }
        if (!v.isTextual()) {
            throw error(line, path, SkipReason.WRONG_TYPE, "expected a string, got " + type(v));
        }
        String s = v.textValue();
        if (!allowEmpty && s.isBlank()) {
            throw error(line, path, SkipReason.EMPTY_FIELD, "empty");
        }
        return s;
    }

    private String optText(JsonNode node, String name, String path, long line, String fallback) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw error(line, path, SkipReason.WRONG_TYPE, "expected a string, got " + type(v));
        }
        return v.textValue();
    }

    private static String type(JsonNode v) {
        return switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NUMBER -> "a number (" + v.asText() + ")";
            case BOOLEAN -> "a boolean (" + v.asText() + ")";
            case STRING -> "a string (\"" + abbreviate(v.textValue()) + "\")";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "...";
    }

    private DataFormatException error(long line, String field, SkipReason reason, String detail) {
        return new DataFormatException(file, line, field, reason, detail);
    }
}
