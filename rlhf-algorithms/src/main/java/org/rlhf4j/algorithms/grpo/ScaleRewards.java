package org.rlhf4j.algorithms.grpo;

import java.util.Locale;

/** Which standard deviation GRPO divides the group-centred rewards by (TRL's {@code scale_rewards}). */
public enum ScaleRewards {
    /** The unbiased std of the completion's own group (TRL's default, also {@code True}). */
    GROUP,
    /** The unbiased std of the whole generation batch (PPO Lite); the mean stays the group mean. */
    BATCH,
    /** No scaling: A = r − mean_group(r) (Dr. GRPO; also {@code False}). */
    NONE;

    /**
     * Parses TRL's name ({@code group}, {@code batch}, {@code none}, or {@code true}/{@code false}).
     *
     * @param name the name
     * @return the scaling
     * @throws IllegalArgumentException naming the bad value and listing the valid ones
     */
    public static ScaleRewards parse(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "group", "true" -> GROUP;
            case "batch" -> BATCH;
            case "none", "false" -> NONE;
            default -> throw new IllegalArgumentException(
                    "unknown scale_rewards '" + name + "' (valid: group, batch, none, true, false)");
        };
    }
}
