package org.rlhf4j.examples.cli;

import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.lora.LoraConfig;
import picocli.CommandLine.Option;

/**
 * {@code --lora-r R [--lora-alpha A] [--lora-dropout P] [--lora-target LIST] [--lora-rslora]}: train a LoRA adapter
 * (PEFT format) over the frozen loaded model instead of every weight. The options carry PEFT's names and defaults
 * ({@code r}, {@code lora_alpha} = 8, {@code lora_dropout} = 0, {@code target_modules} = the architecture's default,
 * {@code use_rslora} = false); a targeted linear layer computes y = x Wᵀ + b + s·B A dropout(x) with
 * s = α/r (α/√r with {@code --lora-rslora}). Without {@code --lora-r} every other {@code --lora-*} option is an
 * error and the run fine-tunes every weight, as before.
 *
 * <p>Every training command mixes these in; they land in {@code run_config.json}'s options like any other, and the
 * trainers record the adapters they train in the run config, so resuming with other LoRA settings is refused.
 */
public final class LoraOptions {

    @Option(names = "--lora-r", paramLabel = "R",
            description = "Train a rank-R LoRA adapter over the frozen model (PEFT r); the frozen model is also the "
                    + "reference. Default: off (full fine-tuning).")
    Integer loraR;

    @Option(names = "--lora-alpha", paramLabel = "A",
            description = "LoRA scale numerator α (PEFT lora_alpha); the adapter's output is scaled by α/R. "
                    + "Default: 8 (PEFT's).")
    Double loraAlpha;

    @Option(names = "--lora-dropout", paramLabel = "P",
            description = "Dropout on the adapter's input during training (PEFT lora_dropout). Default: 0.")
    Double loraDropout;

    @Option(names = "--lora-target", paramLabel = "LIST", split = ",",
            description = "Modules to adapt (PEFT target_modules), e.g. q_proj,v_proj, or all-linear. Default: the "
                    + "architecture's PEFT default (GPT-2 c_attn, GPT-NeoX query_key_value, Llama family q_proj,v_proj).")
    List<String> loraTarget;

    @Option(names = "--lora-rslora",
            description = "Rank-stabilised scaling α/√R instead of α/R (PEFT use_rslora).")
    boolean loraRslora;

    /** PEFT's default {@code lora_alpha}. */
    static final double DEFAULT_ALPHA = 8;

    /**
     * Returns the adapter settings, or null when {@code --lora-r} is not given (full fine-tuning).
     *
     * @return the settings, or null
     * @throws IllegalArgumentException when a {@code --lora-*} option is given without {@code --lora-r}, or a value is
     *     out of range (the message names the option)
     */
    public LoraConfig config() {
        if (loraR == null) {
            List<String> given = new ArrayList<>();
            if (loraAlpha != null) {
                given.add("--lora-alpha");
            }
            if (loraDropout != null) {
                given.add("--lora-dropout");
            }
            if (loraTarget != null && !loraTarget.isEmpty()) {
                given.add("--lora-target");
            }
            if (loraRslora) {
                given.add("--lora-rslora");
            }
            if (!given.isEmpty()) {
                throw new IllegalArgumentException(String.join(", ", given) + " need --lora-r R (the adapter's rank)");
            }
            return null;
        }
        try {
            return new LoraConfig(loraR, loraAlpha != null ? loraAlpha : DEFAULT_ALPHA,
                    loraDropout != null ? loraDropout : 0, loraTarget == null ? List.of() : loraTarget, loraRslora);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--lora-*: " + e.getMessage(), e);
        }
    }

    /**
     * Returns the adapter settings ({@link #config()}), failing when LoRA is asked for without a model to adapt.
     *
     * @param model the {@code --model} directory, or null (a from-scratch model)
     * @return the settings, or null without {@code --lora-r}
     * @throws IllegalArgumentException with {@code --lora-r} and no model
     */
    public LoraConfig config(java.nio.file.Path model) {
        LoraConfig c = config();
        if (c != null && model == null) {
            throw new IllegalArgumentException("--lora-r needs --model DIR: an adapter trains over a frozen pretrained "
                    + "model, and a from-scratch model has none");
        }
        return c;
    }

    /**
     * Returns whether LoRA is on ({@code --lora-r} given).
     *
     * @return true with {@code --lora-r}
     */
    public boolean enabled() {
        return loraR != null;
    }

    /**
     * Returns the options as command-line arguments, to pass through to another command (the pipeline's stages).
     *
     * @return the arguments, empty without {@code --lora-r}
     */
    public List<String> args() {
        List<String> a = new ArrayList<>();
        if (loraR == null) {
            return a;
        }
        a.addAll(List.of("--lora-r", Integer.toString(loraR)));
        if (loraAlpha != null) {
            a.addAll(List.of("--lora-alpha", Double.toString(loraAlpha)));
        }
        if (loraDropout != null) {
            a.addAll(List.of("--lora-dropout", Double.toString(loraDropout)));
        }
        if (loraTarget != null && !loraTarget.isEmpty()) {
            a.addAll(List.of("--lora-target", String.join(",", loraTarget)));
        }
        if (loraRslora) {
            a.add("--lora-rslora");
        }
        return a;
    }
}
