package org.rlhf4j.examples;

import java.util.Locale;
import java.util.Map;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.datasets.task.TaskConfig;

/**
 * Named settings for the example pipeline.
 *
 * <p>{@code tiny}: the CPU default on the bundled sample; a small from-scratch GPT-2 (d = 64, 2 layers) over a compact
 * vocabulary (the GPT-2 tokens that occur in the bundled data, tokenized exactly as GPT-2 does; see
 * {@link org.rlhf4j.core.tokenizer.CompactVocabTokenizer}), 128-token queries (same truncation rule), learning rates
 * suited to training from scratch. It shows
 * that every stage runs and learns, not the papers' quality. {@code references}: the references' hyperparameters for
 * users with a GPU, the full data and an HF checkpoint as {@code --model} (512-token queries).
 *
 * @param name preset name
 * @param scratchModel the from-scratch model when no {@code --model} is given (tiny only)
 * @param task token limits
 * @param sft SFT settings
 * @param reward reward-model settings
 * @param ppo PPO settings (DR-PO uses them too)
 */
public record Presets(
        String name, Gpt2Config scratchModel, TaskConfig task, SftConfig sft, RewardConfig reward, PpoConfig ppo) {

    /** The tiny CPU preset. */
    public static final Presets TINY = new Presets(
            "tiny",
            new Gpt2Config(Gpt2Config.GPT2_VOCAB, 512, 64, 2, 2, 256, 1e-5, "gelu_new", Gpt2Config.GPT2_EOS,
                    Gpt2Config.GPT2_EOS, Map.of()),
            TaskConfig.builder().setMaxQueryTokens(128).build(),
            new SftConfig(1, new OptimizerConfig(3e-3, OptimizerConfig.Schedule.COSINE, 5, 0.0, 0.9, 0.999, 1e-8, 1.0, 3),
                    8, 8, 8.0, 10, 0, 3, 53),
            new RewardConfig(1, new OptimizerConfig(3e-4, OptimizerConfig.Schedule.COSINE, 2, 0.0, 0.9, 0.999, 1e-8, 1.0, 3),
                    8, 8, 3.0, 0.0, 5, 0, true),
            // 15 updates of 16 episodes; the references' per-episode details (53 tokens, τ 0.7, β 0.05, k1, γ 1,
            // λ 0.95, clip 0.2, c_vf 0.1, score −1 without EOS), a from-scratch-sized learning rate
            new PpoConfig(1, new OptimizerConfig(1e-4, OptimizerConfig.Schedule.LINEAR, 0, 0.0, 0.9, 0.999, 1e-5, 1.0, 3),
                    240, 16, 2, 8, 4, 53, 0.7, 0.05, null, KlEstimator.K1, false, true, 1.0, 0.95, 0.2, 0.2, 0.1, 0.0,
                    -1.0,
                    0, 0));

    /** The references' settings (GPU, full data, HF checkpoints). */
    public static final Presets REFERENCES = new Presets(
            "references", null, TaskConfig.DEFAULT, SftConfig.references(), RewardConfig.references(),
            PpoConfig.references());

    /**
     * Returns the from-scratch model resized to a (compact) vocabulary.
     *
     * @param vocab vocabulary size
     * @param eos EOS id (also BOS)
     * @return the config
     */
    public Gpt2Config scratchModel(int vocab, int eos) {
        Gpt2Config c = scratchModel;
        return new Gpt2Config(vocab, c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(), c.layerNormEpsilon(),
                c.activationFunction(), eos, eos, c.extra());
    }

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
