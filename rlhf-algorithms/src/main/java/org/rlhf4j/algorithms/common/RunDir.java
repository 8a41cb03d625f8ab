package org.rlhf4j.algorithms.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rlhf4j.core.checkpoint.AtomicDirectory;

/**
 * The layout of a training run's output directory.
 *
 * <pre>
 * OUT/model/           the latest checkpoint: an HF model directory (the next stage's --model) plus
 *                      trainer_state.json, optimizer.safetensors, provenance.json; replaced atomically
 * OUT/model.lock       while a trainer runs: its owner lock (pid, host, start time); deleted at the end
 * OUT/metrics.jsonl    one JSON object per logged step
 * OUT/eval.jsonl       evaluation results
 * OUT/samples.jsonl    sample generations
 * OUT/plots/           PNG curves (CLI)
 * </pre>
 *
 * <p>Only the run's owner, the process holding {@link #lock()}, writes, recovers or deletes anything here; readers of
 * {@code OUT/model} ({@code CausalLm.load}, {@code Checkpoint.tokenizerFor}, the CLI's {@code --model}) change
 * nothing, even mid-save.
 *
 * @param root the output directory
 */
public record RunDir(Path root) {

    /**
     * Creates the directory if needed.
     *
     * @return this
     * @throws IOException on failure
     */
    public RunDir create() throws IOException {
        Files.createDirectories(root);
        return this;
    }

    /**
     * Returns the checkpoint directory.
     *
     * @return OUT/model
     */
    public Path model() {
        return root.resolve("model");
    }

    /**
     * Returns the metrics file.
     *
     * @return OUT/metrics.jsonl
     */
    public Path metrics() {
        return root.resolve("metrics.jsonl");
    }

    /**
     * Returns the evaluation file.
     *
     * @return OUT/eval.jsonl
     */
    public Path eval() {
        return root.resolve("eval.jsonl");
    }

    /**
     * Returns the samples file.
     *
     * @return OUT/samples.jsonl
     */
    public Path samples() {
        return root.resolve("samples.jsonl");
    }

    /**
     * Returns the plots directory.
     *
     * @return OUT/plots
     */
    public Path plots() {
        return root.resolve("plots");
    }

    /**
     * Takes ownership of the run: the owner lock {@code OUT/model.lock} ({@link AtomicDirectory#lock}). Trainers hold
     * it for their whole run; it is re-entrant within the owning thread.
     *
     * @return the lock; close it to release
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run
     * @throws IOException when the lock file cannot be created
     */
    public AtomicDirectory.Lock lock() throws IOException {
        return AtomicDirectory.lock(model());
    }

    /**
     * Returns whether a resumable checkpoint exists, completing an interrupted checkpoint swap first. Call it as the
     * run's owner: recovery takes the owner lock (a new hold when this thread has {@link #lock()}).
     *
     * @return true when OUT/model/trainer_state.json exists
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run
     * @throws IOException on failure
     */
    public boolean hasCheckpoint() throws IOException {
        AtomicDirectory.recover(model());
        return Files.exists(model().resolve("trainer_state.json"));
    }

    /**
     * Deletes the whole run directory (e.g. {@code --force}), unless another process owns it.
     *
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run; nothing is
     *     deleted then
     * @throws IOException on failure
     */
    public void delete() throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (AtomicDirectory.Lock owner = lock()) {
            AtomicDirectory.deleteTree(root);
        }
    }
}
