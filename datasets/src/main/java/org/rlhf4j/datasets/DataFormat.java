package org.rlhf4j.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/** The row formats the parsers understand, with detection from a file's first row. */
public enum DataFormat {
    /** Detect the format from the fields of the first row. */
    AUTO("auto"),
    /** OpenAI {@code tldr_3_filtered} rows: id, subreddit, title, post, summary. */
    OPENAI_TLDR("openai-tldr"),
    /** OpenAI comparison rows: info, summaries[2], choice, worker, batch, split, extra. */
    OPENAI_COMPARISONS("openai-comparisons"),
    /**
     * Preference pairs: prompt, chosen, rejected (CarperAI, trl-lib and user data); texts, or TRL's conversational
     * message lists, where the prompt may be implicit (chosen and rejected are whole conversations).
     */
    PAIRS("pairs"),
    /**
     * Supervised rows: prompt with completion (trl-lib, user data) or label (CarperAI); texts, or TRL's conversational
     * message lists.
     */
    SFT("sft"),
    /** Prompt-only rows for RL: prompt (and optionally a reference completion); a text or a message list. */
    PROMPTS("prompts"),
    /** TRL's conversational language-modelling rows: messages (a list of {role, content} objects). */
    MESSAGES("messages");

    private final String cliName;

    DataFormat(String cliName) {
        this.cliName = cliName;
    }

    /**
     * Returns the name used on the command line and in reports.
     *
     * @return e.g. {@code openai-comparisons}
     */
    public String cliName() {
        return cliName;
    }

    /**
     * Parses a command-line name (case-insensitive; enum constant names are accepted too).
     *
     * @param name e.g. {@code pairs}
     * @return the format
     * @throws IllegalArgumentException when the name is unknown (the message lists the valid names)
     */
    public static DataFormat parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (DataFormat f : values()) {
                if (f.cliName.equals(n) || f.name().toLowerCase(Locale.ROOT).equals(n)) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException("unknown data format '" + name + "'; expected one of " + names());
    }

    /**
     * Returns the command-line names of all formats.
     *
     * @return the names, in declaration order
     */
    public static List<String> names() {
        return Arrays.stream(values()).map(DataFormat::cliName).toList();
    }

    /**
     * Detects the format of a row from its field names.
     *
     * <p>Rules, first match wins: {@code info} + {@code summaries} = openai-comparisons; {@code post} +
     * {@code summary} = openai-tldr; {@code messages} = messages; {@code prompt} + {@code chosen} + {@code rejected}
     * = pairs; {@code prompt} + ({@code completion} or {@code label}) = sft; {@code prompt} alone = prompts;
     * {@code chosen} + {@code rejected} without a prompt = pairs (TRL's implicit prompt). Whether a row is
     * conversational is decided by its values (message lists or texts), as TRL's {@code is_conversational} does.
     *
     * @param row the first row of a file
     * @return the detected format, or {@link #AUTO} when none matches
     */
    public static DataFormat detect(JsonNode row) {
        if (row == null || !row.isObject()) {
            return AUTO;
        }
        if (row.has("info") && row.has("summaries")) {
            return OPENAI_COMPARISONS;
        }
        if (row.has("post") && row.has("summary")) {
            return OPENAI_TLDR;
        }
        if (row.has("messages")) {
            return MESSAGES;
        }
        if (row.has("prompt")) {
            if (row.has("chosen") && row.has("rejected")) {
                return PAIRS;
            }
            if (row.has("completion") || row.has("label")) {
                return SFT;
            }
            return PROMPTS;
        }
        if (row.has("chosen") && row.has("rejected")) {
            return PAIRS;
        }
        return AUTO;
    }

    /**
     * Lists a row's field names, for error messages.
     *
     * @param row a JSON object
     * @return its field names in order
     */
    public static List<String> fieldNames(JsonNode row) {
        List<String> out = new ArrayList<>();
        if (row != null) {
            for (Iterator<String> it = row.fieldNames(); it.hasNext(); ) {
                out.add(it.next());
            }
        }
        return out;
    }
}
