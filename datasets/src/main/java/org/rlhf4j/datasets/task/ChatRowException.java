package org.rlhf4j.datasets.task;

import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.SkipReason;

/**
 * A conversational row cannot be rendered: the chat template raised an error, there is no chat template, or the
 * rendered prompt is not the start of the rendered prompt + completion. Thrown by {@link ChatEncoder} and
 * {@link TldrTask}; turn it into a located error with {@link #at(String, long)}.
 */
public final class ChatRowException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;
    private final String detail;

    /**
     * Creates the exception.
     *
     * @param field the field at fault (e.g. {@code completion})
     * @param detail what is wrong
     * @param cause the template's error, or null
     */
    public ChatRowException(String field, String detail, Throwable cause) {
        super("field '" + field + "': " + detail, cause);
        this.field = field;
        this.detail = detail;
    }

    /**
     * Returns the field at fault.
     *
     * @return the field
     */
    public String field() {
        return field;
    }

    /**
     * Returns the description without the field.
     *
     * @return the detail
     */
    public String detail() {
        return detail;
    }

    /**
     * Returns a located data error ({@link SkipReason#CHAT_TEMPLATE}) with the same field and detail.
     *
     * @param file the file name
     * @param line the 1-based line
     * @return the error
     */
    public DataFormatException at(String file, long line) {
        return new DataFormatException(file, line, field, SkipReason.CHAT_TEMPLATE, detail, this);
    }
}
