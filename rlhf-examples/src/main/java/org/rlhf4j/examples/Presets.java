package org.rlhf4j.examples;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.rloo.RlooConfig;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.TaskConfig;

/**
 * Named settings for the example commands and the pipeline.
 *
 * <ul>
 *   <li>{@code tiny}: the CPU default on the bundled sample; a small from-scratch GPT-2 (d = 64, 2 layers) over a
 *       compact vocabulary (the GPT-2 tokens that occur in the bundled data and what spells them, tokenized exactly
 *       as GPT-2 does; see {@link org.rlhf4j.core.tokenizer.CompactVocabulary}), 128-token queries (same truncation
 *       rule), learning rates suited to training from scratch. It shows that every stage runs and learns, not the
 *       papers' quality.
 *   <li>{@code pythia} (alias {@code references}): what the references ran, for users with a GPU and internet: the
 *       N+ implementation details / TRL settings for SFT, reward model and PPO (DR-PO shares PPO's), the DR-PO
 *       paper's DPO baseline (β = 0.05), 512-token queries, the full downloaded data ({@code --data full}) and a
 *       GPT-NeoX checkpoint as {@code --model} (EleutherAI/pythia-1b-deduped, -2.8b for the DR-PO paper's numbers).
 *   <li>{@code gpt2}: the same hyperparameters for a GPT-2 checkpoint ({@code gpt2}, {@code gpt2-medium},
 *       {@code gpt2-large}; 1,024 positions fit the 512-token query + 53-token response). No reference tuned GPT-2 on
 *       TL;DR, so these are the Pythia values unchanged, and DPO keeps TRL's β = 0.1.
 * </ul>
 *
 * @param name preset name
 * @param scratchModel the from-scratch model when no {@code --model} is given (tiny only), else null
 * @param modelType the {@code model_type} that {@code --model} must have ({@code gpt2}, {@code gpt_neox}), or null
 *     for any supported architecture
 * @param suggestedModel the Hugging Face checkpoint to start from, named in the error when {@code --model} is missing
 * @param data the default {@code --data} ({@code bundled} or {@code full})
 * @param task token limits
 * @param sft SFT settings
 * @param reward reward-model settings
 * @param ppo PPO settings (DR-PO uses them too)
 * @param dpo DPO settings
 * @param chat whether TL;DR prompts are rendered through the model's chat template by default ({@code --chat};
 *     {@code --no-chat} turns it off)
 */
public record Presets(
        String name,
        Gpt2Config scratchModel,
        String modelType,
        String suggestedModel,
        String data,
        TaskConfig task,
        SftConfig sft,
        RewardConfig reward,
        PpoConfig ppo,
        DpoConfig dpo,
        boolean chat) {

    /** The tiny CPU preset. */
    public static final Presets TINY = new Presets(
            "tiny",
            new Gpt2Config(Gpt2Config.GPT2_VOCAB, 512, 64, 2, 2, 256, 1e-5, "gelu_new", Gpt2Config.GPT2_EOS,
                    Gpt2Config.GPT2_EOS, Map.of()),
            null,
            null,
            DataSource.BUNDLED,
            TaskConfig.builder().setMaxQueryTokens(128).build(),
            // η 3e-3 cosine after 5 warm-up updates, batch 8, 8 epochs
            SftConfig.builder()
                    .setOptimizer(OptimizerConfig.builder().setLearningRate(3e-3)
                            .setSchedule(OptimizerConfig.Schedule.COSINE).setWarmupSteps(5).setEps(1e-8).build())
                    .setBatchSize(8).setMicroBatchSize(8).setEpochs(8.0)
                    .setSchedule(TrainingSchedule.of(10, 50)).setNumSamples(3)
                    .build(),
            // η 3e-4 cosine after 2 warm-up updates, batch 8, 3 epochs
            RewardConfig.builder()
                    .setOptimizer(OptimizerConfig.builder().setLearningRate(3e-4)
                            .setSchedule(OptimizerConfig.Schedule.COSINE).setWarmupSteps(2).setEps(1e-8).build())
                    .setBatchSize(8).setMicroBatchSize(8).setEpochs(3.0)
                    .setSchedule(TrainingSchedule.of(5, 50))
                    .build(),
            // 15 updates of 16 episodes; the references' per-episode details (53 tokens, τ 0.7, β 0.05, k1, γ 1,
            // λ 0.95, clip 0.2, c_vf 0.1, score −1 without EOS), a from-scratch-sized learning rate
            PpoConfig.builder()
                    .setOptimizer(OptimizerConfig.references(1e-4, OptimizerConfig.Schedule.LINEAR))
                    .setTotalEpisodes(240).setBatchSize(16).setNumMiniBatches(2).setMicroBatchSize(8)
                    .setSchedule(TrainingSchedule.of(0, 5))
                    .build(),
            // η 1e-4 constant, β 0.1, batch 8, 3 epochs
            DpoConfig.builder()
                    .setOptimizer(OptimizerConfig.builder().setLearningRate(1e-4)
                            .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).build())
                    .setBeta(0.1).setLossType(DpoLossType.SIGMOID)
                    .setBatchSize(8).setMicroBatchSize(8).setEpochs(3.0)
                    .setSchedule(TrainingSchedule.of(5, 50))
                    .build(),
            false);

    /** The references' settings on Pythia (GPU, full data, HF GPT-NeoX checkpoints). */
    public static final Presets PYTHIA = new Presets(
            "pythia", null, GptNeoXConfig.MODEL_TYPE, "EleutherAI/pythia-1b-deduped", DataSource.FULL,
            TaskConfig.DEFAULT, SftConfig.references(), RewardConfig.references(), PpoConfig.references(),
            // DR-PO paper (Chang et al. 2024), TL;DR DPO baseline: β = 0.05
            DpoConfig.builder().setBeta(0.05).build(), false);

    /** The references' hyperparameters on GPT-2 checkpoints (GPU, full data). */
    public static final Presets GPT2 = new Presets(
            "gpt2", null, Gpt2Config.MODEL_TYPE, "gpt2-medium", DataSource.FULL, TaskConfig.DEFAULT,
            SftConfig.references(), RewardConfig.references(), PpoConfig.references(), DpoConfig.defaults(), false);

    /**
     * The references' hyperparameters on an instruction-tuned Llama-family checkpoint (SmolLM2-Instruct; GPU, full
     * data), with the TL;DR prompt rendered as one user message through the model's chat template. No reference tuned
     * SmolLM2 on TL;DR, so these are the Pythia values unchanged, and DPO keeps TRL's β = 0.1.
     */
    public static final Presets SMOLLM2 = new Presets(
            "smollm2", null, "llama", "HuggingFaceTB/SmolLM2-360M-Instruct", DataSource.FULL, TaskConfig.DEFAULT,
            SftConfig.references(), RewardConfig.references(), PpoConfig.references(), DpoConfig.defaults(), true);

    /** The preset names {@link #named(String)} accepts. */
    public static final List<String> NAMES = List.of("tiny", "gpt2", "pythia", "references", "smollm2");

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
     * Checks that a checkpoint directory has the architecture this preset was made for (before any weight is read).
     *
     * @param dir the checkpoint directory, or null (nothing to check)
     * @throws java.io.IOException when its {@code config.json} (a LoRA adapter's: its base's) is missing or malformed
     * @throws IllegalArgumentException when the preset names another {@code model_type}
     */
    public void checkModel(Path dir) throws java.io.IOException {
        if (dir == null || modelType == null) {
            return;
        }
        Path model = dir;
        while (org.rlhf4j.algorithms.common.Adapters.isAdapter(model)) { // a LoRA adapter: its base's architecture
            model = org.rlhf4j.algorithms.common.Adapters.baseOf(model);
        }
        Path file = AtomicReads.resolve(model).resolve("config.json"); // NAME.old while a trainer swaps NAME
        String type = ModelConfig.read(file).modelType();
        if (!modelType.equals(type)) {
            throw new IllegalArgumentException(file + ": field 'model_type' is '" + type + "' but --preset " + name
                    + " is for '" + modelType + "' checkpoints (e.g. " + suggestedModel + "); "
                    + switch (type) {
                        case Gpt2Config.MODEL_TYPE -> "use --preset gpt2";
                        case GptNeoXConfig.MODEL_TYPE -> "use --preset pythia";
                        case "llama" -> "use --preset smollm2 (instruction-tuned Llama-family checkpoints)";
                        default -> "no preset is tuned for '" + type + "' checkpoints; use --preset tiny (any "
                                + "architecture) and set the hyperparameters with options";
                    });
        }
    }

    /**
     * Returns the message for a missing {@code --model} under a preset without a from-scratch model.
     *
     * @param what what the model is for (e.g. {@code "the SFT checkpoint"})
     * @return the message
     */
    public String needsModel(String what) {
        return "--preset " + name + " needs --model (" + what + "; an HF checkpoint directory such as " + suggestedModel
                + " saved with save_pretrained(..., safe_serialization=True))";
    }

    /**
     * Returns the GRPO settings of this preset: TRL's {@code GRPOConfig} defaults with TL;DR's 53-token completions;
     * the tiny preset samples 4 completions of 4 prompts per update (13 updates over the 50 bundled prompts) with a
     * from-scratch-sized learning rate.
     *
     * @return the config
     */
    public GrpoConfig grpo() {
        GrpoConfig.Builder b = GrpoConfig.builder().setMaxCompletionLength(53);
        if ("tiny".equals(name)) {
            b.setOptimizer(OptimizerConfig.builder().setLearningRate(1e-4).setSchedule(OptimizerConfig.Schedule.LINEAR)
                    .setEps(1e-8).build())
                    .setPromptsPerStep(4).setNumGenerations(4).setMicroBatchSize(8).setEpochs(1.0)
                    .setSchedule(TrainingSchedule.of(0, 5));
        }
        return b.build();
    }

    /**
     * Returns the RLOO settings of this preset: TRL's {@code RLOOConfig} defaults (k = 2, β = 0.05) with TL;DR's
     * 53-token completions; the tiny preset samples 4 completions of 4 prompts per update (13 updates over the 50
     * bundled prompts) with a from-scratch-sized learning rate, as its GRPO.
     *
     * @return the config
     */
    public RlooConfig rloo() {
        RlooConfig.Builder b = RlooConfig.builder().setMaxCompletionLength(53);
        if ("tiny".equals(name)) {
            b.setOptimizer(OptimizerConfig.builder().setLearningRate(1e-4).setSchedule(OptimizerConfig.Schedule.LINEAR)
                    .setEps(1e-8).build())
                    .setPromptsPerStep(4).setNumGenerations(4).setMicroBatchSize(8).setEpochs(1.0)
                    .setSchedule(TrainingSchedule.of(0, 5));
        }
        return b.build();
    }

    /**
     * Looks a preset up by name.
     *
     * @param name one of {@link #NAMES}
     * @return the preset
     */
    public static Presets named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> TINY;
            case "pythia", "references" -> PYTHIA;
            case "gpt2" -> GPT2;
            case "smollm2" -> SMOLLM2;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (" + String.join(", ", NAMES)
                    + ")");
        };
    }
}
