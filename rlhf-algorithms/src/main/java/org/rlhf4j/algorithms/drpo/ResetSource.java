package org.rlhf4j.algorithms.drpo;

/**
 * Which offline response DR-PO resets to. In both cases {@link DatasetReset} reads the prompt row's reference,
 * {@link org.rlhf4j.datasets.task.Encoded.PromptOnly#reference()} (token ids ending with EOS); the source says how the
 * caller built those rows, is recorded in the run's provenance and names the data in error messages.
 */
public enum ResetSource {

    /**
     * The human reference summary of the SFT data (the paper's choice and the default): prompt rows from
     * {@code SftExample.toPromptRow()} / {@code TldrData.prompts(split)}, encoded with {@code TldrTask.encodePrompt},
     * whose reference is {@code encode(" " + summary) + [eos]}.
     */
    REFERENCE_SUMMARY("reference summary"),

    /**
     * The preferred (chosen) response of a comparison pair: prompt rows from {@code PreferencePair.toPromptRow()}
     * (reference = the chosen text), encoded with {@code TldrTask.encodePrompt}, whose reference is
     * {@code encode(chosen) + [eos]}; see {@link DrpoTrainer#preferredResponsePrompts}.
     */
    PREFERRED_RESPONSE("preferred response");

    private final String description;

    ResetSource(String description) {
        this.description = description;
    }

    /**
     * Returns a human-readable name of the source, for messages.
     *
     * @return e.g. {@code "reference summary"}
     */
    public String description() {
        return description;
    }
}
