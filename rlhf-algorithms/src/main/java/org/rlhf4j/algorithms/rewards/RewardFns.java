package org.rlhf4j.algorithms.rewards;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.rlhf4j.core.model.ScalarModel;

/**
 * The built-in reward functions, the reward-model adapter, and {@link #parse}, which builds a {@link CompositeReward}
 * from a {@code NAME[(ARGS)][=WEIGHT]} list such as {@code "length(20),ends_with_eos=0.5"}.
 *
 * <table>
 * <caption>Built-ins (L = completion length, n-grams over lower-cased whitespace-separated words)</caption>
 * <tr><th>name</th><th>score</th></tr>
 * <tr><td>{@code length(T, unit)}</td><td>−|L − T|; L in chars (default, as TRL's GRPO quick start on TL;DR with
 * T = 20), words or tokens</td></tr>
 * <tr><td>{@code ends_with_eos}</td><td>1 if the completion's last id is EOS, else 0</td></tr>
 * <tr><td>{@code no_repetition(n)}</td><td>−(1 − distinct n-grams / n-grams), 0 below n words</td></tr>
 * <tr><td>{@code exact_answer(field)}</td><td>1 if the extracted, normalised final answer equals the row's field,
 * else 0; {@code null} when the row has no such field</td></tr>
 * <tr><td>{@code format}</td><td>1 if the regex matches the whole completion, else 0</td></tr>
 * </table>
 */
public final class RewardFns {

    /** Length unit of {@link #length}. */
    public enum Unit {
        /** Unicode code points of the completion text (Python's {@code len}). */
        CHARS,
        /** Whitespace-separated words of the completion text. */
        WORDS,
        /** Completion token ids, EOS included when present. */
        TOKENS
    }

    /** TRL's GRPO quick start target length: 20 characters. */
    public static final int DEFAULT_LENGTH_TARGET = 20;

    /** Default n-gram size of {@link #noRepetition}. */
    public static final int DEFAULT_NGRAM = 3;

    /** Default field of {@link #exactAnswer}. */
    public static final String DEFAULT_ANSWER_FIELD = "answer";

    /** TRL's {@code think_format_reward} pattern, matched with DOTALL: one think block, then anything. */
    public static final String THINK_FORMAT = "<think>(?!.*<think>)(.*?)</think>.*";

    /** The built-in names {@link #parse} knows. */
    public static final List<String> BUILT_INS =
            List.of("length", "ends_with_eos", "no_repetition", "exact_answer", "format");

    private static final Pattern WS = Pattern.compile("\\s+");

    private RewardFns() {}

    /**
     * TRL's GRPO quick-start length reward: −|chars − 20|.
     *
     * @return the reward function {@code length}
     */
    public static RewardFn length() {
        return length(DEFAULT_LENGTH_TARGET, Unit.CHARS);
    }

    /**
     * Rewards completions close to a target length: −|L − target|.
     *
     * @param target the target length (>= 0)
     * @param unit what L counts
     * @return the reward function {@code length}
     */
    public static RewardFn length(int target, Unit unit) {
        if (target < 0) {
            throw new IllegalArgumentException("length target must be >= 0, got " + target);
        }
        Objects.requireNonNull(unit, "unit");
        // 0.0 − |…| rather than −|…|: a perfect length scores +0.0, not −0.0
        return RewardFn.perSample("length", in -> 0.0 - Math.abs((double) lengthOf(in, unit) - target));
    }

    static int lengthOf(RewardInput in, Unit unit) {
        return switch (unit) {
            case CHARS -> in.completion().codePointCount(0, in.completion().length());
            case WORDS -> words(in.completion()).length;
            case TOKENS -> in.completionIds().length;
        };
    }

    /**
     * Rewards completions that end with EOS (that were not cut at the length limit).
     *
     * @param eosTokenId the EOS id
     * @return the reward function {@code ends_with_eos}: 1 or 0
     */
    public static RewardFn endsWithEos(int eosTokenId) {
        return RewardFn.perSample("ends_with_eos", in -> {
            int[] ids = in.completionIds();
            return ids.length > 0 && ids[ids.length - 1] == eosTokenId ? 1.0 : 0.0;
        });
    }

    /**
     * Penalises repeated word n-grams (Open-R1's repetition penalty with maximum penalty −1): the completion is
     * lower-cased and split at whitespace; with W words and n-grams g_1..g_{W−n+1}, the score is
     * −(1 − |distinct n-grams| / (W − n + 1)), in (−1, 0]; 0 when W &lt; n.
     *
     * @param n the n-gram size (>= 1)
     * @return the reward function {@code no_repetition}
     */
    public static RewardFn noRepetition(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("no_repetition n-gram size must be >= 1, got " + n);
        }
        return RewardFn.perSample("no_repetition", in -> {
            String[] w = words(in.completion().toLowerCase(Locale.ROOT));
            if (w.length < n) {
                return 0.0;
            }
            int total = w.length - n + 1;
            List<String> all = Arrays.asList(w);
            Set<List<String>> distinct = new HashSet<>();
            for (int i = 0; i < total; i++) {
                distinct.add(all.subList(i, i + n));
            }
            return (double) distinct.size() / total - 1.0; // −(1 − d/t), without −0.0
        });
    }

    /**
     * Rewards the right final answer of a verifiable task: 1 if {@link #normalise}({@link #extractAnswer}(completion))
     * equals {@code normalise(extractAnswer(row[field]))}, else 0; {@code null} (not applicable) when the row has no
     * such field or it is {@code null}.
     *
     * @param field the row field holding the reference answer
     * @return the reward function {@code exact_answer}
     */
    public static RewardFn exactAnswer(String field) {
        Objects.requireNonNull(field, "field");
        return RewardFn.perSample("exact_answer", in -> {
            Object gold = in.field(field);
            if (gold == null) {
                return null;
            }
            String want = normalise(extractAnswer(gold.toString()));
            String got = normalise(extractAnswer(in.completion()));
            return !got.isEmpty() && got.equals(want) ? 1.0 : 0.0;
        });
    }

    /**
     * Extracts a final answer: the text after the last {@code ####} (GSM8K) if there is one; otherwise the content of
     * the last {@code \boxed{...}} (braces balanced; to the end if unclosed); otherwise the last non-blank line.
     *
     * @param text the text
     * @return the answer (not normalised)
     */
    public static String extractAnswer(String text) {
        int hash = text.lastIndexOf("####");
        if (hash >= 0) {
            return text.substring(hash + 4);
        }
        int boxed = text.lastIndexOf("\\boxed{");
        if (boxed >= 0) {
            int start = boxed + "\\boxed{".length();
            int depth = 1;
            for (int i = start; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '{') {
                    depth++;
                } else if (c == '}' && --depth == 0) {
                    return text.substring(start, i);
                }
            }
            return text.substring(start);
        }
        String[] lines = text.split("\\R");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (!lines[i].isBlank()) {
                return lines[i];
            }
        }
        return "";
    }

    /**
     * Normalises an answer for comparison: trims, collapses whitespace runs to one space, lower-cases.
     *
     * @param s the answer
     * @return the normalised answer
     */
    public static String normalise(String s) {
        return WS.matcher(s.strip()).replaceAll(" ").toLowerCase(Locale.ROOT);
    }

    /**
     * TRL's {@code think_format_reward}: 1 if the completion is one {@code <think>...</think>} block followed by
     * anything, else 0.
     *
     * @return the reward function {@code format}
     */
    public static RewardFn format() {
        return format(Pattern.compile(THINK_FORMAT, Pattern.DOTALL));
    }

    /**
     * Rewards completions in a format: 1 if the pattern matches the whole completion text
     * ({@link java.util.regex.Matcher#matches()}), else 0. Compile with {@link Pattern#DOTALL} to let {@code .}
     * cross lines.
     *
     * @param pattern the pattern
     * @return the reward function {@code format}
     */
    public static RewardFn format(Pattern pattern) {
        Objects.requireNonNull(pattern, "pattern");
        return RewardFn.perSample("format", in -> pattern.matcher(in.completion()).matches() ? 1.0 : 0.0);
    }

    /**
     * A reward model as a reward function named {@value RewardModelFn#DEFAULT_NAME}.
     *
     * @param model the reward model
     * @param padId the padding id (PPO uses EOS)
     * @param microBatchSize rows per forward pass
     * @return the reward function
     */
    public static RewardModelFn rewardModel(ScalarModel model, int padId, int microBatchSize) {
        return new RewardModelFn(RewardModelFn.DEFAULT_NAME, model, padId, microBatchSize);
    }

    /**
     * Builds built-ins from a list; see {@link #parse(String, int, Map)}.
     *
     * @param spec the list
     * @param eosTokenId EOS id, for {@code ends_with_eos}
     * @return the combination
     */
    public static CompositeReward parse(String spec, int eosTokenId) {
        return parse(spec, eosTokenId, Map.of());
    }

    /**
     * Builds a combination from a comma-separated list of {@code NAME[(ARG,...)][=WEIGHT]} (weight 1 when omitted),
     * for example {@code "length(64,tokens)=0.5,ends_with_eos,reward_model"}. Built-ins and their arguments:
     * {@code length[(TARGET[,chars|words|tokens])]} (default 20, chars), {@code ends_with_eos},
     * {@code no_repetition[(N)]} (default 3), {@code exact_answer[(FIELD)]} (default {@code answer}),
     * {@code format} (TRL's think format; a custom pattern goes through {@code extra}). {@code extra} adds named
     * functions without arguments, such as a {@link RewardModelFn}.
     *
     * @param spec the list
     * @param eosTokenId EOS id, for {@code ends_with_eos}
     * @param extra more functions by name (names must not be built-in names)
     * @return the combination
     * @throws IllegalArgumentException naming the bad item and listing the valid names
     */
    public static CompositeReward parse(String spec, int eosTokenId, Map<String, RewardFn> extra) {
        Objects.requireNonNull(spec, "spec");
        for (String name : extra.keySet()) {
            if (BUILT_INS.contains(name)) {
                throw new IllegalArgumentException("extra reward function '" + name + "' clashes with a built-in; built-ins: "
                        + String.join(", ", BUILT_INS));
            }
        }
        List<String> valid = new ArrayList<>(BUILT_INS);
        valid.addAll(extra.keySet());
        List<String> items = splitTopLevel(spec);
        List<CompositeReward.Term> terms = new ArrayList<>();
        for (String item : items) {
            String s = item.strip();
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty item in reward list '" + spec + "'; expected NAME[(ARGS)][=WEIGHT],...");
            }
            double weight = 1.0;
            int eq = s.lastIndexOf('=');
            if (eq > s.lastIndexOf(')')) {
                String w = s.substring(eq + 1).strip();
                try {
                    weight = Double.parseDouble(w);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("reward weight '" + w + "' of '" + s + "' is not a number", e);
                }
                if (!Double.isFinite(weight)) {
                    throw new IllegalArgumentException("reward weight '" + w + "' of '" + s + "' must be finite");
                }
                s = s.substring(0, eq).strip();
            }
            String name = s;
            List<String> args = List.of();
            int open = s.indexOf('(');
            if (open >= 0) {
                if (!s.endsWith(")")) {
                    throw new IllegalArgumentException("reward item '" + item.strip() + "' has an unclosed '('");
                }
                name = s.substring(0, open).strip();
                String inner = s.substring(open + 1, s.length() - 1).strip();
                args = new ArrayList<>();
                for (String a : inner.split(",", -1)) {
                    args.add(a.strip());
                }
            }
            terms.add(new CompositeReward.Term(build(name, args, eosTokenId, extra, valid), weight));
        }
        return CompositeReward.of(terms);
    }

    private static RewardFn build(String name, List<String> args, int eos, Map<String, RewardFn> extra,
            List<String> valid) {
        switch (name) {
            case "length" -> {
                argCount(name, args, 2);
                int target = args.isEmpty() ? DEFAULT_LENGTH_TARGET : intArg(name, args.get(0));
                Unit unit = Unit.CHARS;
                if (args.size() == 2) {
                    try {
                        unit = Unit.valueOf(args.get(1).toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("unknown length unit '" + args.get(1)
                                + "'; valid units: chars, words, tokens", e);
                    }
                }
                return length(target, unit);
            }
            case "ends_with_eos" -> {
                argCount(name, args, 0);
                return endsWithEos(eos);
            }
            case "no_repetition" -> {
                argCount(name, args, 1);
                return noRepetition(args.isEmpty() ? DEFAULT_NGRAM : intArg(name, args.get(0)));
            }
            case "exact_answer" -> {
                argCount(name, args, 1);
                return exactAnswer(args.isEmpty() ? DEFAULT_ANSWER_FIELD : args.get(0));
            }
            case "format" -> {
                argCount(name, args, 0);
                return format();
            }
            default -> {
                RewardFn fn = extra.get(name);
                if (fn == null) {
                    throw new IllegalArgumentException(
                            "unknown reward function '" + name + "'; valid names: " + String.join(", ", valid));
                }
                argCount(name, args, 0);
                return fn.name().equals(name) ? fn : RewardFn.named(name, fn);
            }
        }
    }

    private static void argCount(String name, List<String> args, int max) {
        if (args.size() > max) {
            throw new IllegalArgumentException("reward function '" + name + "' takes at most " + max + " argument"
                    + (max == 1 ? "" : "s") + ", got " + args.size() + ": " + args);
        }
    }

    private static int intArg(String name, String a) {
        try {
            return Integer.parseInt(a);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("argument '" + a + "' of reward function '" + name + "' is not an integer",
                    e);
        }
    }

    private static List<String> splitTopLevel(String spec) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth < 0) {
                    throw new IllegalArgumentException("unbalanced ')' at index " + i + " of reward list '" + spec + "'");
                }
            } else if (c == ',' && depth == 0) {
                out.add(spec.substring(start, i));
                start = i + 1;
            }
        }
        out.add(spec.substring(start));
        return out;
    }

    private static String[] words(String s) {
        String t = s.strip();
        return t.isEmpty() ? new String[0] : WS.split(t);
    }

    /**
     * Lists the built-in names with their defaults, for help texts.
     *
     * @return name to description
     */
    public static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("length", "length[(TARGET[,chars|words|tokens])]: -|L - TARGET| (default 20 chars, TRL's GRPO quick start)");
        m.put("ends_with_eos", "ends_with_eos: 1 if the completion ends with EOS, else 0");
        m.put("no_repetition", "no_repetition[(N)]: -(1 - distinct word N-grams / N-grams), default N = 3");
        m.put("exact_answer", "exact_answer[(FIELD)]: 1 if the final answer equals the row's FIELD (default answer)");
        m.put("format", "format: 1 if the completion is <think>...</think> then anything (TRL's think_format_reward)");
        return m;
    }
}
