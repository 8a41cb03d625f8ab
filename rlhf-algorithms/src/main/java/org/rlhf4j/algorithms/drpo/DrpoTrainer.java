package org.rlhf4j.algorithms.drpo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.algorithms.common.PolicyReferenceBuilder;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dataset Reset Policy Optimization (Chang et al. 2024): PPO whose rollouts may start from a prefix of an offline
 * response. One update, numbered as in {@link PpoTrainer} (which runs it; this class only validates and configures):
 *
 * <ol>
 *   <li>generate: per sample i, with probability β_mix a reset: k_i ~ Uniform{1, …, L_i − 1} and the first k_i tokens
 *       of the reference y*_i are teacher-forced, then the policy samples the remaining T − k_i tokens at τ (the
 *       response length T is unchanged); otherwise generation starts from the prompt ({@link DatasetReset});
 *   <li>score the whole response (forced prefix + continuation) with the reward source; missing-EOS penalty as PPO;
 *   <li>log π_old, log π_ref and V_old over all response positions, forced ones included;
 *   <li>r_t = −β·kl_t + score·[t = last], over all response positions;
 *   <li>optional reward whitening;
 *   <li>GAE and returns over all response positions; advantages whitened over real tokens;
 *   <li>policy loss on generated positions only, mask m^pg_t = m_t·(1 − f_t) with f_t = 1 for forced tokens:
 *       <pre>L_pg = Σ_t m^pg_t · max(−A_t ρ_t, −A_t clip(ρ_t, 1 ± ε)) / Σ_t m^pg_t</pre>
 *       value loss over all real response positions (forced ones included);
 *   <li>adaptive β (optional).
 * </ol>
 *
 * With β_mix = 0 no sample is reset and the run is exactly PPO's for the same seed (the reset stream is separate from
 * the generation stream). Evaluation always starts from the prompt. Metrics: PPO's, plus {@code reset/fraction}
 * (share of the batch that was reset) and {@code reset/mean_prefix_length} (mean k over reset samples). Checkpoints
 * are labelled {@code drpo} and record the {@link DrpoConfig} in their provenance.
 */
public final class DrpoTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(DrpoTrainer.class);

    /** Algorithm name in checkpoints, metrics and progress. */
    public static final String ALGORITHM = "drpo";

    private final DrpoConfig config;
    private final DatasetReset reset;
    private final PpoTrainer ppo;

    private DrpoTrainer(Builder b, DatasetReset reset, PpoTrainer ppo) {
        this.config = b.config;
        this.reset = reset;
        this.ppo = ppo;
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the configuration.
     *
     * @return the config
     */
    public DrpoConfig config() {
        return config;
    }

    /**
     * Returns the reset strategy handed to PPO.
     *
     * @return the strategy
     */
    public DatasetReset reset() {
        return reset;
    }

    /**
     * Trains (resuming from the run directory's checkpoint when there is one).
     *
     * @return PPO's result; each history row also holds {@code reset/fraction} and {@code reset/mean_prefix_length}
     * @throws IOException when a checkpoint or log cannot be written or read
     */
    public PpoTrainer.Result train() throws IOException {
        LOG.info("drpo: β_mix={}, reset source={}, {} updates of {} episodes", config.betaMix(),
                config.resetSource().description(), config.ppo().numUpdates(), config.ppo().batchSize());
        return ppo.train();
    }

    /**
     * Evaluates the policy from the prompt, never with resets (as PPO does).
     *
     * @param data prompts
     * @param step the update to label the result with
     * @return the evaluation
     */
    public PpoTrainer.Evaluation evaluate(List<Encoded.PromptOnly> data, long step) {
        return ppo.evaluate(data, step);
    }

    /**
     * Encodes comparison pairs as DR-PO prompt rows whose reference is the preferred response
     * ({@link ResetSource#PREFERRED_RESPONSE}): {@code task.encodePrompt(pair.toPromptRow())}, so the reference is
     * {@code encode(chosen) + [eos]}.
     *
     * @param task the task (query format and limits; the chosen response must fit its SFT response limit)
     * @param pairs the pairs
     * @return one prompt row per pair, in order
     * @throws org.rlhf4j.datasets.task.TaskLimitException when a query or a chosen response does not fit
     */
    public static List<Encoded.PromptOnly> preferredResponsePrompts(TldrTask task, List<PreferencePair> pairs) {
        List<Encoded.PromptOnly> out = new ArrayList<>(pairs.size());
        for (PreferencePair p : pairs) {
            out.add(task.encodePrompt(p.toPromptRow()));
        }
        return out;
    }

    /** Builder of {@link DrpoTrainer}; the settings not named here are PPO's (see {@link PpoTrainer.Builder}). */
    public static final class Builder extends PolicyReferenceBuilder<Builder> {
        private DrpoConfig config;
        private ScalarModel critic;
        private RewardSource reward;
        private List<Encoded.PromptOnly> prompts;
        private List<Encoded.PromptOnly> evalPrompts;

        private Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the configuration.
         *
         * @param c config
         * @return this
         */
        public Builder setConfig(DrpoConfig c) {
            this.config = c;
            return this;
        }

        /**
         * Sets the critic (trained in place).
         *
         * @param c critic
         * @return this
         */
        public Builder setCritic(ScalarModel c) {
            this.critic = c;
            return this;
        }

        /**
         * Sets the reward source.
         *
         * @param r reward source
         * @return this
         */
        public Builder setReward(RewardSource r) {
            this.reward = r;
            return this;
        }

        /**
         * Sets the training prompts; when β_mix &gt; 0 every row must carry its reset response as
         * {@link Encoded.PromptOnly#reference()}.
         *
         * @param p prompts
         * @return this
         */
        public Builder setPrompts(List<Encoded.PromptOnly> p) {
            this.prompts = p;
            return this;
        }

        /**
         * Sets held-out prompts for evaluation (from the prompt; references not needed).
         *
         * @param p prompts
         * @return this
         */
        public Builder optEvalPrompts(List<Encoded.PromptOnly> p) {
            this.evalPrompts = p;
            return this;
        }

        /**
         * Validates and builds the trainer (a {@link PpoTrainer} with a {@link DatasetReset}).
         *
         * @return the trainer
         * @throws IllegalArgumentException when a required part is missing, or β_mix &gt; 0 and a training prompt has
         *     no reference (the message names the first such prompt id)
         */
        public DrpoTrainer build() {
            if (config == null) {
                throw new IllegalArgumentException("config is required");
            }
            if (prompts != null && config.betaMix() > 0) {
                for (Encoded.PromptOnly p : prompts) {
                    if (p.reference() == null) {
                        throw new IllegalArgumentException("DR-PO with β_mix = " + config.betaMix() + " needs a "
                                + config.resetSource().description() + " for every training prompt, but prompt '"
                                + p.id() + "' has no reference");
                    }
                }
            }
            DatasetReset reset = new DatasetReset(config.betaMix(), config.ppo().responseLength());
            PpoTrainer.Builder b = copySettingsTo(PpoTrainer.builder()).setConfig(config.ppo()).setPolicy(policy)
                    .setReference(reference).setCritic(critic).setReward(reward).setPrompts(prompts)
                    .optEvalPrompts(evalPrompts).optReset(reset).optAlgorithm(ALGORITHM).optProvenanceConfig(config);
            return new DrpoTrainer(this, reset, b.build());
        }
    }
}
