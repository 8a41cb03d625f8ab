package org.rlhf4j.core.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model or checkpoint file is missing, truncated or inconsistent; the message names the file and, where one is
 * involved, the tensor or field.
 */
public class ModelFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception whose message starts with the file.
     *
     * @param file the offending file
     * @param message what is wrong, naming the tensor or field
     */
    public ModelFormatException(Path file, String message) {
        super(file + ": " + message);
    }

    /**
     * Creates an exception whose message starts with the file, with a cause.
     *
     * @param file the offending file
     * @param message what is wrong
     * @param cause the underlying error
     */
    public ModelFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
