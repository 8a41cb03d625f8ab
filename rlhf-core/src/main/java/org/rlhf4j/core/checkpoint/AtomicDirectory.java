package org.rlhf4j.core.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes a directory so that a crash at any moment leaves either the previous complete version or the new complete
 * version, never a mix.
 *
 * <p>Protocol: fill {@code NAME.tmp-<nanos>}, fsync its files, rename an existing {@code NAME} to {@code NAME.old},
 * rename the temporary directory to {@code NAME}, delete {@code NAME.old}. Renames within one directory are atomic
 * on POSIX file systems. {@link #recover} (called before every read) completes an interrupted swap: when
 * {@code NAME} is missing but {@code NAME.old} exists, the old version is restored; stale temporary directories are
 * deleted.
 */
public final class AtomicDirectory {

    /** Fills a directory. */
    @FunctionalInterface
    public interface Filler {
        /**
         * Writes the directory's files.
         *
         * @param dir the (temporary) directory to fill
         * @throws IOException on failure
         */
        void fill(Path dir) throws IOException;
    }

    private AtomicDirectory() {}

    /**
     * Atomically replaces (or creates) {@code target} with what {@code filler} writes.
     *
     * @param target the final directory
     * @param filler writes the content
     * @throws IOException on failure; {@code target} is then unchanged
     */
    public static void write(Path target, Filler filler) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        recover(abs);
        Path tmp = parent.resolve(abs.getFileName() + ".tmp-" + System.nanoTime());
        Files.createDirectory(tmp);
        try {
            filler.fill(tmp);
            fsyncTree(tmp);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
        Path old = parent.resolve(abs.getFileName() + ".old");
        if (Files.exists(abs)) {
            deleteTree(old);
            move(abs, old);
        }
        move(tmp, abs);
        fsyncDir(parent);
        deleteTree(old);
    }

    /**
     * Completes an interrupted {@link #write}: restores {@code NAME.old} when {@code NAME} is missing and removes
     * stale temporary directories.
     *
     * @param target the final directory
     * @throws IOException on failure
     */
    public static void recover(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        Path old = parent.resolve(abs.getFileName() + ".old");
        if (!Files.exists(abs) && Files.exists(old)) {
            move(old, abs);
        } else if (Files.exists(abs) && Files.exists(old)) {
            deleteTree(old);
        }
        String prefix = abs.getFileName() + ".tmp-";
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                deleteTree(p);
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void fsyncTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
        fsyncDir(dir);
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // directories cannot be opened for fsync on every platform; file contents are already synced
        }
    }

    /**
     * Deletes a directory tree if it exists.
     *
     * @param dir the directory
     * @throws IOException on failure
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> s = Files.walk(dir)) {
            paths = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }
}
