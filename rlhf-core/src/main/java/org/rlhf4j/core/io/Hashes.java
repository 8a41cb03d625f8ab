package org.rlhf4j.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests as lower-case hex, for provenance and data identifiers. */
public final class Hashes {

    private static final int BUFFER = 1 << 16;

    private Hashes() {}

    /**
     * Returns the SHA-256 of a file's content, read in 64 KiB blocks (never held in memory as a whole).
     *
     * @param file the file
     * @return 64 lower-case hex digits
     * @throws IOException when the file cannot be read
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Returns the SHA-256 of some bytes.
     *
     * @param bytes the bytes
     * @return 64 lower-case hex digits
     */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newDigest().digest(bytes));
    }

    /**
     * Returns the SHA-256 of a string's UTF-8 encoding.
     *
     * @param text the text
     * @return 64 lower-case hex digits
     */
    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
