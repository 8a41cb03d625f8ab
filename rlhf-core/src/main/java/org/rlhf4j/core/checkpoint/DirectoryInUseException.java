package org.rlhf4j.core.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Another process (or another thread of this one) owns a directory: only the owner of {@code NAME.lock} may write,
 * recover or delete {@code NAME}. The message names the directory, the owner (pid, host, since when) and the lock
 * file.
 */
public class DirectoryInUseException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param dir the directory
     * @param lockFile its lock file
     * @param owner who holds it, as written in the lock file (empty when unknown)
     */
    public DirectoryInUseException(Path dir, Path lockFile, String owner) {
        super(dir + " is in use by " + (owner == null || owner.isEmpty() ? "another process" : owner)
                + " (lock file " + lockFile + "); only the process that owns it may write, recover or delete it");
    }
}
