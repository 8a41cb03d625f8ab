package org.rlhf4j.datasets.download;

import java.nio.file.Path;

/** A file's sha256 differs from the one recorded (or known); the bad file has been moved aside and is not used. */
public final class ChecksumMismatchException extends DownloadException {

    private static final long serialVersionUID = 1L;

    private final String expected;
    private final String actual;
    private final transient Path movedTo;

    /**
     * Creates the exception.
     *
     * @param file the file that was checked (its cache path)
     * @param expected the recorded sha256
     * @param actual the sha256 found
     * @param movedTo where the bad file now is
     */
    public ChecksumMismatchException(Path file, String expected, String actual, Path movedTo) {
        super("sha256 mismatch for " + file + ": expected " + expected + ", got " + actual
                + "; the file was moved to " + movedTo + " and is not used. Run the download again to fetch a fresh"
                + " copy (or delete the entry from manifest.json if the source changed on purpose).");
        this.expected = expected;
        this.actual = actual;
        this.movedTo = movedTo;
    }

    /**
     * Returns the expected checksum.
     *
     * @return hex sha256
     */
    public String expected() {
        return expected;
    }

    /**
     * Returns the checksum found.
     *
     * @return hex sha256
     */
    public String actual() {
        return actual;
    }

    /**
     * Returns where the bad file was moved.
     *
     * @return the path
     */
    public Path movedTo() {
        return movedTo;
    }
}
