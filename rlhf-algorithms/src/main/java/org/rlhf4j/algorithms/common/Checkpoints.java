package org.rlhf4j.algorithms.common;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.train.AdamW;

/** Restoring trainers from checkpoints written by {@link Checkpoint}. */
public final class Checkpoints {

    private Checkpoints() {}

    /**
     * Reads a checkpoint's trainer state and checks that it was written by the expected algorithm.
     *
     * @param dir the checkpoint directory
     * @param algorithm expected algorithm
     * @return the state
     * @throws ModelFormatException when missing, malformed, or from another algorithm
     */
    public static TrainerState state(Path dir, String algorithm) throws ModelFormatException {
        TrainerState st = TrainerState.read(dir);
        if (!algorithm.equals(st.algorithm())) {
            throw new ModelFormatException(dir.resolve("trainer_state.json"),
                    "field 'algorithm' is '" + st.algorithm() + "', expected '" + algorithm + "'");
        }
        return st;
    }

    /**
     * Copies a saved language model's weights into live weights and restores the optimizer.
     *
     * @param dir the checkpoint directory
     * @param into the live weights (same names and shapes)
     * @param optimizer the live optimizer, or null to restore the weights only (a final model has no optimizer state)
     * @throws IOException when a file is missing or inconsistent
     */
    public static void restoreLm(Path dir, Weights into, AdamW optimizer) throws IOException {
        try (NDManager m = into.manager().newSubManager();
                CausalLm saved = CausalLm.load(dir, m)) {
            into.copyFrom(saved.weights());
        }
        if (optimizer != null) {
            optimizer.load(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        }
    }

    /**
     * Copies a saved model's trainable weights into a live model and restores the optimizer: for a
     * {@link LoraModel}, the adapter matrices of the checkpoint's {@code adapter_model.safetensors}, read over the
     * live model's own frozen base (nothing of the base is loaded again); for a full model,
     * {@link #restoreLm(Path, Weights, AdamW)}.
     *
     * @param dir the checkpoint directory
     * @param into the live model
     * @param optimizer the live optimizer, or null to restore the weights only
     * @throws IOException when a file is missing or inconsistent (e.g. a full checkpoint for a LoRA run)
     */
    public static void restoreLm(Path dir, CausalLm into, AdamW optimizer) throws IOException {
        if (!(into instanceof LoraModel live)) {
            restoreLm(dir, into.weights(), optimizer);
            return;
        }
        try (LoraModel saved = LoraModel.load(dir, live.base(), false)) {
            live.weights().copyFrom(saved.weights());
        }
        if (optimizer != null) {
            optimizer.load(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        }
    }

    /**
     * Copies a saved scalar model's trainable weights into a live model and restores the optimizer: for a LoRA scalar
     * model, the adapter and head of the checkpoint's {@code adapter_model.safetensors}, read over the live model's own
     * frozen base; for a full model, {@link #restoreScalar(Path, Weights, AdamW)}.
     *
     * @param dir the checkpoint directory
     * @param into the live model
     * @param optimizer the live optimizer, or null to restore the weights only
     * @throws IOException when a file is missing or inconsistent
     */
    public static void restoreScalar(Path dir, ScalarModel into, AdamW optimizer) throws IOException {
        if (into.base().isEmpty()) {
            restoreScalar(dir, into.weights(), optimizer);
            return;
        }
        try (ScalarModel saved = ScalarModel.loadAdapter(dir, into.base().get(), false, 0)) {
            into.weights().copyFrom(saved.weights());
        }
        if (optimizer != null) {
            optimizer.load(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        }
    }

    /**
     * Copies a saved scalar model's weights into live weights and restores the optimizer.
     *
     * @param dir the checkpoint directory
     * @param into the live weights
     * @param optimizer the live optimizer, or null to restore the weights only
     * @throws IOException when a file is missing or inconsistent
     */
    public static void restoreScalar(Path dir, Weights into, AdamW optimizer) throws IOException {
        try (NDManager m = into.manager().newSubManager();
                ScalarModel saved = ScalarModel.load(dir, m, 0)) {
            into.copyFrom(saved.weights());
        }
        if (optimizer != null) {
            optimizer.load(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        }
    }
}
