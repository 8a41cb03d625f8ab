package org.rlhf4j.datasets.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads a byte stream line by line and decodes each line with a strict UTF-8 decoder.
 *
 * <p>Lines are split at {@code '\n'} on the raw bytes (that byte never occurs inside a multi-byte UTF-8 sequence), a
 * trailing {@code '\r'} is dropped, and a line that is not valid UTF-8 raises {@link InvalidUtf8Exception} after the
 * line has been consumed, so the caller knows the exact line and may go on with the next one.
 */
public final class Utf8LineReader implements Closeable {

    private final InputStream in;
    private final CharsetDecoder decoder =
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int limit;
    private byte[] line = new byte[1 << 12];
    private long lineNumber;
    private boolean eof;

    /**
     * Wraps a stream (not buffered further; this reader buffers).
     *
     * @param in the stream, closed by {@link #close()}
     */
    public Utf8LineReader(InputStream in) {
        this.in = in;
    }

    /** A line's bytes are not valid UTF-8; the line has been consumed. */
    public static final class InvalidUtf8Exception extends IOException {

        private static final long serialVersionUID = 1L;

        private final long byteOffset;

        InvalidUtf8Exception(long byteOffset, Throwable cause) {
            super("invalid UTF-8 at byte " + byteOffset + " of the line", cause);
            this.byteOffset = byteOffset;
        }

        /**
         * Returns where in the line the bad sequence starts.
         *
         * @return the 0-based byte offset within the line
         */
        public long byteOffset() {
            return byteOffset;
        }
    }

    /**
     * Reads the next line.
     *
     * @return the line without its terminator, or null at the end of the stream
     * @throws InvalidUtf8Exception when the line is not valid UTF-8 (the line counts as read)
     * @throws IOException on read failure
     */
    public String next() throws IOException {
        int len = 0;
        boolean any = false;
        while (true) {
            if (pos >= limit) {
                if (eof || !fill()) {
                    if (!any) {
                        return null;
                    }
                    break;
                }
            }
            any = true;
            int start = pos;
            int nl = -1;
            for (int i = pos; i < limit; i++) {
                if (buf[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            int end = nl >= 0 ? nl : limit;
            int n = end - start;
            if (len + n > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, len + n));
            }
            System.arraycopy(buf, start, line, len, n);
            len += n;
            pos = nl >= 0 ? nl + 1 : limit;
            if (nl >= 0) {
                break;
            }
        }
        lineNumber++;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        ByteBuffer bytes = ByteBuffer.wrap(line, 0, len);
        try {
            decoder.reset();
            CharBuffer chars = decoder.decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new InvalidUtf8Exception(bytes.position(), e);
        }
    }

    /**
     * Returns how many lines {@link #next()} has returned or rejected so far.
     *
     * @return the 1-based number of the last line read
     */
    public long lineNumber() {
        return lineNumber;
    }

    private boolean fill() throws IOException {
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
            eof = true;
            return false;
        }
        pos = 0;
        limit = n;
        return true;
    }

    /** Closes the underlying stream. */
    @Override
    public void close() throws IOException {
        in.close();
    }
}
