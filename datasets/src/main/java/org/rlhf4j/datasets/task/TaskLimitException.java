package org.rlhf4j.datasets.task;

import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.SkipReason;

/**
 * A row does not fit the task's token limits (query too long even with the post truncated away, or a response
 * longer than its limit). Thrown by {@link TldrTask}; turn it into a located error with {@link #at(String, long)}.
 */
public final class TaskLimitException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final SkipReason reason;
    private final String field;
    private final String detail;

    /**
     * Creates the exception.
     *
     * @param reason {@link SkipReason#QUERY_TOO_LONG} or {@link SkipReason#RESPONSE_TOO_LONG}
     * @param field the field at fault (e.g. {@code summary})
     * @param detail what is wrong, with the token counts
     */
    public TaskLimitException(SkipReason reason, String field, String detail) {
        super("field '" + field + "': " + detail);
        this.reason = reason;
        this.field = field;
        this.detail = detail;
    }

    /**
     * Returns the category.
     *
     * @return the reason
     */
    public SkipReason reason() {
        return reason;
    }

    /**
     * Returns the field at fault.
     *
     * @return the field path
     */
    public String field() {
        return field;
    }

    /**
     * Returns a located data error with the same reason, field and detail.
     *
     * @param file the file name
     * @param line the 1-based line
     * @return the error
     */
    public DataFormatException at(String file, long line) {
        return new DataFormatException(file, line, field, reason, detail, this);
    }

    /**
     * Returns the description without the field.
     *
     * @return the detail
     */
    public String detail() {
        return detail;
    }
}
