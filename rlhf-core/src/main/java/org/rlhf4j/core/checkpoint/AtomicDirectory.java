package org.rlhf4j.core.checkpoint;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a directory so that a crash at any moment leaves either the previous complete version or the new complete
 * version, never a mix; and so that only the process that owns it ever changes it.
 *
 * <p>Protocol: fill {@code NAME.tmp-<nanos>}, fsync its files, rename an existing {@code NAME} to {@code NAME.old},
 * rename the temporary directory to {@code NAME}, delete {@code NAME.old}. Renames within one directory are atomic
 * on POSIX file systems. {@link #recover} completes an interrupted swap: when {@code NAME} is missing but
 * {@code NAME.old} exists, the old version is restored; stale temporary directories are deleted.
 *
 * <p>Ownership: writing and recovering happen only under the owner lock {@code NAME.lock} (see {@link #lock}), which
 * a trainer holds for its whole run, so recovery can never delete another process's save in progress. Readers take
 * no lock and change nothing: they read {@code NAME}, or {@code NAME.old} between the two renames
 * ({@link org.rlhf4j.core.io.AtomicReads}).
 */
public final class AtomicDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(AtomicDirectory.class);

    /** Locks held by this process, by lock file. */
    private static final Map<Path, Lock> HELD = new HashMap<>();

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

    /**
     * The owner lock of a directory, held while it is open. Closing the last hold releases the OS lock and deletes
     * the lock file. Re-entrant within the thread that took it: {@link #write} and {@link #recover} take it again
     * while a trainer holds it for its run. The owning process must not open the lock file itself: closing any
     * descriptor of a file drops the process's POSIX locks on it.
     */
    public static final class Lock implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final FileLock osLock;
        private final Thread owner;
        private int holds = 1;

        private Lock(Path file, FileChannel channel, FileLock osLock) {
            this.file = file;
            this.channel = channel;
            this.osLock = osLock;
            this.owner = Thread.currentThread();
        }

        /**
         * Returns the lock file ({@code NAME.lock} beside the directory).
         *
         * @return the lock file
         */
        public Path file() {
            return file;
        }

        /** Releases one hold; the last one deletes the lock file and releases the OS lock. */
        @Override
        public void close() {
            synchronized (AtomicDirectory.class) {
                if (holds == 0 || --holds > 0) {
                    return;
                }
                HELD.remove(file);
                try {
                    // deleted while still locked: a process that opened it meanwhile and locks it next finds that
                    // the path no longer names that file, and starts over (see lock)
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.warn("cannot delete lock file {}: {}", file, e.getMessage());
                }
                try {
                    if (osLock != null) {
                        osLock.release();
                    }
                    channel.close();
                } catch (IOException e) {
                    LOG.warn("cannot release lock file {}: {}", file, e.getMessage());
                }
            }
        }
    }

    private AtomicDirectory() {}

    /**
     * Atomically replaces (or creates) {@code target} with what {@code filler} writes. Takes the owner lock (or a
     * new hold of it when this thread already owns it) and recovers an interrupted earlier write first.
     *
     * @param target the final directory
     * @param filler writes the content
     * @throws DirectoryInUseException when another process or thread owns {@code target}
     * @throws IOException on failure; {@code target} is then unchanged
     */
    public static void write(Path target, Filler filler) throws IOException {
        write(target, filler, () -> {});
    }

    /**
     * {@link #write}, calling {@code midSwap} between renaming {@code NAME} to {@code NAME.old} and renaming the
     * temporary directory to {@code NAME} (for tests of readers during that window).
     */
    static void write(Path target, Filler filler, Runnable midSwap) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        try (Lock lock = lock(abs)) {
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
                midSwap.run();
            }
            move(tmp, abs);
            fsyncDir(parent);
            deleteTree(old);
        }
    }

    /**
     * Completes an interrupted {@link #write}: restores {@code NAME.old} when {@code NAME} is missing and removes
     * stale temporary directories. Only the owner may do this, so it takes the owner lock (or a new hold of it);
     * readers never call it.
     *
     * @param target the final directory
     * @throws DirectoryInUseException when another process or thread owns {@code target}
     * @throws IOException on failure
     */
    public static void recover(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        try (Lock lock = lock(abs)) {
            Path old = parent.resolve(abs.getFileName() + ".old");
            if (!Files.exists(abs) && Files.exists(old)) {
                LOG.info("{}: restoring the last complete version from an interrupted save", abs);
                move(old, abs);
            } else if (Files.exists(abs) && Files.exists(old)) {
                deleteTree(old);
            }
            String prefix = abs.getFileName() + ".tmp-";
            try (Stream<Path> s = Files.list(parent)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                    LOG.info("{}: deleting an unfinished save {}", abs, p.getFileName());
                    deleteTree(p);
                }
            }
        }
    }

    /**
     * Takes the owner lock of {@code target}: an OS file lock ({@link FileChannel#tryLock()}) on {@code NAME.lock}
     * beside it, holding the owner's pid, host and start time. Only the owner may write, recover or delete the
     * directory. Never waits: when another live process holds it this fails at once, naming that process. A lock
     * file left by a process that died is stale (the OS released its lock with the process) and is taken over. On
     * file systems without OS locks the pid in the file decides: a live process on this host keeps it.
     *
     * @param target the directory to own
     * @return the lock; close it to release
     * @throws DirectoryInUseException when another process, or another thread of this process, owns it
     * @throws IOException when the lock file cannot be created
     */
    public static Lock lock(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (abs.getFileName() == null) {
            throw new IllegalArgumentException("cannot lock the root directory " + abs);
        }
        Path file = abs.resolveSibling(abs.getFileName() + ".lock");
        synchronized (AtomicDirectory.class) {
            Lock held = HELD.get(file);
            if (held != null) {
                if (held.owner != Thread.currentThread()) {
                    throw new DirectoryInUseException(abs, file,
                            "thread '" + held.owner.getName() + "' of this process");
                }
                held.holds++;
                return held;
            }
            Files.createDirectories(file.getParent());
            String me = "pid " + ProcessHandle.current().pid() + " on host " + hostName() + " since " + Instant.now();
            // POSIX locks belong to the process and vanish when *any* descriptor of the file is closed, so while
            // the lock is held the file is only ever accessed through the locking channel (stat is fine)
            for (int attempt = 0; attempt < 5; attempt++) {
                Object before = fileKey(file);
                FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                try {
                    FileLock os = null;
                    boolean osLocks = true;
                    try {
                        os = ch.tryLock();
                    } catch (OverlappingFileLockException e) {
                        throw new DirectoryInUseException(abs, file, "this process");
                    } catch (IOException e) {
                        osLocks = false;
                        LOG.warn("{}: no OS file locks here ({}); ownership rests on the pid in the file", file,
                                e.getMessage());
                    }
                    String previous = readOwner(ch);
                    if (osLocks && os == null) {
                        throw new DirectoryInUseException(abs, file, previous);
                    }
                    if (!osLocks && mayBeAlive(previous)) {
                        throw new DirectoryInUseException(abs, file, previous);
                    }
                    // an owner deletes its lock file before releasing it: the path must still name the file locked
                    // here (the same file before opening and after locking), else try again (a file created here
                    // takes one more round; without file keys, as on Windows, there is nothing to compare)
                    Object after = fileKey(file);
                    if (before == null ? after != null : !before.equals(after)) {
                        if (os != null) {
                            os.release();
                        }
                        ch.close();
                        continue;
                    }
                    ch.truncate(0);
                    ch.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                    ch.force(true);
                    if (!previous.isEmpty()) {
                        LOG.info("{}: taking over a stale lock of {}, which is not running", file, previous);
                    }
                    Lock lock = new Lock(file, ch, os);
                    HELD.put(file, lock);
                    return lock;
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
            }
            throw new DirectoryInUseException(abs, file, readOwner(file));
        }
    }

    private static String hostName() {
        return Host.NAME;
    }

    /** The host name, looked up once. */
    private static final class Host {
        static final String NAME = lookUp();

        private static String lookUp() {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                return "unknown";
            }
        }
    }

    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** The owner line of a lock file not locked by this process; empty when there is none. */
    private static String readOwner(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            return "an unknown process (" + e.getMessage() + ")";
        }
    }

    private static String readOwner(FileChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size(), 4096));
        while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
            // read the whole (small) file
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
    }

    /** Without OS locks: whether the owner named in a lock file may still run (unknown hosts count as alive). */
    private static boolean mayBeAlive(String owner) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^pid (\\d+) on host (\\S+)").matcher(owner);
        if (!m.find()) {
            return false;
        }
        long pid = Long.parseLong(m.group(1));
        if (!m.group(2).equals(hostName())) {
            return true;
        }
        return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
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
