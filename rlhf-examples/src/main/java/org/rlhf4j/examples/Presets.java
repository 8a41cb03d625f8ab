package org.rlhf4j.examples;

import java.util.Locale;
import java.util.Map;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.datasets.task.TaskConfig;

/**
 * Named settings for the example pipeline.
 *
 * <p>{@code tiny}: the CPU default on the bundled sample; a small from-scratch GPT-2 (d = 64, 2 layers, GPT-2
 * vocabulary), 128-token queries (same truncation rule), learning rates suited to training from scratch. It shows
 * that every stage runs and learns, not the papers' quality. {@code references}: the references' hyperparameters for
 * users with a GPU, the full data and an HF checkpoint as {@code --model} (512-token queries).
 *
 * @param name preset name
 * @param scratchModel the from-scratch model when no {@code --model} is given (tiny only)
 * @param task token limits
 * @param sft SFT settings
 * @param reward reward-model settings
 */
public record Presets(String name, Gpt2Config scratchModel, TaskConfig task, SftConfig sft, RewardConfig reward) {

    /** The tiny CPU preset. */
    public static final Presets TINY = new Presets(
            "tiny",
            new Gpt2Config(Gpt2Config.GPT2_VOCAB, 512, 64, 2, 2, 256, 1e-5, "gelu_new", Gpt2Config.GPT2_EOS,
                    Gpt2Config.GPT2_EOS, Map.of()),
            TaskConfig.builder().setMaxQueryTokens(128).build(),
            new SftConfig(1, new OptimizerConfig(3e-3, OptimizerConfig.Schedule.COSINE, 5, 0.0, 0.9, 0.999, 1e-8, 1.0, 3),
                    8, 8, 8.0, 10, 0, 3, 53),
            new RewardConfig(1, new OptimizerConfig(3e-4, OptimizerConfig.Schedule.COSINE, 2, 0.0, 0.9, 0.999, 1e-8, 1.0, 3),
                    8, 8, 3.0, 0.0, 5, 0, true));

    /** The references' settings (GPU, full data, HF checkpoints). */
    public static final Presets REFERENCES = new Presets(
            "references", null, TaskConfig.DEFAULT, SftConfig.references(), RewardConfig.references());

    /**
     * Looks a preset up by name.
     *
     * @param name {@code tiny} or {@code references}
     * @return the preset
     */
    public static Presets named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> TINY;
            case "references", "pythia", "gpt2" -> REFERENCES;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (tiny, references)");
        };
    }
}
