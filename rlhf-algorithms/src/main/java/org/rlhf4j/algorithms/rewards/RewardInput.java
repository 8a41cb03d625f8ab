package org.rlhf4j.algorithms.rewards;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * One completion to score: the prompt and completion as text and as token ids, and the row's other fields (for
 * example the {@code answer} of a verifiable task), as the keyword arguments TRL passes to a reward function.
 *
 * <p>The id arrays are shared, not copied: reward functions must not modify them.
 *
 * @param prompt the prompt text
 * @param completion the completion text (special tokens skipped when decoded by {@link #batch})
 * @param fields the row's other fields by name (unmodifiable; values may be {@code null})
 * @param promptIds the prompt's token ids (unpadded)
 * @param completionIds the completion's token ids (unpadded, truncated after EOS, EOS included when present)
 */
public record RewardInput(String prompt, String completion, Map<String, Object> fields, int[] promptIds,
        int[] completionIds) {

    /** Validates and freezes the fields. */
    public RewardInput {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(completion, "completion");
        Objects.requireNonNull(fields, "fields");
        Objects.requireNonNull(promptIds, "promptIds");
        Objects.requireNonNull(completionIds, "completionIds");
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /**
     * Builds an input from text only (no token ids), for functions that only read text.
     *
     * @param prompt the prompt
     * @param completion the completion
     * @param fields the row's fields
     * @return the input
     */
    public static RewardInput ofText(String prompt, String completion, Map<String, Object> fields) {
        return new RewardInput(prompt, completion, fields, new int[0], new int[0]);
    }

    /**
     * Returns a field of the row.
     *
     * @param name the field name
     * @return its value, or {@code null} when the row has no such field
     */
    public Object field(String name) {
        return fields.get(name);
    }

    /**
     * Builds a batch by decoding prompts and completions (special tokens skipped).
     *
     * @param tokenizer decodes the ids
     * @param promptIds prompt ids, one per completion
     * @param completionIds completion ids
     * @param fields each row's fields, one map per completion ({@code null}: no fields for any row)
     * @return the batch
     */
    public static List<RewardInput> batch(Tokenizer tokenizer, List<int[]> promptIds, List<int[]> completionIds,
            List<Map<String, Object>> fields) {
        int n = completionIds.size();
        if (promptIds.size() != n || (fields != null && fields.size() != n)) {
            throw new IllegalArgumentException("need one prompt and one field map per completion, got " + promptIds.size()
                    + " prompts, " + (fields == null ? "no" : String.valueOf(fields.size())) + " field maps and " + n
                    + " completions");
        }
        List<RewardInput> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new RewardInput(tokenizer.decode(promptIds.get(i), true), tokenizer.decode(completionIds.get(i), true),
                    fields == null ? Map.of() : fields.get(i), promptIds.get(i), completionIds.get(i)));
        }
        return out;
    }
}
