package org.rlhf4j.datasets.io;

import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.SkipReason;

/** Where the current row came from, and the way to reject it (strict: throw; lenient: count and skip). */
public final class RowContext {

    private final String file;
    private final boolean lenient;
    private final SkipCounts skips;
    private long line;
    private boolean rejected;

    RowContext(String file, boolean lenient, SkipCounts skips) {
        this.file = file;
        this.lenient = lenient;
        this.skips = skips;
    }

    void moveTo(long line) {
        this.line = line;
        this.rejected = false;
    }

    /**
     * Returns the file name used in messages.
     *
     * @return the file name
     */
    public String file() {
        return file;
    }

    /**
     * Returns the current 1-based line number.
     *
     * @return the line
     */
    public long line() {
        return line;
    }

    /**
     * Returns whether bad rows are skipped rather than fatal.
     *
     * @return true in lenient mode
     */
    public boolean lenient() {
        return lenient;
    }

    /**
     * Returns whether the current row has been rejected.
     *
     * @return true after {@link #reject} in lenient mode
     */
    public boolean rejected() {
        return rejected;
    }

    /**
     * Rejects the current row.
     *
     * @param reason the category
     * @param field the field path, or null for the whole row
     * @param detail what is wrong
     * @throws DataFormatException in strict mode, always
     */
    public void reject(SkipReason reason, String field, String detail) {
        reject(new DataFormatException(file, line, field, reason, detail));
    }

    /**
     * Rejects the current row with a prepared error.
     *
     * @param error the error (its file and line should be this context's)
     * @throws DataFormatException the error, in strict mode
     */
    public void reject(DataFormatException error) {
        if (!lenient) {
            throw error;
        }
        if (!rejected) {
            skips.add(error);
        }
        rejected = true;
    }
}
