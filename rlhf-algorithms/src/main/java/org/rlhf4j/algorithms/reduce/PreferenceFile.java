package org.rlhf4j.algorithms.reduce;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.datasets.ChatPair;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.io.JsonlReader;

/**
 * Reads comparison files into {@link ReductionRow}s and writes a subset of their lines unchanged.
 *
 * <p>Accepted rows are those the {@code reward} command trains on: OpenAI TL;DR comparisons
 * ({@code info}/{@code summaries}/{@code choice}; prompt = the formatted query, chosen = {@code summaries[choice]}),
 * TRL {@code prompt}/{@code chosen}/{@code rejected} pairs, and their conversational form (texts are the messages
 * as {@code role: content}, joined by blank lines). Files may be gzip-compressed ({@code .gz}).
 */
public final class PreferenceFile {

    private PreferenceFile() {}

    /**
     * Reads every row of a comparison file (strict: the first bad row is an error).
     *
     * @param file the JSON Lines file
     * @return the rows with their 1-based lines
     * @throws IOException when the file is unreadable, malformed, or has a row that is not a comparison
     */
    public static List<ReductionRow> read(Path file) throws IOException {
        List<ReductionRow> out = new ArrayList<>();
        ModelFormatException[] bad = {null};
        JsonlReader.builder().setFormat(DataFormat.AUTO).build().read(file, (row, ctx) -> {
            if (bad[0] != null) {
                return;
            }
            if (row instanceof Comparison c) {
                PreferencePair p = c.toPair();
                out.add(new ReductionRow(ctx.line(), p.prompt().text(), p.chosen(), p.rejected(), row));
            } else if (row instanceof PreferencePair p) {
                out.add(new ReductionRow(ctx.line(), p.prompt().text(), p.chosen(), p.rejected(), row));
            } else if (row instanceof ChatPair p) {
                out.add(new ReductionRow(ctx.line(), p.prompt().text(), text(p.chosen()), text(p.rejected()), row));
            } else {
                bad[0] = new ModelFormatException(file, "line " + ctx.line() + ": expected a comparison (openai-"
                        + "comparisons, or pairs: [prompt,] chosen, rejected), got a " + row.getClass().getSimpleName()
                        + " row");
            }
        });
        if (bad[0] != null) {
            throw bad[0];
        }
        return out;
    }

    private static String text(List<ChatMessage> messages) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            if (sb.length() > 0) {
                sb.append("\n\n");
            }
            sb.append(m.role()).append(": ").append(m.content());
        }
        return sb.toString();
    }

    /**
     * Copies some lines of a file, byte for byte (each followed by {@code \n}), in file order; lines are split at
     * {@code \n} as {@link JsonlReader} numbers them. The output is gzip-compressed when its name ends with
     * {@code .gz}, and is written to a temporary file that is then moved into place.
     *
     * @param in the input file ({@code .gz}: decompressed)
     * @param lines the 1-based lines to copy
     * @param out the output file
     * @return the number of lines written
     * @throws IOException when reading or writing fails, or a line is missing from the input
     */
    public static int copyLines(Path in, Set<Long> lines, Path out) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, out.getFileName().toString(), ".tmp");
        int written = 0;
        long line = 0;
        try {
            try (InputStream raw = Files.newInputStream(in);
                    InputStream src = new BufferedInputStream(in.getFileName().toString().endsWith(".gz")
                            ? new GZIPInputStream(raw, 1 << 16) : raw, 1 << 16);
                    OutputStream file = Files.newOutputStream(tmp);
                    OutputStream dst = new BufferedOutputStream(out.getFileName().toString().endsWith(".gz")
                            ? new GZIPOutputStream(file, 1 << 16) : file, 1 << 16)) {
                boolean copying = false;
                boolean atStart = true;
                int b;
                while ((b = src.read()) >= 0) {
                    if (atStart) {
                        line++;
                        copying = lines.contains(line);
                        atStart = false;
                    }
                    if (copying) {
                        dst.write(b);
                    }
                    if (b == '\n') {
                        if (copying) {
                            written++;
                        }
                        atStart = true;
                    }
                }
                if (!atStart && copying) { // last line without a terminator
                    dst.write('\n');
                    written++;
                }
            }
            if (written != lines.size()) {
                throw new ModelFormatException(in, "has " + line + " lines; " + (lines.size() - written)
                        + " of the lines to copy are missing");
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return written;
    }
}
