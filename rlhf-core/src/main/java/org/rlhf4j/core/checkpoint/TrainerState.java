package org.rlhf4j.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * The resumable state of a trainer ({@code trainer_state.json}). Random streams are derived from (seed, step) (see
 * {@link org.rlhf4j.core.train.Seeds}), so the seed and step are the whole RNG state.
 *
 * @param algorithm the trainer (e.g. {@code sft})
 * @param step completed optimizer updates
 * @param epoch completed passes over the data
 * @param seed the run seed
 * @param samplesSeen training samples consumed
 * @param extra trainer-specific values (e.g. the adaptive KL coefficient)
 */
public record TrainerState(String algorithm, long step, long epoch, long seed, long samplesSeen, Map<String, JsonNode> extra) {

    /** Validates and copies. */
    public TrainerState {
        if (step < 0 || epoch < 0 || samplesSeen < 0) {
            throw new IllegalArgumentException(
                    "step, epoch and samplesSeen must be >= 0, got " + step + ", " + epoch + ", " + samplesSeen);
        }
        extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    /**
     * Writes {@code trainer_state.json}.
     *
     * @param dir the checkpoint directory
     * @throws IOException on failure
     */
    public void write(Path dir) throws IOException {
        Json.write(dir.resolve("trainer_state.json"), this);
    }

    /**
     * Reads {@code trainer_state.json}.
     *
     * @param dir the checkpoint directory
     * @return the state
     * @throws ModelFormatException when missing or malformed
     */
    public static TrainerState read(Path dir) throws ModelFormatException {
        Path f = dir.resolve("trainer_state.json");
        try {
            return Json.MAPPER.readValue(Files.readString(f), TrainerState.class);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(f, "file not found");
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelFormatException(f, "malformed: " + e.getMessage(), e);
        }
    }
}
