package org.rlhf4j.datasets.download;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The data is not in the cache and cannot be downloaded (no network); the message lists every URL and the exact path
 * to place it at.
 */
public final class MissingDataException extends DownloadException {

    private static final long serialVersionUID = 1L;

    private final transient List<Missing> missing;

    /**
     * One file to fetch by hand.
     *
     * @param url where to get it
     * @param target where to put it
     */
    public record Missing(URI url, Path target) {}

    /**
     * Creates the exception.
     *
     * @param missing the files still missing
     * @param cause the network error
     */
    public MissingDataException(List<Missing> missing, Throwable cause) {
        super(message(missing, cause), cause);
        this.missing = List.copyOf(missing);
    }

    private static String message(List<Missing> missing, Throwable cause) {
        StringBuilder sb = new StringBuilder("cannot download (")
                .append(cause == null ? "no network" : cause.getClass().getSimpleName() + ": " + cause.getMessage())
                .append("). Fetch these ").append(missing.size())
                .append(" files on a machine with network access and place each at the path shown (then run the"
                        + " command again; checksums are recorded on first use):\n");
        for (Missing m : missing) {
            sb.append("  ").append(m.url()).append("\n    -> ").append(m.target()).append('\n');
        }
        return sb.toString().stripTrailing();
    }

    /**
     * Returns the files to fetch by hand.
     *
     * @return URL and target of each
     */
    public List<Missing> missing() {
        return missing;
    }
}
