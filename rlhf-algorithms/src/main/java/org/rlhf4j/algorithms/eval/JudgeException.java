package org.rlhf4j.algorithms.eval;

/** A judge could not produce an answer: the LLM endpoint failed after all retries, or refused the request. */
public final class JudgeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed (never contains credentials)
     * @param cause the last underlying error, or null
     */
    public JudgeException(String message, Throwable cause) {
        super(message, cause);
    }
}
