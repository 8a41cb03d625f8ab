package org.rlhf4j.examples.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** Adapts picocli's {@link PrintWriter} streams to the {@link PrintStream} that progress bars draw on. */
final class DataOutput {

    private DataOutput() {}

    /**
     * Returns a UTF-8 print stream that writes through to a writer.
     *
     * @param writer the writer (e.g. picocli's stderr)
     * @return the stream
     */
    static PrintStream printStream(PrintWriter writer) {
        OutputStream bytes = new OutputStream() {
            private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();

            @Override
            public void write(int b) {
                pending.write(b);
            }

            @Override
            public void flush() {
                writer.write(pending.toString(StandardCharsets.UTF_8));
                pending.reset();
                writer.flush();
            }
        };
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
