package org.rlhf4j.datasets.download;

import java.io.IOException;

/** A download failed (HTTP error, interrupted transfer, unusable cache); the message says what to do next. */
public class DownloadException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed and what to do
     */
    public DownloadException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what failed and what to do
     * @param cause the underlying error
     */
    public DownloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
