package org.rlhf4j.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reader's half of {@code AtomicDirectory}'s protocol: reading a directory that a writer may be replacing right
 * now, without ever writing, renaming or deleting anything.
 *
 * <p>A writer fills {@code NAME.tmp-*}, renames {@code NAME} to {@code NAME.old}, renames the temporary directory to
 * {@code NAME} and deletes {@code NAME.old}. A reader therefore reads {@code NAME} when it exists and otherwise
 * {@code NAME.old} (the last complete version, between the two renames or after a writer crashed there); temporary
 * directories are never read. When a read fails because the directory was swapped under it (the directory it chose
 * is gone or replaced), it is retried on the new version; any other failure is reported as it is.
 */
public final class AtomicReads {

    private static final Logger LOG = LoggerFactory.getLogger(AtomicReads.class);

    /** Attempts before a read that keeps racing with writers gives up. */
    static final int ATTEMPTS = 3;

    /** Reads a directory. */
    @FunctionalInterface
    public interface DirectoryReader<T> {
        /**
         * Reads what it needs from a complete directory.
         *
         * @param dir the directory to read ({@code NAME} or {@code NAME.old})
         * @return the result
         * @throws IOException on failure
         */
        T read(Path dir) throws IOException;
    }

    private AtomicReads() {}

    /**
     * Returns the complete version of {@code target} to read: {@code target} itself when it is a directory, else
     * {@code NAME.old} when that is a directory (a save is between its renames), else {@code target} (so the
     * caller's "not found" names the path the user gave). Only looks; never changes anything.
     *
     * @param target the directory as named by the user
     * @return the directory to read
     */
    public static Path resolve(Path target) {
        if (Files.isDirectory(target) || target.getFileName() == null) {
            return target;
        }
        Path old = target.resolveSibling(target.getFileName() + ".old");
        return Files.isDirectory(old) ? old : target;
    }

    /**
     * Reads the complete version of {@code target} ({@link #resolve}), retrying when a writer swapped it during the
     * read. Never writes.
     *
     * @param target the directory as named by the user
     * @param reader reads the directory it is given
     * @param <T> the result type
     * @return the reader's result
     * @throws IOException the reader's failure, when it was not caused by a concurrent swap (or kept racing)
     */
    public static <T> T read(Path target, DirectoryReader<T> reader) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path dir = resolve(target);
            Object key = fileKey(dir);
            try {
                return reader.read(dir);
            } catch (IOException e) {
                Path now = resolve(target);
                boolean swapped = !now.equals(dir) || !Objects.equals(fileKey(now), key);
                if (!swapped || attempt >= ATTEMPTS) {
                    throw e;
                }
                LOG.debug("{} was replaced while it was read ({}); reading {} again", dir, e.getMessage(), now);
            }
        }
    }

    private static Object fileKey(Path dir) {
        try {
            BasicFileAttributes a = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object key = a.fileKey();
            // without inode numbers fall back to the creation time, which a rename keeps and a new directory changes
            return key != null ? key : a.creationTime();
        } catch (IOException e) {
            return null;
        }
    }
}
