package org.rlhf4j.datasets.hub;

import java.util.Objects;
import org.rlhf4j.datasets.download.DownloadException;

/**
 * A Hub request or download failed; {@link #reason()} says why and the message says what to do about it. Messages
 * never contain the access token.
 */
public class HubException extends DownloadException {

    private static final long serialVersionUID = 1L;

    /** Why a Hub operation failed. */
    public enum Reason {
        /** The repository is gated and the caller has not been granted access (HTTP 401/403, GatedRepo). */
        GATED,
        /** The repository does not exist, or is private and the token (if any) has no access (RepoNotFound). */
        REPO_NOT_FOUND,
        /** The branch, tag or commit does not exist in the repository (RevisionNotFound). */
        REVISION_NOT_FOUND,
        /** A file listed by the tree API could not be found at download time (EntryNotFound). */
        ENTRY_NOT_FOUND,
        /** The token was rejected (HTTP 401, invalid credentials). */
        UNAUTHORIZED,
        /** The token is valid but lacks a permission (HTTP 403). */
        FORBIDDEN,
        /** Still rate limited (HTTP 429) after the retries. */
        RATE_LIMITED,
        /** The server kept failing (HTTP 5xx) after the retries. */
        SERVER_ERROR,
        /** Another HTTP status. */
        HTTP_ERROR,
        /** The endpoint could not be reached (connection refused, unknown host, connect timeout). */
        UNREACHABLE,
        /** The server sent no response (headers) within the timeout, repeatedly. */
        TIMEOUT,
        /** A transfer stalled or broke off too many times in a row; the partial file is kept for the next run. */
        INTERRUPTED,
        /** A downloaded file does not have the size or hash the tree API announced; it was deleted. */
        CHECKSUM_MISMATCH,
        /** The server answered something that is not what its API promises. */
        BAD_RESPONSE,
        /** Offline mode is on and the files are not there. */
        OFFLINE,
        /** The repository's weights are in a format rlhf4j cannot read (no safetensors). */
        NO_SAFETENSORS,
        /** The output directory holds something else (another repository, or files rlhf4j did not download). */
        OUTPUT_CONFLICT
    }

    private final Reason reason;
    private final int status;

    /**
     * Creates the exception.
     *
     * @param reason why
     * @param status the HTTP status, or -1 when there was none
     * @param message what failed and what to do
     * @param cause the underlying error, or null
     */
    public HubException(Reason reason, int status, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.status = status;
    }

    /**
     * Creates the exception without an HTTP status or cause.
     *
     * @param reason why
     * @param message what failed and what to do
     */
    public HubException(Reason reason, String message) {
        this(reason, -1, message, null);
    }

    /**
     * Returns why the operation failed.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }

    /**
     * Returns the HTTP status that caused the failure.
     *
     * @return the status, or -1 when there was none
     */
    public int status() {
        return status;
    }
}
