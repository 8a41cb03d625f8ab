package org.rlhf4j.core.model;

/**
 * The rotary-embedding frequency scheme of a Llama-family model ({@code rope_scaling} / {@code rope_parameters} of
 * {@code config.json}), as computed by {@code transformers}' {@code modeling_rope_utils.py}.
 *
 * <p>Every type starts from the default inverse frequencies θ_j = base^(−2j/d), j &lt; d/2, over the whole head
 * dimension d, and none rescales cos/sin (HF's {@code attention_factor} is 1 for these types). The other types of
 * {@code transformers} ({@code yarn}, {@code longrope}, ...) are rejected when the config is read.
 */
public sealed interface RopeScaling {

    /**
     * Returns the {@code rope_type} string of this scheme.
     *
     * @return {@code default}, {@code linear}, {@code dynamic} or {@code llama3}
     */
    String type();

    /**
     * Returns the inverse frequencies for one forward pass.
     *
     * @param base {@code rope_theta}
     * @param dim the rotary dimension (the head dimension; even)
     * @param maxPositionEmbeddings {@code max_position_embeddings} (the original context of {@code dynamic})
     * @param seqLen {@code max(position_ids) + 1} of the pass (only {@code dynamic} uses it)
     * @return d/2 inverse frequencies
     */
    double[] inverseFrequencies(double base, int dim, int maxPositionEmbeddings, long seqLen);

    /**
     * The default inverse frequencies θ_j = 1 / base^(2j/d) (HF {@code compute_default_rope_parameters}).
     *
     * @param base the base
     * @param dim the rotary dimension
     * @return d/2 values
     */
    static double[] defaultFrequencies(double base, int dim) {
        double[] f = new double[dim / 2];
        for (int j = 0; j < f.length; j++) {
            f[j] = 1.0 / Math.pow(base, (2.0 * j) / dim);
        }
        return f;
    }

    /** Plain RoPE ({@code rope_type: "default"}, or no {@code rope_scaling}). */
    record Default() implements RopeScaling {

        /** {@inheritDoc} */
        @Override
        public String type() {
            return "default";
        }

        /** {@inheritDoc} */
        @Override
        public double[] inverseFrequencies(double base, int dim, int maxPositionEmbeddings, long seqLen) {
            return defaultFrequencies(base, dim);
        }
    }

    /**
     * Linear position interpolation: θ_j / factor (HF {@code _compute_linear_scaling_rope_parameters}).
     *
     * @param factor the scaling factor
     */
    record Linear(double factor) implements RopeScaling {

        /** Validates the factor. */
        public Linear {
            ConfigFields.check(factor > 0 && Double.isFinite(factor), "rope_scaling.factor", factor);
        }

        /** {@inheritDoc} */
        @Override
        public String type() {
            return "linear";
        }

        /** {@inheritDoc} */
        @Override
        public double[] inverseFrequencies(double base, int dim, int maxPositionEmbeddings, long seqLen) {
            double[] f = defaultFrequencies(base, dim);
            for (int j = 0; j < f.length; j++) {
                f[j] /= factor;
            }
            return f;
        }
    }

    /**
     * Dynamic NTK scaling: for a pass whose positions reach L = max(position_ids) + 1 beyond the original context
     * L₀ = {@code max_position_embeddings}, the base becomes base·(factor·L/L₀ − (factor − 1))^(d/(d−2)); at or below
     * L₀ the default frequencies are used (HF {@code _compute_dynamic_ntk_parameters} with
     * {@code dynamic_rope_update}). HF recomputes the frequencies when a pass grows beyond the longest it has seen
     * and resets them below L₀; rlhf4j computes them from each pass alone, which agrees with HF for a fresh model and
     * for {@code generate}'s growing positions.
     *
     * @param factor the scaling factor
     */
    record Dynamic(double factor) implements RopeScaling {

        /** Validates the factor. */
        public Dynamic {
            ConfigFields.check(factor > 0 && Double.isFinite(factor), "rope_scaling.factor", factor);
        }

        /** {@inheritDoc} */
        @Override
        public String type() {
            return "dynamic";
        }

        /** {@inheritDoc} */
        @Override
        public double[] inverseFrequencies(double base, int dim, int maxPositionEmbeddings, long seqLen) {
            double len = Math.max(seqLen, maxPositionEmbeddings);
            double scaled = base * Math.pow(factor * len / maxPositionEmbeddings - (factor - 1), dim / (dim - 2.0));
            return defaultFrequencies(scaled, dim);
        }
    }

    /**
     * Llama 3.1 scaling (HF {@code _compute_llama3_parameters}): with wavelength λ_j = 2π/θ_j, λ_low = L₀/low and
     * λ_high = L₀/high (L₀ = {@code original_max_position_embeddings}), frequencies with λ &lt; λ_high are kept,
     * those with λ &gt; λ_low are divided by factor, and those in between are blended:
     * (1 − s)·θ/factor + s·θ with s = (L₀/λ − low)/(high − low).
     *
     * @param factor {@code factor}
     * @param lowFreqFactor {@code low_freq_factor}
     * @param highFreqFactor {@code high_freq_factor}
     * @param originalMaxPositionEmbeddings {@code original_max_position_embeddings}
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements RopeScaling {

        /** Validates the parameters; messages name the {@code rope_scaling} key. */
        public Llama3 {
            ConfigFields.check(factor > 0 && Double.isFinite(factor), "rope_scaling.factor", factor);
            ConfigFields.check(lowFreqFactor > 0, "rope_scaling.low_freq_factor", lowFreqFactor);
            ConfigFields.check(highFreqFactor > lowFreqFactor,
                    "rope_scaling.high_freq_factor (must exceed low_freq_factor=" + lowFreqFactor + ")",
                    highFreqFactor);
            ConfigFields.check(originalMaxPositionEmbeddings > 0, "rope_scaling.original_max_position_embeddings",
                    originalMaxPositionEmbeddings);
        }

        /** {@inheritDoc} */
        @Override
        public String type() {
            return "llama3";
        }

        /** {@inheritDoc} */
        @Override
        public double[] inverseFrequencies(double base, int dim, int maxPositionEmbeddings, long seqLen) {
            double[] f = defaultFrequencies(base, dim);
            double lowWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
            double highWavelen = originalMaxPositionEmbeddings / highFreqFactor;
            for (int j = 0; j < f.length; j++) {
                double wavelen = 2 * Math.PI / f[j];
                if (wavelen > lowWavelen) {
                    f[j] /= factor;
                } else if (wavelen >= highWavelen) {
                    double s = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor)
                            / (highFreqFactor - lowFreqFactor);
                    f[j] = (1 - s) * f[j] / factor + s * f[j];
                }
            }
            return f;
        }
    }
}
