package org.rlhf4j.algorithms.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.rlhf4j.core.checkpoint.AtomicDirectory;

/**
 * The layout of a training run's output directory.
 *
 * <pre>
 * OUT/run_config.json      the run's effective configuration (algorithm, seed, trainer config, data id, initial
 *                          model); a later run into OUT is compared with it ({@link RunConfig})
 * OUT/checkpoint-STEP/     a resumable checkpoint after STEP updates: an HF model directory plus trainer_state.json,
 *                          optimizer.safetensors (and critic/ for PPO), provenance.json; written atomically, the
 *                          oldest deleted beyond save_total_limit
 * OUT/model/               the final model when the run is complete: an HF model directory (the next stage's --model)
 *                          with trainer_state.json and provenance.json (no optimizer state)
 * OUT/model.lock           while a trainer runs: its owner lock (pid, host, start time); deleted at the end
 * OUT/metrics.jsonl        one JSON object per logged step (append-only; cut back to the checkpoint on resume)
 * OUT/eval.jsonl           evaluation results, one per evaluation (append-only, idem)
 * OUT/samples.jsonl        sample generations (append-only, idem)
 * OUT/plots/               PNG curves (CLI)
 * </pre>
 *
 * <p>Only the run's owner, the process holding {@link #lock()}, writes, recovers or deletes anything here; readers of
 * {@code OUT/model} ({@code CausalLm.load}, {@code Checkpoint.tokenizerFor}, the CLI's {@code --model}) change
 * nothing, even mid-save.
 *
 * @param root the output directory
 */
public record RunDir(Path root) {

    /** Name prefix of checkpoint directories ({@code checkpoint-STEP}, as Hugging Face's Trainer). */
    public static final String CHECKPOINT_PREFIX = "checkpoint-";

    private static final String DELETING_SUFFIX = ".deleting";

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
     * Returns the directory of the checkpoint after a number of updates.
     *
     * @param step completed updates
     * @return OUT/checkpoint-STEP
     */
    public Path checkpoint(long step) {
        if (step < 1) {
            throw new IllegalArgumentException("a checkpoint's step must be >= 1, got " + step);
        }
        return root.resolve(CHECKPOINT_PREFIX + step);
    }

    /**
     * Returns the complete checkpoint directories, oldest first (those with a {@code trainer_state.json}; temporary
     * and half-deleted directories are not checkpoints).
     *
     * @return the checkpoints by ascending step
     * @throws IOException when the directory cannot be listed
     */
    public List<Path> checkpoints() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                if (stepOf(p) > 0 && Files.exists(p.resolve("trainer_state.json"))) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(RunDir::stepOf));
        return out;
    }

    /**
     * Returns the step of a {@code checkpoint-STEP} directory.
     *
     * @param dir a directory
     * @return STEP, or -1 when the name is not a checkpoint's
     */
    public static long stepOf(Path dir) {
        String n = dir.getFileName().toString();
        if (!n.startsWith(CHECKPOINT_PREFIX)) {
            return -1;
        }
        String digits = n.substring(CHECKPOINT_PREFIX.length());
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(digits);
    }

    /**
     * Deletes the oldest checkpoints so that at most {@code limit} remain (0 keeps all). A checkpoint is first renamed
     * to {@code checkpoint-STEP.deleting} (atomic), so a kill during the deletion never leaves a half-deleted directory
     * that looks like a checkpoint.
     *
     * @param limit how many to keep (save_total_limit); 0 = all
     * @throws IOException on failure
     */
    public void rotateCheckpoints(int limit) throws IOException {
        deleteLeftovers();
        if (limit <= 0) {
            return;
        }
        List<Path> all = checkpoints();
        for (int i = 0; i < all.size() - limit; i++) {
            Path doomed = all.get(i).resolveSibling(all.get(i).getFileName() + DELETING_SUFFIX);
            Files.move(all.get(i), doomed, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            AtomicDirectory.deleteTree(doomed);
        }
    }

    /**
     * Deletes what an interrupted rotation left ({@code checkpoint-STEP.deleting}).
     *
     * @throws IOException on failure
     */
    void deleteLeftovers() throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(DELETING_SUFFIX)).toList()) {
                AtomicDirectory.deleteTree(p);
            }
        }
    }

    /**
     * Returns the run's saved effective configuration file.
     *
     * @return OUT/run_config.json
     */
    public Path runConfig() {
        return root.resolve(RunConfig.FILE);
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
     * Returns the directory to resume from: the final {@code model/} when the run is complete, else the checkpoint
     * with the most updates (a {@code model/} with a trainer state counts as one: the layout before checkpoint
     * directories), completing interrupted saves first. Call it as the run's owner: recovery takes the owner locks (a
     * new hold when this thread has {@link #lock()}).
     *
     * @return the directory, or null when the run has no checkpoint
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run
     * @throws IOException on failure
     */
    public Path latestCheckpoint() throws IOException {
        AtomicDirectory.recover(model());
        deleteLeftovers();
        Path best = null;
        long bestStep = -1;
        if (Files.exists(model().resolve("trainer_state.json"))) {
            best = model();
            bestStep = org.rlhf4j.core.checkpoint.TrainerState.read(model()).step();
        }
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.list(root)) {
                for (Path p : s.filter(p -> stepOf(p) > 0).toList()) {
                    AtomicDirectory.recover(p);
                }
            }
        }
        for (Path c : checkpoints()) {
            if (stepOf(c) > bestStep) {
                best = c;
                bestStep = stepOf(c);
            }
        }
        return best;
    }

    /**
     * Returns whether a resumable checkpoint exists ({@link #latestCheckpoint()} is not null).
     *
     * @return true when there is one
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the run
     * @throws IOException on failure
     */
    public boolean hasCheckpoint() throws IOException {
        return latestCheckpoint() != null;
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
