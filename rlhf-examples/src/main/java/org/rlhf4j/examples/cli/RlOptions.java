package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.algorithms.ppo.AdaptiveKl;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** Options and model loading shared by the online RL commands ({@code ppo}, {@code drpo}). */
public final class RlOptions {

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "runs/sft/model",
            description = "Initial policy and frozen reference (the SFT checkpoint). Default: ${DEFAULT-VALUE}.")
    Path model;

    @Option(names = "--reward-model", paramLabel = "DIR", defaultValue = "runs/reward/model",
            description = "Reward model (also the critic's initialisation). Default: ${DEFAULT-VALUE}.")
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
                .setEvalSteps(train.evalSteps(base.evalSteps())).setSaveSteps(train.saveSteps(base.saveSteps()))
                .setSaveTotalLimit(train.saveTotalLimit(base.saveTotalLimit()))
                .setLoggingSteps(train.loggingSteps(base.loggingSteps()))
                .setOptimizer(train.lr != null ? base.optimizer().withLearningRate(train.lr) : base.optimizer())
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
     * The four models of online RLHF and their tokenizer, closed together.
     *
     * @param tokenizer the SFT checkpoint's tokenizer
     * @param manager owns every model
     * @param policy the policy (trained)
     * @param reference the frozen reference (a second load of the SFT checkpoint)
     * @param rewardModel the frozen reward model
     * @param critic the critic (a copy of the reward model, trained)
     */
    record Models(Tokenizer tokenizer, NDManager manager, CausalLm policy, CausalLm reference, ScalarModel rewardModel,
            ScalarModel critic) implements AutoCloseable {
        @Override
        public void close() {
            tokenizer.close();
            manager.close();
        }
    }

    /**
     * Loads the policy, reference, reward model and critic.
     *
     * @param train the shared training options (device)
     * @param seed seed of a reward-model head, should the directory lack one
     * @return the models
     * @throws IOException when a directory is missing or malformed
     */
    Models load(TrainOptions train, long seed) throws IOException {
        train.preset().checkModel(model);
        Tokenizer tok = Checkpoint.tokenizerFor(model);
        NDManager m = NDManager.newBaseManager(train.device());
        try {
            ScalarModel rm = ScalarModel.load(rewardModel, m, seed);
            return new Models(tok, m, CausalLm.load(model, m), CausalLm.load(model, m), rm, rm.copy(m));
        } catch (IOException | RuntimeException e) {
            m.close();
            tok.close();
            throw e;
        }
    }
}
