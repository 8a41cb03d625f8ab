package org.rlhf4j.core.checkpoint;

import java.nio.file.Path;

/** A separate process that owns a directory until its standard input closes (for the owner-lock tests). */
public final class LockHolder {

    private LockHolder() {}

    /**
     * Takes the owner lock of {@code args[0]}, prints {@code locked}, and holds it until stdin reaches its end.
     *
     * @param args the directory
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        try (AtomicDirectory.Lock lock = AtomicDirectory.lock(Path.of(args[0]))) {
            System.out.println("locked " + lock.file());
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold until the parent closes our stdin
            }
        }
    }
}
