package org.rlhf4j.core.io;

import java.nio.file.Path;

/**
 * A tensor holds NaN or an infinity: {@link SafeTensors} refuses to write such a tensor (so a diverged run never
 * saves a checkpoint) and refuses to load one (so a corrupt or diverged model never reaches training or inference).
 * The message names the file and the tensor.
 */
public class NonFiniteTensorException extends ModelFormatException {

    private static final long serialVersionUID = 1L;

    private final String tensor;

    /**
     * Creates the exception.
     *
     * @param file the file being read or written
     * @param tensor the first tensor found holding NaN or infinity
     * @param message what was refused, naming the tensor
     */
    public NonFiniteTensorException(Path file, String tensor, String message) {
        super(file, message);
        this.tensor = tensor;
    }

    /**
     * Returns the name of the offending tensor.
     *
     * @return the tensor name
     */
    public String tensor() {
        return tensor;
    }
}
