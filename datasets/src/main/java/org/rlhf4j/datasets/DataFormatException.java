package org.rlhf4j.datasets;

/**
 * A data row is unusable; the message names the file, the line and the field, e.g.
 * {@code train.jsonl:17: field 'summary': empty}.
 *
 * <p>Unchecked so that it can leave row callbacks; in strict mode it is the first bad row's error, in lenient mode
 * the same information is counted by {@link #reason()} instead of thrown.
 */
public class DataFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final long line;
    private final String field;
    private final SkipReason reason;
    private final String detail;

    /**
     * Creates the exception.
     *
     * @param file the file name (as shown to the user, usually the base name)
     * @param line the 1-based line number, or 0 when the error is not tied to a line
     * @param field the field path (e.g. {@code summaries[1].text}), or null when the whole row is at fault
     * @param reason the category
     * @param detail what is wrong (e.g. {@code empty})
     */
    public DataFormatException(String file, long line, String field, SkipReason reason, String detail) {
        this(file, line, field, reason, detail, null);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param file the file name
     * @param line the 1-based line number, or 0
     * @param field the field path, or null
     * @param reason the category
     * @param detail what is wrong
     * @param cause the underlying error, or null
     */
    public DataFormatException(
            String file, long line, String field, SkipReason reason, String detail, Throwable cause) {
        super(format(file, line, field, detail), cause);
        this.file = file;
        this.line = line;
        this.field = field;
        this.reason = reason;
        this.detail = detail;
    }

    private static String format(String file, long line, String field, String detail) {
        StringBuilder sb = new StringBuilder(String.valueOf(file));
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (field != null) {
            sb.append("field '").append(field).append("': ");
        }
        return sb.append(detail).toString();
    }

    /**
     * Returns the file name.
     *
     * @return the file as named in the message
     */
    public String file() {
        return file;
    }

    /**
     * Returns the 1-based line number.
     *
     * @return the line, or 0 when not tied to a line
     */
    public long line() {
        return line;
    }

    /**
     * Returns the field path.
     *
     * @return e.g. {@code info.post}, or null when the whole row is at fault
     */
    public String field() {
        return field;
    }

    /**
     * Returns the category of the error.
     *
     * @return the reason
     */
    public SkipReason reason() {
        return reason;
    }

    /**
     * Returns the description without the location.
     *
     * @return e.g. {@code empty}
     */
    public String detail() {
        return detail;
    }
}
