package org.rlhf4j.examples.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.algorithms.ppo.AdaptiveKl;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoModels;
import org.rlhf4j.core.lora.LoraConfig;
import picocli.CommandLine.Option;

/** Options and model loading shared by the online RL commands ({@code ppo}, {@code drpo}). */
public final class RlOptions {

    @Option(names = "--model", paramLabel = "DIR",
            description = "Initial policy and frozen reference: the SFT checkpoint, e.g. runs/sft/model (required).")
    Path model;

    @Option(names = "--reward-model", paramLabel = "DIR",
            description = "Reward model, also the critic's initialisation, e.g. runs/reward/model (required).")
    Path rewardModel;

    @Option(names = "--episodes", description = "Total episodes (default: the preset's).")
    Long episodes;

    @Option(names = "--kl-coef", description = "KL coefficient β (default: the preset's, 0.05).")
    Double klCoef;

    @Option(names = "--kl-estimator", description = "k1 or k3 (default: the preset's, k1).")
    String klEstimator;

    @Option(names = "--target-kl", description = "Use Ziegler's adaptive KL controller with this target (nats), horizon 10000.")
    Double targetKl;

    /**
     * Returns the PPO settings: the preset's, with the command-line overrides.
     *
     * @param train the shared training options
     * @return the config
     */
    PpoConfig config(TrainOptions train) {
        PpoConfig base = train.preset().ppo();
        int batch = train.batchSize != null ? train.batchSize : base.batchSize();
        int miniBatches = batch % base.numMiniBatches() == 0 ? base.numMiniBatches() : 1;
        int micro = train.microBatchSize != null ? train.microBatchSize : Math.min(base.microBatchSize(), batch / miniBatches);
        long total = episodes != null ? episodes
                : train.epochs != null ? Math.round(train.epochs * base.totalEpisodes()) : base.totalEpisodes();
        return base.toBuilder()
                .setSeed(train.seed != null ? train.seed : base.seed())
                .setSchedule(train.schedule(base.schedule()))
                .setOptimizer(train.optimizer(base.optimizer()))
                .setTotalEpisodes(total)
                .setBatchSize(batch)
                .setNumMiniBatches(miniBatches)
                .setMicroBatchSize(micro)
                .setKlCoef(klCoef != null ? klCoef : base.klCoef())
                .setAdaptiveKl(targetKl != null ? new AdaptiveKl(targetKl, 10000) : base.adaptiveKl())
                .setKlEstimator(klEstimator != null ? parseKlEstimator(klEstimator) : base.klEstimator())
                .build();
    }

    private static KlEstimator parseKlEstimator(String name) {
        try {
            return KlEstimator.parse(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--kl-estimator: " + e.getMessage(), e);
        }
    }

    /**
     * Fails, naming the option, when {@code --model} or {@code --reward-model} is missing (checked after the other
     * options, so a bad value is reported first; nothing is written before).
     *
     * @throws IllegalArgumentException when one is missing
     */
    void requireModels() {
        if (model == null) {
            throw new IllegalArgumentException("--model DIR is required: the SFT checkpoint (e.g. runs/sft/model)");
        }
        if (rewardModel == null) {
            throw new IllegalArgumentException("--reward-model DIR is required: the reward model (e.g. "
                    + "runs/reward/model)");
        }
    }

    /**
     * Loads the policy, reference, reward model and critic ({@link PpoModels#load}).
     *
     * @param train the shared training options (device)
     * @param seed seed of a reward-model head, should the directory lack one, and of the adapters
     * @param lora the adapter settings ({@code --lora-*}), or null for full fine-tuning
     * @return the models
     * @throws IOException when a directory is missing or malformed
     */
    PpoModels load(TrainOptions train, long seed, LoraConfig lora) throws IOException {
        requireModels();
        train.preset().checkModel(model);
        return PpoModels.load(model, rewardModel, train.device(), seed, lora, seed);
    }
}
