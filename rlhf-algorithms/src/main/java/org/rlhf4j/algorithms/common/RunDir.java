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
 * OUT/metrics.jsonl    one JSON object per logged step
 * OUT/eval.jsonl       evaluation results
 * OUT/samples.jsonl    sample generations
 * OUT/plots/           PNG curves (CLI)
 * </pre>
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
     * Returns whether a resumable checkpoint exists (completing an interrupted checkpoint swap first).
     *
     * @return true when OUT/model/trainer_state.json exists
     * @throws IOException on failure
     */
    public boolean hasCheckpoint() throws IOException {
        AtomicDirectory.recover(model());
        return Files.exists(model().resolve("trainer_state.json"));
    }
}
