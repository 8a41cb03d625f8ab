package org.rlhf4j.datasets.hub;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One file of a repository at a commit, as the Hub's tree API lists it.
 *
 * <p>Files stored with Git LFS (weights) carry the sha256 of their content ({@code lfs.oid} in the tree API); every
 * file carries its git blob id ({@code oid}): the SHA-1 of {@code "blob " + size + "\0" + content}. A download is
 * verified against the sha256 when there is one, else against the git blob id (huggingface_hub's
 * {@code verify_repo_checksums} uses the same two hashes, {@code utils/_verification.py}).
 *
 * @param path the path inside the repository, {@code /}-separated (e.g. {@code onnx/model.onnx})
 * @param size the size in bytes
 * @param gitOid the git blob id (40 hex digits)
 * @param lfsSha256 the sha256 of the content for LFS files (64 hex digits), else null
 */
public record RepoFile(String path, long size, String gitOid, String lfsSha256) {

    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /**
     * Checks the fields: a safe relative path, a size of at least 0 and well-formed hashes (stored lower-case).
     *
     * @param path the path inside the repository
     * @param size the size in bytes
     * @param gitOid the git blob id
     * @param lfsSha256 the LFS sha256, or null
     */
    public RepoFile {
        checkPath(path);
        if (size < 0) {
            throw new IllegalArgumentException("size of '" + path + "' must be >= 0, got " + size);
        }
        gitOid = Objects.requireNonNull(gitOid, "gitOid").toLowerCase(Locale.ROOT);
        if (!SHA1.matcher(gitOid).matches()) {
            throw new IllegalArgumentException("git oid of '" + path + "' must be 40 hex digits, got '" + gitOid + "'");
        }
        if (lfsSha256 != null) {
            lfsSha256 = lfsSha256.toLowerCase(Locale.ROOT);
            if (!SHA256.matcher(lfsSha256).matches()) {
                throw new IllegalArgumentException(
                        "LFS sha256 of '" + path + "' must be 64 hex digits, got '" + lfsSha256 + "'");
            }
        }
    }

    /**
     * Returns whether the file is stored with Git LFS.
     *
     * @return true when a sha256 is known
     */
    public boolean isLfs() {
        return lfsSha256 != null;
    }

    /**
     * Returns the last path segment.
     *
     * @return e.g. {@code model.onnx} for {@code onnx/model.onnx}
     */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * Checks that a repository path is safe to write under a directory: relative, {@code /}-separated, without
     * empty, {@code .} or {@code ..} segments, backslashes or control characters. A server that lists anything else
     * could otherwise make a download write outside its directory.
     *
     * @param path the path
     * @throws IllegalArgumentException naming the path when it is unsafe
     */
    public static void checkPath(String path) {
        Objects.requireNonNull(path, "path");
        boolean bad = path.isEmpty() || path.startsWith("/") || path.indexOf('\\') >= 0;
        for (int i = 0; i < path.length() && !bad; i++) {
            bad = path.charAt(i) < 0x20 || path.charAt(i) == 0x7f;
        }
        if (!bad) {
            for (String seg : path.split("/", -1)) {
                if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                    bad = true;
                    break;
                }
            }
        }
        if (bad) {
            throw new IllegalArgumentException("unsafe repository path '" + path
                    + "' (must be relative, '/'-separated, without empty, '.' or '..' segments)");
        }
    }
}
