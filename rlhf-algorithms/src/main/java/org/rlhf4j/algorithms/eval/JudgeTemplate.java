package org.rlhf4j.algorithms.eval;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prompt templates of the {@link LlmJudge}, with the parsing of the judge's final choice.
 *
 * <p>{@link #DPO_CONCISE} and {@link #DPO_SIMPLE} are the two TL;DR prompts of Rafailov et al. 2023 (DPO, appendix
 * C.2; the concise one, "GPT-4 (C)", gave the paper's main results because the simple one, "GPT-4 (S)", favours
 * longer summaries). {@link #LETTER_ONLY} asks for the letter alone (cheapest; no explanation to audit).
 */
public enum JudgeTemplate {

    /** DPO's "GPT-4 (C)" prompt: precise and concise summaries preferred; answer "Preferred: A|B". */
    DPO_CONCISE("dpo-concise",
            "Which of the following summaries does a better job of summarizing the most important points in the given"
                    + " forum post, without including unimportant or irrelevant details? A good summary is both precise"
                    + " and concise.\n\n"
                    + "Post:\n{post}\n\n"
                    + "Summary A:\n{a}\n\n"
                    + "Summary B:\n{b}\n\n"
                    + "FIRST provide a one-sentence comparison of the two summaries, explaining which you prefer and why."
                    + " SECOND, on a new line, state only \"A\" or \"B\" to indicate your choice. Your response should use"
                    + " the format:\n"
                    + "Comparison: <one-sentence comparison and explanation>\n"
                    + "Preferred: <\"A\" or \"B\">"),

    /** DPO's "GPT-4 (S)" prompt: the same without the conciseness criterion. */
    DPO_SIMPLE("dpo-simple",
            "Which of the following summaries does a better job of summarizing the most important points in the given"
                    + " forum post?\n\n"
                    + "Post:\n{post}\n\n"
                    + "Summary A:\n{a}\n\n"
                    + "Summary B:\n{b}\n\n"
                    + "FIRST provide a one-sentence comparison of the two summaries, explaining which you prefer and why."
                    + " SECOND, on a new line, state only \"A\" or \"B\" to indicate your choice. Your response should use"
                    + " the format:\n"
                    + "Comparison: <one-sentence comparison and explanation>\n"
                    + "Preferred: <\"A\" or \"B\">"),

    /** A terse variant: the concise criterion, and only the letter as the answer. */
    LETTER_ONLY("letter-only",
            "Which of the following summaries does a better job of summarizing the most important points in the given"
                    + " forum post, without including unimportant or irrelevant details?\n\n"
                    + "Post:\n{post}\n\n"
                    + "Summary A:\n{a}\n\n"
                    + "Summary B:\n{b}\n\n"
                    + "Answer with a single letter, \"A\" or \"B\", and nothing else.");

    private static final Pattern PREFERRED = Pattern.compile(
            "(?i)(?:preferred|preference|final answer|answer|choice)(?: summary)?\\s*[:=\\-]\\s*(?:summary\\s+)?"
                    + "[\"'(\\[<]?([ab])[\"')\\]>]?[.!]?");
    private static final Pattern BARE = Pattern.compile("(?i)(?:summary\\s+)?[\"'(\\[<]?([ab])[\"')\\]>]?[.!]?");

    private final String id;
    private final String text;

    JudgeTemplate(String id, String text) {
        this.id = id;
        this.text = text;
    }

    /**
     * Returns the template's name on the command line.
     *
     * @return e.g. {@code dpo-concise}
     */
    public String id() {
        return id;
    }

    /**
     * Returns the template text with {@code {post}}, {@code {a}} and {@code {b}} placeholders.
     *
     * @return the text
     */
    public String text() {
        return text;
    }

    /**
     * Fills the template (summaries stripped of surrounding whitespace).
     *
     * @param post the post
     * @param first the summary shown as A
     * @param second the summary shown as B
     * @return the prompt
     */
    public String render(String post, String first, String second) {
        // single pass, so a summary containing "{b}" is not substituted again
        StringBuilder sb = new StringBuilder(text.length() + post.length() + first.length() + second.length());
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("{post}", i)) {
                sb.append(post);
                i += 6;
            } else if (text.startsWith("{a}", i)) {
                sb.append(first.strip());
                i += 3;
            } else if (text.startsWith("{b}", i)) {
                sb.append(second.strip());
                i += 3;
            } else {
                sb.append(text.charAt(i++));
            }
        }
        return sb.toString();
    }

    /**
     * Parses the judge's choice of position from its reply: the last line of the form {@code Preferred: X} (also
     * {@code Answer:}, {@code Choice:}, markdown emphasis and quotes tolerated), else a last non-empty line that is
     * only the letter ({@code B}, {@code "B"}, {@code Summary B}). Anything else, including a reply naming both letters
     * on its last line, is {@link Verdict#INVALID}; a choice is never guessed from free text.
     *
     * @param reply the reply text (null = invalid)
     * @return {@link Verdict#A} (first shown), {@link Verdict#B} (second shown) or {@link Verdict#INVALID}
     */
    public static Verdict parseChoice(String reply) {
        if (reply == null) {
            return Verdict.INVALID;
        }
        String[] lines = reply.split("\\R");
        Verdict found = null;
        String lastNonEmpty = null;
        for (String raw : lines) {
            String line = clean(raw);
            if (line.isEmpty()) {
                continue;
            }
            lastNonEmpty = line;
            Matcher m = PREFERRED.matcher(line);
            if (m.matches()) {
                found = letter(m.group(1));
            }
        }
        if (found != null) {
            return found;
        }
        if (lastNonEmpty != null) {
            Matcher m = BARE.matcher(lastNonEmpty);
            if (m.matches()) {
                return letter(m.group(1));
            }
        }
        return Verdict.INVALID;
    }

    private static String clean(String line) {
        return line.replaceAll("[*_`#]", "").strip();
    }

    private static Verdict letter(String s) {
        return s.toUpperCase(Locale.ROOT).equals("A") ? Verdict.A : Verdict.B;
    }

    /**
     * Looks a template up by its id or enum name.
     *
     * @param name e.g. {@code dpo-concise} or {@code DPO_CONCISE}
     * @return the template
     */
    public static JudgeTemplate named(String name) {
        for (JudgeTemplate t : values()) {
            if (t.id.equalsIgnoreCase(name) || t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        StringBuilder ids = new StringBuilder();
        for (JudgeTemplate t : values()) {
            ids.append(ids.length() == 0 ? "" : ", ").append(t.id);
        }
        throw new IllegalArgumentException("unknown judge template '" + name + "' (" + ids + ")");
    }
}
