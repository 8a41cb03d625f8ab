package org.rlhf4j.core.lora;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Per-module ranks and alphas of a PEFT adapter ({@code rank_pattern}, {@code alpha_pattern} in
 * {@code adapter_config.json}): a module whose path matches a key uses that key's value instead of {@code r} /
 * {@code lora_alpha}. A key matches a module path p when p fully matches the regular expression
 * {@code (.*\.)?(key)} (PEFT {@code get_pattern_key} in {@code peft/utils/other.py}); the first matching key, in the
 * file's order, wins.
 *
 * @param rank module pattern to rank (insertion order kept)
 * @param alpha module pattern to α (insertion order kept)
 */
public record LoraPatterns(Map<String, Integer> rank, Map<String, Double> alpha) {

    /** No per-module values. */
    public static final LoraPatterns NONE = new LoraPatterns(Map.of(), Map.of());

    /**
     * Validates and copies the maps (keeping their order).
     *
     * @throws IllegalArgumentException when a key is not a regular expression, a rank is below 1 or an α not positive
     */
    public LoraPatterns {
        rank = Collections.unmodifiableMap(new LinkedHashMap<>(rank));
        alpha = Collections.unmodifiableMap(new LinkedHashMap<>(alpha));
        for (Map.Entry<String, Integer> e : rank.entrySet()) {
            compile(e.getKey());
            if (e.getValue() < 1) {
                throw new IllegalArgumentException("rank_pattern['" + e.getKey() + "'] must be >= 1, got "
                        + e.getValue());
            }
        }
        for (Map.Entry<String, Double> e : alpha.entrySet()) {
            compile(e.getKey());
            if (!(e.getValue() > 0) || e.getValue().isInfinite()) {
                throw new IllegalArgumentException("alpha_pattern['" + e.getKey() + "'] must be a finite number > 0, "
                        + "got " + e.getValue());
            }
        }
    }

    private static Pattern compile(String key) {
        try {
            return Pattern.compile("(.*\\.)?(" + key + ")");
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("pattern key '" + key + "' is not a regular expression: "
                    + e.getDescription(), e);
        }
    }

    /**
     * Returns whether there are no per-module values.
     *
     * @return true when both maps are empty
     */
    public boolean isEmpty() {
        return rank.isEmpty() && alpha.isEmpty();
    }

    /**
     * Returns a module's rank.
     *
     * @param module the module path
     * @param dflt {@code r}
     * @return the first matching key's rank, else {@code dflt}
     */
    public int rankOf(String module, int dflt) {
        for (Map.Entry<String, Integer> e : rank.entrySet()) {
            if (compile(e.getKey()).matcher(module).matches()) {
                return e.getValue();
            }
        }
        return dflt;
    }

    /**
     * Returns a module's α.
     *
     * @param module the module path
     * @param dflt {@code lora_alpha}
     * @return the first matching key's α, else {@code dflt}
     */
    public double alphaOf(String module, double dflt) {
        for (Map.Entry<String, Double> e : alpha.entrySet()) {
            if (compile(e.getKey()).matcher(module).matches()) {
                return e.getValue();
            }
        }
        return dflt;
    }
}
