package org.rlhf4j.algorithms.grpo;

import java.util.Locale;

/**
 * How GRPO's per-token losses ℓ_{i,t} (with completion mask m_{i,t}, B completions) are reduced to one number, as TRL's
 * {@code loss_type}.
 */
public enum GrpoLossType {
    /** (1/B) Σ_i (Σ_t m ℓ / max(Σ_t m, 1)): per-sequence token mean, then mean over sequences (length-biased). */
    GRPO,
    /** Σ m ℓ / max(Σ m, 1) over the local batch (batch-normalised). */
    BNPO,
    /** Σ m ℓ / (B · max_completion_length): a constant normaliser (Dr. GRPO, Liu et al. 2025). */
    DR_GRPO,
    /**
     * Σ m ℓ / N with N the number of active tokens of the whole accumulated generation batch (DAPO, Yu et al. 2025);
     * TRL's default. In one process with one micro-batch N = Σ m.
     */
    DAPO;

    /**
     * Parses TRL's name ({@code grpo}, {@code bnpo}, {@code dr_grpo}, {@code dapo}), case-insensitively.
     *
     * @param name the name
     * @return the loss type
     * @throws IllegalArgumentException naming the bad value and listing the valid ones
     */
    public static GrpoLossType parse(String name) {
        String n = name == null ? "" : name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        for (GrpoLossType t : values()) {
            if (t.name().equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown GRPO loss type '" + name + "' (valid: grpo, bnpo, dr_grpo, dapo)");
    }

    /**
     * Returns TRL's name of this loss type.
     *
     * @return e.g. {@code dr_grpo}
     */
    public String trlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
