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
    /** Preference pairs: prompt, chosen, rejected (CarperAI, trl-lib and user data). */
    PAIRS("pairs"),
    /** Supervised rows: prompt with completion (trl-lib, user data) or label (CarperAI). */
    SFT("sft"),
    /** Prompt-only rows for RL: prompt (and optionally a reference completion). */
    PROMPTS("prompts");

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
     * {@code summary} = openai-tldr; {@code prompt} + {@code chosen} + {@code rejected} = pairs; {@code prompt} +
     * ({@code completion} or {@code label}) = sft; {@code prompt} alone = prompts.
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
        if (row.has("prompt")) {
            if (row.has("chosen") && row.has("rejected")) {
                return PAIRS;
            }
            if (row.has("completion") || row.has("label")) {
                return SFT;
            }
            return PROMPTS;
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
