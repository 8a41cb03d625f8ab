package org.rlhf4j.algorithms.grpo;

import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;

/**
 * GRPO settings (validated, immutable; build with {@link #builder()}). Defaults are TRL 1.13.0's {@code GRPOConfig}
 * for one process: G = 8 completions per prompt, the dapo loss, group-scaled advantages, ε = 0.2, β = 0 (no
 * reference model), μ = 1, 512-token completions at τ = 1, AdamW η = 1e-6 with linear decay.
 *
 * @param seed run seed: prompt order, sampling and every other random stream derive from (seed, update). Default {@code 1}.
 * @param optimizer AdamW and schedule η (TRL: {@code learning_rate} 1e-6, linear decay, Adam ε 1e-8, clipping at 1.0).
 * @param epochs passes over the prompts; updates = ⌈epochs · N / promptsPerStep⌉. Default {@code 1.0}.
 * @param promptsPerStep prompts per generation batch, P; each gets G completions (TRL: {@code per_device_train_batch_size} × {@code steps_per_generation} / G). Default {@code 8}.
 * @param numGenerations completions per prompt, G ≥ 2 (TRL: {@code num_generations} 8). Default {@code 8}.
 * @param microBatchSize completions per forward/backward; P·G must be a multiple (TRL: {@code per_device_train_batch_size}; the number of micro-batches is its {@code gradient_accumulation_steps}). Default {@code 8}.
 * @param numIterations μ: optimizer steps on each generation batch, with importance ratios against the generation-time policy (TRL: {@code num_iterations} 1). Default {@code 1}.
 * @param maxCompletionLength maximum completion tokens; a completion without EOS within it is truncated (TRL: {@code max_completion_length} 512). Default {@code 512}.
 * @param temperature sampling temperature τ; log-probs are computed from z/τ as at generation (TRL: 1.0). Default {@code 1.0}.
 * @param topK top-k sampling, 0 = off (TRL: {@code top_k} None). Default {@code 0}.
 * @param topP nucleus sampling p (TRL: {@code top_p} 1.0). Default {@code 1.0}.
 * @param lossType aggregation of the per-token losses (TRL: {@code loss_type} "dapo"). Default {@code GrpoLossType.DAPO}.
 * @param scaleRewards std used to scale advantages (TRL: {@code scale_rewards} "group"). Default {@code ScaleRewards.GROUP}.
 * @param epsilon lower clip ε_low (TRL: {@code epsilon} 0.2). Default {@code 0.2}.
 * @param epsilonHigh upper clip ε_high (TRL: {@code epsilon_high}, defaults to ε_low; DAPO uses 0.28). Default {@code 0.2}.
 * @param beta KL coefficient β against the reference with the k3 estimator; 0 needs no reference (TRL: {@code beta} 0.0). Default {@code 0.0}.
 * @param biasCorrectionKl multiply the k3 term by ρ (TRL: {@code use_bias_correction_kl} True). Default {@code true}.
 * @param maskTruncatedCompletions exclude completions without EOS from the loss (TRL: {@code mask_truncated_completions} False; DAPO's overlong filtering). Default {@code false}.
 * @param schedule evaluation, checkpoint and logging periods in updates. Default {@code TrainingSchedule.of(50, 50)}.
 */
public record GrpoConfig(
        long seed,
        OptimizerConfig optimizer,
        double epochs,
        int promptsPerStep,
        int numGenerations,
        int microBatchSize,
        int numIterations,
        int maxCompletionLength,
        double temperature,
        int topK,
        double topP,
        GrpoLossType lossType,
        ScaleRewards scaleRewards,
        double epsilon,
        double epsilonHigh,
        double beta,
        boolean biasCorrectionKl,
        boolean maskTruncatedCompletions,
        TrainingSchedule schedule) {

    /** Validates; the batch sizes must divide exactly. */
    public GrpoConfig {
        if (optimizer == null || lossType == null || scaleRewards == null || schedule == null) {
            throw new IllegalArgumentException("optimizer, lossType, scaleRewards and schedule must not be null");
        }
        if (!(epochs > 0)) {
            throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
        }
        if (promptsPerStep < 1 || numGenerations < 2) {
            throw new IllegalArgumentException("promptsPerStep must be >= 1 and numGenerations >= 2 (a group needs two "
                    + "completions to compare), got " + promptsPerStep + ", " + numGenerations);
        }
        int batch = promptsPerStep * numGenerations;
        if (microBatchSize < 1 || batch % microBatchSize != 0) {
            throw new IllegalArgumentException("promptsPerStep × numGenerations = " + batch
                    + " must be a multiple of microBatchSize (" + microBatchSize + ")");
        }
        if (numIterations < 1 || maxCompletionLength < 1) {
            throw new IllegalArgumentException("numIterations and maxCompletionLength must be >= 1, got " + numIterations
                    + ", " + maxCompletionLength);
        }
        if (!(temperature > 0) || topK < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("temperature must be > 0, topK >= 0 and topP in (0, 1], got "
                    + temperature + ", " + topK + ", " + topP);
        }
        if (!(epsilon >= 0) || !(epsilonHigh >= 0) || !(beta >= 0)) {
            throw new IllegalArgumentException("epsilon, epsilonHigh and beta must be >= 0, got " + epsilon + ", "
                    + epsilonHigh + ", " + beta);
        }
    }

    /**
     * TRL's defaults.
     *
     * @return {@code builder().build()}
     */
    public static GrpoConfig defaults() {
        return builder().build();
    }

    /**
     * Returns a builder with the defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder holding this config's values.
     *
     * @return the builder
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.seed = seed;
        b.optimizer = optimizer;
        b.epochs = epochs;
        b.promptsPerStep = promptsPerStep;
        b.numGenerations = numGenerations;
        b.microBatchSize = microBatchSize;
        b.numIterations = numIterations;
        b.maxCompletionLength = maxCompletionLength;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.lossType = lossType;
        b.scaleRewards = scaleRewards;
        b.epsilon = epsilon;
        b.epsilonHigh = epsilonHigh;
        b.beta = beta;
        b.biasCorrectionKl = biasCorrectionKl;
        b.maskTruncatedCompletions = maskTruncatedCompletions;
        b.schedule = schedule;
        return b;
    }

    /**
     * Returns the completions per generation batch.
     *
     * @return B = promptsPerStep · numGenerations
     */
    public int batchSize() {
        return promptsPerStep * numGenerations;
    }

    /**
     * Returns the number of updates (generation batches) over N prompts.
     *
     * @param prompts N
     * @return ⌈epochs · N / promptsPerStep⌉
     */
    public long totalSteps(int prompts) {
        return Math.max(1, (long) Math.ceil(epochs * prompts / promptsPerStep));
    }

    /**
     * Returns the loss settings.
     *
     * @return {@link GrpoLosses.Config} with these values (no entropy bonus)
     */
    public GrpoLosses.Config lossConfig() {
        return new GrpoLosses.Config(lossType, epsilon, epsilonHigh, beta, biasCorrectionKl, maxCompletionLength, 0.0);
    }

    /** Builder of {@link GrpoConfig}; starts from the defaults. */
    public static final class Builder {
        private long seed = 1;
        private OptimizerConfig optimizer = OptimizerConfig.builder().setLearningRate(1e-6).setEps(1e-8).build();
        private double epochs = 1.0;
        private int promptsPerStep = 8;
        private int numGenerations = 8;
        private int microBatchSize = 8;
        private int numIterations = 1;
        private int maxCompletionLength = 512;
        private double temperature = 1.0;
        private int topK = 0;
        private double topP = 1.0;
        private GrpoLossType lossType = GrpoLossType.DAPO;
        private ScaleRewards scaleRewards = ScaleRewards.GROUP;
        private double epsilon = 0.2;
        private double epsilonHigh = 0.2;
        private double beta = 0.0;
        private boolean biasCorrectionKl = true;
        private boolean maskTruncatedCompletions = false;
        private TrainingSchedule schedule = TrainingSchedule.of(50, 50);

        private Builder() {}

        /**
         * Sets {@code seed}.
         *
         * @param v the value
         * @return this
         */
        public Builder setSeed(long v) {
            this.seed = v;
            return this;
        }

        /**
         * Sets {@code optimizer}.
         *
         * @param v the value
         * @return this
         */
        public Builder setOptimizer(OptimizerConfig v) {
            this.optimizer = v;
            return this;
        }

        /**
         * Sets {@code epochs}.
         *
         * @param v the value
         * @return this
         */
        public Builder setEpochs(double v) {
            this.epochs = v;
            return this;
        }

        /**
         * Sets {@code promptsPerStep}.
         *
         * @param v the value
         * @return this
         */
        public Builder setPromptsPerStep(int v) {
            this.promptsPerStep = v;
            return this;
        }

        /**
         * Sets {@code numGenerations}.
         *
         * @param v the value
         * @return this
         */
        public Builder setNumGenerations(int v) {
            this.numGenerations = v;
            return this;
        }

        /**
         * Sets {@code microBatchSize}.
         *
         * @param v the value
         * @return this
         */
        public Builder setMicroBatchSize(int v) {
            this.microBatchSize = v;
            return this;
        }

        /**
         * Sets {@code numIterations}.
         *
         * @param v the value
         * @return this
         */
        public Builder setNumIterations(int v) {
            this.numIterations = v;
            return this;
        }

        /**
         * Sets {@code maxCompletionLength}.
         *
         * @param v the value
         * @return this
         */
        public Builder setMaxCompletionLength(int v) {
            this.maxCompletionLength = v;
            return this;
        }

        /**
         * Sets {@code temperature}.
         *
         * @param v the value
         * @return this
         */
        public Builder setTemperature(double v) {
            this.temperature = v;
            return this;
        }

        /**
         * Sets {@code topK}.
         *
         * @param v the value
         * @return this
         */
        public Builder setTopK(int v) {
            this.topK = v;
            return this;
        }

        /**
         * Sets {@code topP}.
         *
         * @param v the value
         * @return this
         */
        public Builder setTopP(double v) {
            this.topP = v;
            return this;
        }

        /**
         * Sets {@code lossType}.
         *
         * @param v the value
         * @return this
         */
        public Builder setLossType(GrpoLossType v) {
            this.lossType = v;
            return this;
        }

        /**
         * Sets {@code scaleRewards}.
         *
         * @param v the value
         * @return this
         */
        public Builder setScaleRewards(ScaleRewards v) {
            this.scaleRewards = v;
            return this;
        }

        /**
         * Sets {@code epsilon}.
         *
         * @param v the value
         * @return this
         */
        public Builder setEpsilon(double v) {
            this.epsilon = v;
            return this;
        }

        /**
         * Sets {@code epsilonHigh}.
         *
         * @param v the value
         * @return this
         */
        public Builder setEpsilonHigh(double v) {
            this.epsilonHigh = v;
            return this;
        }

        /**
         * Sets {@code beta}.
         *
         * @param v the value
         * @return this
         */
        public Builder setBeta(double v) {
            this.beta = v;
            return this;
        }

        /**
         * Sets {@code biasCorrectionKl}.
         *
         * @param v the value
         * @return this
         */
        public Builder setBiasCorrectionKl(boolean v) {
            this.biasCorrectionKl = v;
            return this;
        }

        /**
         * Sets {@code maskTruncatedCompletions}.
         *
         * @param v the value
         * @return this
         */
        public Builder setMaskTruncatedCompletions(boolean v) {
            this.maskTruncatedCompletions = v;
            return this;
        }

        /**
         * Sets {@code schedule}.
         *
         * @param v the value
         * @return this
         */
        public Builder setSchedule(TrainingSchedule v) {
            this.schedule = v;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the config
         */
        public GrpoConfig build() {
            return new GrpoConfig(seed, optimizer, epochs, promptsPerStep, numGenerations, microBatchSize, numIterations, maxCompletionLength, temperature, topK, topP, lossType, scaleRewards, epsilon, epsilonHigh, beta, biasCorrectionKl, maskTruncatedCompletions, schedule);
        }
    }
}
