package org.rlhf4j.algorithms.common;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;

/**
 * The {@link TrainingLoop.Trainee} of a trainer that updates one language model with one optimizer (SFT, DPO, GRPO,
 * RLOO): checkpoints hold the model, its tokenizer and the optimizer moments; the trainer supplies its step and its
 * evaluation. A LoRA policy ({@link org.rlhf4j.core.lora.LoraModel}) saves and restores only its adapter (PEFT
 * files), its optimizer covers only the adapter, and the run config records the adapter's settings.
 */
public abstract class PolicyTrainee implements TrainingLoop.Trainee {

    /** The model being trained. */
    protected final CausalLm policy;
    /** Its tokenizer, saved with every checkpoint. */
    protected final Tokenizer tokenizer;
    /** The optimizer of {@link #policy}. */
    protected final AdamW optimizer;

    /**
     * Creates the trainee.
     *
     * @param policy the model being trained
     * @param tokenizer its tokenizer
     * @param optimizer its optimizer
     */
    protected PolicyTrainee(CausalLm policy, Tokenizer tokenizer, AdamW optimizer) {
        this.policy = policy;
        this.tokenizer = tokenizer;
        this.optimizer = optimizer;
    }

    @Override
    public void restore(Path dir, TrainerState state, boolean withOptimizer) throws IOException {
        Checkpoints.restoreLm(dir, policy, withOptimizer ? optimizer : null);
    }

    /** The policy's adapter when it is a LoRA model (role {@code policy}). */
    @Override
    public Map<String, LoraConfig> adapters() {
        return Adapters.of(Map.of("policy", policy));
    }

    @Override
    public void save(Path dir, boolean withOptimizer, SaveOptions weights) throws IOException {
        policy.save(dir, weights);
        tokenizer.save(dir);
        if (withOptimizer) {
            optimizer.save(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        }
    }
}
