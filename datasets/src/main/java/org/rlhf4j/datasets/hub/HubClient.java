package org.rlhf4j.datasets.hub;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.download.ProgressBar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Hub's HTTP API, as huggingface_hub uses it, with {@link HttpClient}: resolve a revision to a commit, list a
 * commit's files, and download a file resumably and verified.
 *
 * <ul>
 *   <li>{@code GET {endpoint}/api/models/{repo}/revision/{revision}} gives the commit ({@code sha}); the revision is
 *       percent-encoded whole, so {@code refs/pr/1} works ({@code hf_api.py model_info}).
 *   <li>{@code GET {endpoint}/api/models/{repo}/tree/{commit}?recursive=true} lists the files with their size, git
 *       blob id and, for LFS files, sha256; further pages are followed through the {@code Link: <url>; rel="next"}
 *       header ({@code hf_api.py list_repo_tree}, {@code utils/_pagination.py}).
 *   <li>{@code GET {endpoint}/{repo}/resolve/{commit}/{path}} serves a file, usually by redirecting LFS files to a
 *       CDN. Redirects are followed here, not by {@link HttpClient}, so that the {@code Authorization} header is
 *       only ever sent to the endpoint's own origin (scheme, host and port): huggingface_hub drops it before
 *       downloading from another host ({@code file_download.py _get_metadata_or_catch_error}), and httpx drops it
 *       on cross-origin redirects. Signed CDN URLs carry their own credentials.
 * </ul>
 *
 * <p>Failures: HTTP 429, 408 and 5xx are retried {@code maxRetries} times (default 5), waiting the
 * {@code Retry-After} the server asks for (seconds or an HTTP date, up to {@code maxRetryAfter}), else 1, 2, 4, 8,
 * 8 s ({@code utils/_http.py _http_backoff_base}). Errors are mapped from the status and the {@code X-Error-Code}
 * header ({@code GatedRepo}, {@code RepoNotFound}, {@code RevisionNotFound}, {@code EntryNotFound};
 * {@code utils/_http.py hf_raise_for_status}) to a {@link HubException} that says what to do. A response that sends
 * nothing for the read timeout counts as stalled. A file transfer that breaks off or stalls is resumed with
 * {@code Range} after 1 s, until it fails {@code maxRetries} times in a row without receiving a byte
 * ({@code file_download.py http_get}).
 */
public final class HubClient {

    /** At most this many redirects per request. */
    public static final int MAX_REDIRECTS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(HubClient.class);

    // utils/_validators.py REPO_ID_REGEX: optional namespace, then a name; [\w.-], 1 to 96 characters each, word
    // boundaries at both ends
    private static final Pattern REPO_ID =
            Pattern.compile("(?:\\b[A-Za-z0-9_.-]{1,96}\\b/)?\\b[A-Za-z0-9_.-]{1,96}\\b");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]*)>\\s*;\\s*rel\\s*=\\s*\"?next\"?");
    private static final String USER_AGENT = "rlhf4j (java/" + Runtime.version().feature() + ")";
    private static final int BUFFER = 1 << 16;

    /** How the client waits between retries (a test replaces it to record waits instead of sleeping). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final HubEnvironment env;
    private final HttpClient http;
    private final int maxRetries;
    private final Duration maxRetryAfter;
    private final PrintStream progress;
    private final Sleeper sleeper;

    private HubClient(Builder b) {
        this.env = b.env;
        this.maxRetries = b.maxRetries;
        this.maxRetryAfter = b.maxRetryAfter;
        this.progress = b.progress;
        this.sleeper = b.sleeper;
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(b.connectTimeout)
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.getDefault())
                .build();
    }

    /**
     * Returns a builder (defaults: {@link HubEnvironment#fromSystem()}, 10 s connect timeout, 5 retries, Retry-After
     * honoured up to 5 minutes, no progress bars).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link HubClient}. */
    public static final class Builder {
        private HubEnvironment env;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private int maxRetries = 5;
        private Duration maxRetryAfter = Duration.ofMinutes(5);
        private PrintStream progress;
        private Sleeper sleeper = d -> Thread.sleep(d.toMillis());

        private Builder() {}

        /**
         * Sets the endpoint, token and read timeout (default: {@link HubEnvironment#fromSystem()}).
         *
         * @param env the settings
         * @return this
         */
        public Builder optEnvironment(HubEnvironment env) {
            this.env = Objects.requireNonNull(env, "env");
            return this;
        }

        /**
         * Sets the connect timeout.
         *
         * @param timeout a positive duration
         * @return this
         */
        public Builder optConnectTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connect timeout must be positive, got " + timeout);
            }
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * Sets how many times a failed request is retried, and how many failed resumes in a row a transfer allows.
         *
         * @param retries 0 or more
         * @return this
         */
        public Builder optMaxRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("max retries must be >= 0, got " + retries);
            }
            this.maxRetries = retries;
            return this;
        }

        /**
         * Sets the longest {@code Retry-After} honoured; a server asking for more fails the request at once.
         *
         * @param max a duration of at least 0
         * @return this
         */
        public Builder optMaxRetryAfter(Duration max) {
            if (max == null || max.isNegative()) {
                throw new IllegalArgumentException("max Retry-After must be >= 0, got " + max);
            }
            this.maxRetryAfter = max;
            return this;
        }

        /**
         * Sets where per-file progress bars are drawn.
         *
         * @param out the stream, or null for none
         * @return this
         */
        public Builder optProgress(PrintStream out) {
            this.progress = out;
            return this;
        }

        Builder optSleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * Builds the client.
         *
         * @return the client
         */
        public HubClient build() {
            if (env == null) {
                env = HubEnvironment.fromSystem();
            }
            return new HubClient(this);
        }
    }

    /**
     * Returns the settings in use.
     *
     * @return the environment (endpoint, token, timeouts)
     */
    public HubEnvironment environment() {
        return env;
    }

    /**
     * Checks a repository id as huggingface_hub's {@code validate_repo_id} does.
     *
     * @param repo {@code name} or {@code namespace/name}
     * @throws IllegalArgumentException naming the id when it is not valid
     */
    public static void checkRepoId(String repo) {
        if (repo == null || !REPO_ID.matcher(repo).matches()) {
            throw new IllegalArgumentException("repo id must be 'name' or 'namespace/name' with letters, digits, '-',"
                    + " '_' or '.', not starting or ending with '-' or '.', at most 96 characters each, got '" + repo
                    + "'");
        }
        if (repo.contains("--") || repo.contains("..")) {
            throw new IllegalArgumentException("repo id cannot contain '--' or '..', got '" + repo + "'");
        }
        if (repo.endsWith(".git")) {
            throw new IllegalArgumentException("repo id cannot end with '.git', got '" + repo + "'");
        }
    }

    /**
     * Returns whether a revision is a full commit id.
     *
     * @param revision the revision
     * @return true for 40 lower-case hex digits
     */
    public static boolean isCommit(String revision) {
        return revision != null && COMMIT.matcher(revision).matches();
    }

    /**
     * Resolves a branch, tag or commit to its commit id.
     *
     * @param repo the repository id
     * @param revision the revision ({@code main}, {@code v1.0}, {@code refs/pr/3}, a commit)
     * @return the commit (40 hex digits)
     * @throws HubException when the repository or revision is not found, gated, unreachable...
     * @throws IOException on other failures
     */
    public String resolveCommit(String repo, String revision) throws IOException {
        checkRepoId(repo);
        Context ctx = new Context(repo, revision, null);
        URI url = URI.create(env.endpoint() + "/api/models/" + repo + "/revision/" + quote(revision, false));
        JsonNode info = getJson(url, ctx);
        String sha = info.path("sha").asText("");
        if (!isCommit(sha)) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, describe(url)
                    + ": field 'sha' is not a commit id (got " + info.get("sha") + "); is " + env.endpoint()
                    + " a Hugging Face Hub endpoint?", null);
        }
        return sha;
    }

    /**
     * Lists every file of a commit (directories are walked), following pagination.
     *
     * @param repo the repository id
     * @param commit the commit (or any revision)
     * @return the files, in the server's order
     * @throws HubException on HTTP errors or a malformed listing (naming the entry and field)
     * @throws IOException on other failures
     */
    public List<RepoFile> listFiles(String repo, String commit) throws IOException {
        checkRepoId(repo);
        Context ctx = new Context(repo, commit, null);
        URI url = URI.create(env.endpoint() + "/api/models/" + repo + "/tree/" + quote(commit, false)
                + "?recursive=true&expand=false");
        List<RepoFile> out = new ArrayList<>();
        int page = 0;
        while (url != null) {
            if (++page > 100_000) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, "the tree of " + repo + " never ends");
            }
            HttpResponse<InputStream> resp = get(url, 0, ctx);
            JsonNode arr;
            try (InputStream body = resp.body()) {
                if (resp.statusCode() != 200) {
                    throw failure(resp, body, ctx, url);
                }
                arr = parseJson(body, url);
            }
            if (!arr.isArray()) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, 200,
                        describe(url) + ": expected a JSON array of tree entries", null);
            }
            for (int i = 0; i < arr.size(); i++) {
                RepoFile f = treeEntry(arr.get(i), i, url);
                if (f != null) {
                    out.add(f);
                }
            }
            url = nextPage(resp, url);
        }
        return out;
    }

    /**
     * Returns the download URL of a file.
     *
     * @param repo the repository id
     * @param commit the commit
     * @param path the path inside the repository
     * @return {@code {endpoint}/{repo}/resolve/{commit}/{path}}, each path segment percent-encoded
     */
    public URI fileUrl(String repo, String commit, String path) {
        return URI.create(env.endpoint() + "/" + repo + "/resolve/" + quote(commit, false) + "/" + quote(path, true));
    }

    /**
     * Downloads one file to {@code target}, through {@code target.incomplete}, which a later call resumes with
     * {@code Range}. The complete file is checked against the listing's size and sha256 (LFS files) or git blob id
     * (others), then renamed into place.
     *
     * @param repo the repository id
     * @param commit the commit
     * @param file the file, as listed
     * @param target where it goes
     * @return the file's sha256 (lower-case hex)
     * @throws HubException {@link HubException.Reason#CHECKSUM_MISMATCH} when the content does not match (the
     *     partial file is deleted), {@link HubException.Reason#INTERRUPTED} when the transfer kept failing (the
     *     partial file is kept), or the HTTP error
     * @throws IOException on local failures
     */
    public String download(String repo, String commit, RepoFile file, Path target) throws IOException {
        Context ctx = new Context(repo, commit, file.path());
        Path part = target.resolveSibling(target.getFileName() + ".incomplete");
        Files.createDirectories(target.getParent());
        URI url = fileUrl(repo, commit, file.path());
        int failures = 0;
        while (true) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (have > file.size()) {
                LOG.info("{}: partial file is longer than the file ({} > {} bytes); starting over", part, have,
                        file.size());
                Files.delete(part);
                have = 0;
            }
            if (have == file.size() && Files.exists(part)) {
                break;
            }
            IOException error;
            try {
                long end = transfer(url, part, have, file, ctx);
                if (end >= file.size()) {
                    break;
                }
                error = new IOException("the response ended at byte " + end + " of " + file.size());
            } catch (HubException e) {
                if (e.reason() != HubException.Reason.UNREACHABLE && e.reason() != HubException.Reason.TIMEOUT) {
                    throw e;
                }
                error = e;
            } catch (IOException e) {
                if (e instanceof InterruptedIOException && Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                error = e;
            }
            long now = Files.exists(part) ? Files.size(part) : 0;
            failures = now > have ? 1 : failures + 1;
            if (failures > maxRetries) {
                throw new HubException(HubException.Reason.INTERRUPTED, -1, "download of " + file.path() + " from "
                        + repo + " failed " + failures + " times in a row at byte " + now + " of " + file.size()
                        + " (last: " + error.getMessage() + "); the partial file " + part
                        + " is kept and the next run resumes it", error);
            }
            LOG.warn("{}: transfer interrupted at byte {} of {} ({}); resuming", file.path(), now, file.size(),
                    error.getMessage());
            pause(Duration.ofSeconds(1)); // file_download.py http_get: time.sleep(1) before resuming
        }
        String sha256 = verify(part, file, repo, commit);
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return sha256;
    }

    /**
     * Checks a local file against a listed file: size, then sha256 (LFS) or git blob id.
     *
     * @param local the local file
     * @param file the listed file
     * @return the mismatch described, or empty when it matches
     * @throws IOException on read failure
     */
    public static Optional<String> mismatch(Path local, RepoFile file) throws IOException {
        Digests d = Digests.of(local);
        return mismatch(d, file);
    }

    /**
     * Returns the sha256 of a file and its git blob id in one read.
     *
     * @param file the file
     * @return the digests
     * @throws IOException on read failure
     */
    static Digests digests(Path file) throws IOException {
        return Digests.of(file);
    }

    /** The hashes of one file. */
    record Digests(long size, String sha256, String gitOid) {
        static Digests of(Path file) throws IOException {
            long size = Files.size(file);
            MessageDigest sha256 = digest("SHA-256");
            MessageDigest sha1 = digest("SHA-1");
            // git's blob id: SHA-1 over "blob <size>\0" + content (utils/sha.py git_hash)
            sha1.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[BUFFER];
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha256.update(buf, 0, n);
                    sha1.update(buf, 0, n);
                }
            }
            return new Digests(size, HexFormat.of().formatHex(sha256.digest()),
                    HexFormat.of().formatHex(sha1.digest()));
        }
    }

    private static Optional<String> mismatch(Digests d, RepoFile file) {
        if (d.size() != file.size()) {
            return Optional.of("size mismatch for " + file.path() + ": expected " + file.size() + " bytes, got "
                    + d.size());
        }
        if (file.isLfs() && !file.lfsSha256().equals(d.sha256())) {
            return Optional.of("sha256 mismatch for " + file.path() + ": expected " + file.lfsSha256() + ", got "
                    + d.sha256());
        }
        if (!file.isLfs() && !file.gitOid().equals(d.gitOid())) {
            return Optional.of("git blob sha1 mismatch for " + file.path() + ": expected " + file.gitOid() + ", got "
                    + d.gitOid());
        }
        return Optional.empty();
    }

    private String verify(Path part, RepoFile file, String repo, String commit) throws IOException {
        Digests d = Digests.of(part);
        Optional<String> bad = mismatch(d, file);
        if (bad.isPresent()) {
            Files.delete(part);
            throw new HubException(HubException.Reason.CHECKSUM_MISMATCH, -1, bad.get() + " (" + repo + " at "
                    + commit + "); the downloaded file was deleted. Run again to download it anew; if it fails again,"
                    + " the server, a proxy or the mirror (HF_ENDPOINT) alters the file.", null);
        }
        return d.sha256();
    }

    /** Runs one GET into the part file; returns the part file's size when the body ended. */
    private long transfer(URI url, Path part, long have, RepoFile file, Context ctx) throws IOException {
        HttpResponse<InputStream> resp = get(url, have, ctx);
        try (InputStream body = resp.body()) {
            int status = resp.statusCode();
            boolean append;
            if (status == 206 && have > 0) {
                String range = resp.headers().firstValue("Content-Range").orElse("");
                if (!range.startsWith("bytes " + have + "-")) {
                    Files.delete(part);
                    throw new IOException("the server answered Range bytes=" + have + "- with Content-Range '" + range
                            + "'; starting over");
                }
                append = true;
            } else if (status == 200) {
                if (have > 0) {
                    // file_download.py http_get: a 200 to a Range request means the Range was ignored; start over
                    LOG.info("{}: the server ignored the Range request; starting over", file.path());
                }
                append = false;
                have = 0;
            } else if (status == 416 && have > 0) {
                Files.delete(part);
                throw new IOException("the server rejected resuming at byte " + have + " (HTTP 416); starting over");
            } else {
                throw failure(resp, body, ctx, url);
            }
            String encoding = resp.headers().firstValue("Content-Encoding").orElse("identity");
            if (!encoding.equalsIgnoreCase("identity")) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, status, describe(url) + " was sent with"
                        + " Content-Encoding '" + encoding + "' although 'identity' was asked for", null);
            }
            ProgressBar bar = new ProgressBar(progress, shortName(file.path()), file.size(), have);
            long written = have;
            try (FileChannel out = append
                    ? FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.APPEND)
                    : FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[BUFFER];
                int n;
                while ((n = body.read(buf)) >= 0) {
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) {
                        out.write(bb);
                    }
                    written += n;
                    bar.update(written);
                }
            } finally {
                if (progress != null) {
                    bar.finish();
                }
            }
            return written;
        }
    }

    private static String shortName(String path) {
        return path.length() <= 40 ? path : "…" + path.substring(path.length() - 39);
    }

    private JsonNode getJson(URI url, Context ctx) throws IOException {
        HttpResponse<InputStream> resp = get(url, 0, ctx);
        try (InputStream body = resp.body()) {
            if (resp.statusCode() != 200) {
                throw failure(resp, body, ctx, url);
            }
            return parseJson(body, url);
        }
    }

    private JsonNode parseJson(InputStream body, URI url) throws IOException {
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n == null) {
                throw new IOException("empty body");
            }
            return n;
        } catch (TimedBody.StalledException e) {
            throw new HubException(HubException.Reason.TIMEOUT, 200, describe(url) + ": the response stalled ("
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, describe(url) + ": not valid JSON ("
                    + e.getMessage() + "); is " + env.endpoint() + " a Hugging Face Hub endpoint?", e);
        }
    }

    private RepoFile treeEntry(JsonNode e, int i, URI url) throws HubException {
        String where = describe(url) + ": entry " + i;
        if (e == null || !e.isObject()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + " is not an object", null);
        }
        String type = e.path("type").asText("");
        if (!type.equals("file")) {
            if (type.equals("directory")) {
                return null;
            }
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + ": field 'type' must be 'file' or"
                    + " 'directory', got " + e.get("type"), null);
        }
        JsonNode path = e.get("path");
        JsonNode size = e.get("size");
        JsonNode oid = e.get("oid");
        if (path == null || !path.isTextual()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + ": field 'path' missing", null);
        }
        if (size == null || !size.canConvertToLong()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + " (" + path.asText()
                    + "): field 'size' missing or not an integer", null);
        }
        if (oid == null || !oid.isTextual()) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + " (" + path.asText()
                    + "): field 'oid' missing", null);
        }
        JsonNode lfs = e.get("lfs");
        String sha256 = null;
        long bytes = size.asLong();
        if (lfs != null && !lfs.isNull()) {
            if (!lfs.path("oid").isTextual()) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + " (" + path.asText()
                        + "): field 'lfs.oid' missing", null);
            }
            sha256 = lfs.get("oid").asText();
            if (lfs.path("size").canConvertToLong()) {
                bytes = lfs.get("size").asLong(); // hf_api.py RepoFile: lfs.size is the real file size
            }
        }
        try {
            return new RepoFile(path.asText(), bytes, oid.asText(), sha256);
        } catch (IllegalArgumentException ex) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, 200, where + ": " + ex.getMessage(), ex);
        }
    }

    private static URI nextPage(HttpResponse<?> resp, URI current) {
        for (String link : resp.headers().allValues("Link")) {
            Matcher m = NEXT_LINK.matcher(link);
            if (m.find()) {
                return current.resolve(m.group(1));
            }
        }
        return null;
    }

    /**
     * Sends a GET, following redirects (Authorization only to the endpoint's origin) and retrying 408/429/5xx.
     * The caller closes the body.
     */
    private HttpResponse<InputStream> get(URI url, long rangeStart, Context ctx) throws IOException {
        if (env.offline()) {
            throw new HubException(HubException.Reason.OFFLINE, "offline mode is on (HF_HUB_OFFLINE): not requesting "
                    + describe(url));
        }
        long backoffMillis = 1000;
        for (int attempt = 0; ; attempt++) {
            HttpResponse<InputStream> resp = follow(url, rangeStart, ctx);
            int s = resp.statusCode();
            if (s != 429 && s != 408 && s < 500) {
                return resp;
            }
            Optional<Duration> retryAfter = retryAfter(resp);
            if (attempt >= maxRetries || retryAfter.isPresent() && retryAfter.get().compareTo(maxRetryAfter) > 0) {
                try (InputStream body = resp.body()) {
                    throw failure(resp, body, ctx, resp.uri());
                }
            }
            resp.body().close();
            Duration wait = retryAfter.orElse(Duration.ofMillis(backoffMillis));
            LOG.warn("HTTP {} from {}; retrying in {} s ({} of {})", s, describe(resp.uri()),
                    wait.toMillis() / 1000.0, attempt + 1, maxRetries);
            pause(wait);
            backoffMillis = Math.min(8000, backoffMillis * 2); // _http_backoff_base: base 1 s, doubled, max 8 s
        }
    }

    private HttpResponse<InputStream> follow(URI url, long rangeStart, Context ctx) throws IOException {
        URI current = url;
        boolean auth = env.token() != null;
        for (int hop = 0; ; hop++) {
            auth = auth && sameOrigin(current, env.endpoint());
            HttpRequest.Builder rb = HttpRequest.newBuilder(current).GET()
                    .timeout(env.readTimeout())
                    .header("User-Agent", USER_AGENT)
                    .header("Accept-Encoding", "identity");
            if (rangeStart > 0) {
                rb.header("Range", "bytes=" + rangeStart + "-");
            }
            if (auth) {
                rb.header("Authorization", "Bearer " + env.token());
            }
            HttpResponse<InputStream> resp;
            try {
                resp = http.send(rb.build(), TimedBody.handler(env.readTimeout()));
            } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
                throw unreachable(current, e);
            } catch (HttpTimeoutException e) {
                throw new HubException(HubException.Reason.TIMEOUT, -1, "no response from " + describe(current)
                        + " within " + env.readTimeout().toMillis() / 1000.0 + " s", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while requesting " + describe(current));
            } catch (IOException e) {
                if (e.getCause() instanceof ConnectException || e.getCause() instanceof UnknownHostException) {
                    throw unreachable(current, e);
                }
                throw e;
            }
            int s = resp.statusCode();
            Optional<String> location = resp.headers().firstValue("Location");
            if ((s == 301 || s == 302 || s == 303 || s == 307 || s == 308) && location.isPresent()) {
                resp.body().close();
                if (hop >= MAX_REDIRECTS) {
                    throw new HubException(HubException.Reason.BAD_RESPONSE, s, "more than " + MAX_REDIRECTS
                            + " redirects from " + describe(url), null);
                }
                try {
                    current = current.resolve(location.get().strip());
                } catch (IllegalArgumentException e) {
                    throw new HubException(HubException.Reason.BAD_RESPONSE, s, describe(current)
                            + " redirected to an invalid URL", e);
                }
                continue;
            }
            return resp;
        }
    }

    private HubException unreachable(URI url, Exception e) {
        return new HubException(HubException.Reason.UNREACHABLE, -1, "cannot reach " + url.getScheme() + "://"
                + url.getAuthority() + " (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": "
                + e.getMessage()) + "). If the Hub is blocked here, set HF_ENDPOINT (or --endpoint) to a mirror;"
                + " or download the model on a machine with access (rlhf4j model download, or"
                + " 'hf download REPO --local-dir DIR') and copy the directory here. HF_HUB_OFFLINE=1 uses a"
                + " complete earlier download without touching the network.", e);
    }

    private void pause(Duration d) throws IOException {
        try {
            sleeper.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
    }

    /** The Retry-After header: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
    static Optional<Duration> retryAfter(HttpResponse<?> resp) {
        Optional<String> v = resp.headers().firstValue("Retry-After").map(String::strip);
        if (v.isEmpty() || v.get().isEmpty()) {
            return Optional.empty();
        }
        String s = v.get();
        if (s.chars().allMatch(Character::isDigit)) {
            try {
                return Optional.of(Duration.ofSeconds(Long.parseLong(s)));
            } catch (NumberFormatException e) {
                return Optional.of(Duration.ofSeconds(Long.MAX_VALUE / 2));
            }
        }
        try {
            ZonedDateTime at = ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME);
            Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** A URL for messages: without its query (signed CDN URLs carry signatures there). */
    static String describe(URI url) {
        String s = url.toString();
        int q = s.indexOf('?');
        return q < 0 ? s : s.substring(0, q) + "?…";
    }

    /** Percent-encodes as Python's {@code urllib.parse.quote}: letters, digits and {@code _.-~} stay. */
    static String quote(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
                    || c == '-' || c == '~' || keepSlash && c == '/') {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", c));
            }
        }
        return sb.toString();
    }

    /** What a request was about, for messages. */
    private record Context(String repo, String revision, String path) {}

    private HubException failure(HttpResponse<InputStream> resp, InputStream body, Context ctx, URI url) {
        int s = resp.statusCode();
        String code = resp.headers().firstValue("X-Error-Code").orElse("");
        String serverMessage = resp.headers().firstValue("X-Error-Message").orElse(errorFromBody(body));
        String detail = serverMessage.isEmpty() ? "" : " (" + serverMessage + ")";
        String repo = ctx.repo();
        String page = env.endpoint() + "/" + repo;
        boolean token = env.token() != null;
        HubException.Reason reason;
        String msg;
        if (code.equals("GatedRepo")) {
            reason = HubException.Reason.GATED;
            msg = repo + " is a gated model" + detail + ". Accept its licence at " + page + " while logged in,"
                    + " then " + (token ? "make sure HF_TOKEN (or --token) is a token of that account"
                            : "set HF_TOKEN (or --token) to a read token of that account")
                    + " (https://huggingface.co/settings/tokens) and run again.";
        } else if (code.equals("RevisionNotFound")) {
            reason = HubException.Reason.REVISION_NOT_FOUND;
            msg = "revision '" + ctx.revision() + "' not found in " + repo + detail + ": give a branch, a tag or a"
                    + " full commit id (see " + page + "/tree/main and its branch list).";
        } else if (code.equals("EntryNotFound")) {
            reason = HubException.Reason.ENTRY_NOT_FOUND;
            msg = "file '" + ctx.path() + "' not found in " + repo + " at " + ctx.revision() + detail + ".";
        } else if (s == 401 && serverMessage.equals("Invalid credentials in Authorization header")) {
            reason = HubException.Reason.UNAUTHORIZED;
            msg = env.endpoint() + " rejected the access token (invalid or expired): check HF_TOKEN, --token or the"
                    + " token file (" + "HF_TOKEN_PATH, $HF_HOME/token).";
        } else if (code.equals("RepoNotFound") || s == 401) {
            // utils/_http.py hf_raise_for_status: a 401 on a repo URL means private, gated or missing
            reason = HubException.Reason.REPO_NOT_FOUND;
            msg = "repository '" + repo + "' not found on " + env.endpoint() + " (HTTP " + s + ")" + detail
                    + ". Check the id (namespace/name, as in " + page + "); if it is private, "
                    + (token ? "the token given has no access to it." : "set HF_TOKEN (or --token) to a token with"
                            + " access to it.");
        } else if (s == 403) {
            reason = HubException.Reason.FORBIDDEN;
            msg = "access to " + describe(url) + " is forbidden (HTTP 403)" + detail + "; a fine-grained token needs"
                    + " read access to " + repo + ".";
        } else if (s == 429) {
            reason = HubException.Reason.RATE_LIMITED;
            msg = "rate limited by " + url.getHost() + " (HTTP 429" + retryAfter(resp).map(d -> ", Retry-After "
                    + d.toSeconds() + " s").orElse("") + ")" + detail
                    + "; wait and run again (finished files are kept and partial ones resumed).";
        } else if (s >= 500 || s == 408) {
            reason = HubException.Reason.SERVER_ERROR;
            msg = describe(url) + " kept failing (HTTP " + s + ")" + detail
                    + "; run again later (finished files are kept and partial ones resumed).";
        } else {
            reason = HubException.Reason.HTTP_ERROR;
            msg = "HTTP " + s + " for " + describe(url) + detail + ".";
        }
        return new HubException(reason, s, msg, null);
    }

    /** The {@code error} field of a JSON error body, if the body is one (at most 8 KiB are read). */
    private static String errorFromBody(InputStream body) {
        try {
            byte[] bytes = body.readNBytes(8192);
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n != null && n.path("error").isTextual()) {
                String e = n.get("error").asText();
                return e.length() > 300 ? e.substring(0, 300) + "…" : e;
            }
        } catch (IOException | RuntimeException e) {
            // not JSON, or the body broke off: the status alone has to do
        }
        return "";
    }

    private static MessageDigest digest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(name + " is not available", e);
        }
    }
}
