package org.rlhf4j.datasets.download;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads OpenAI's summarize-from-feedback files into a cache directory.
 *
 * <p>Layout: {@code <cache>/summarize-from-feedback/<path>} mirrors the paths under the base URL (e.g.
 * {@code datasets/tldr_3_filtered/train.jsonl}), with {@code manifest.json} beside them. A file is written to
 * {@code <name>.part} and renamed into place atomically once complete and verified. A partial {@code .part} file is
 * resumed with an HTTP {@code Range} request; when the server ignores it (200 instead of 206) or rejects it (416),
 * the download restarts from zero. The sha256 of every file is recorded on first download (or first use of a file
 * placed by hand) and checked on every later use; a mismatching file is moved aside and never used. With every file
 * already cached nothing touches the network; with some missing and no network, a {@link MissingDataException} lists
 * each URL and the exact path to place it at.
 */
public final class TldrDownloader {

    /** The canonical base URL. */
    public static final URI DEFAULT_BASE_URL =
            URI.create("https://openaipublic.blob.core.windows.net/summarize-from-feedback/");

    /** The directory under the cache root that holds these files. */
    public static final String DATA_DIR = "summarize-from-feedback";

    /** Checksums known in advance (the rest are recorded on first download). */
    public static final Map<String, String> KNOWN_SHA256 = Map.of(
            "dataset/comparisons/batch18.json", "5008e223e287b4c38e434e270cf77301993adba70e1f87362f35fb928f83863a");

    private static final Logger LOG = LoggerFactory.getLogger(TldrDownloader.class);

    private final Path root;
    private final URI baseUrl;
    private final PrintStream progress;
    private final int retries;
    private final HttpClient client;
    private final Map<String, String> knownSha256;

    private TldrDownloader(Builder b) {
        this.root = b.cacheDir.resolve(DATA_DIR);
        this.baseUrl = b.baseUrl;
        this.progress = b.progress;
        this.retries = b.retries;
        this.knownSha256 = b.knownSha256;
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(b.connectTimeout)
                .build();
    }

    /**
     * Returns a builder (defaults: cache {@link CacheDirs#defaultRoot()}, canonical base URL, no progress bar, 3
     * retries with resume, 20 s connect timeout).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link TldrDownloader}. */
    public static final class Builder {
        private Path cacheDir = CacheDirs.defaultRoot();
        private URI baseUrl = DEFAULT_BASE_URL;
        private PrintStream progress;
        private int retries = 3;
        private Duration connectTimeout = Duration.ofSeconds(20);
        private Map<String, String> knownSha256 = KNOWN_SHA256;

        private Builder() {}

        /**
         * Sets the cache root (files go under {@code <dir>/summarize-from-feedback/}).
         *
         * @param dir the cache root
         * @return this
         */
        public Builder setCacheDir(Path dir) {
            this.cacheDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /**
         * Sets the base URL (a mirror, or a local server in tests); a missing trailing slash is added.
         *
         * @param url the base URL
         * @return this
         */
        public Builder setBaseUrl(URI url) {
            String s = Objects.requireNonNull(url, "url").toString();
            if (!s.startsWith("http://") && !s.startsWith("https://")) {
                throw new IllegalArgumentException("base URL must be http(s), got '" + s + "'");
            }
            this.baseUrl = URI.create(s.endsWith("/") ? s : s + "/");
            return this;
        }

        /**
         * Sets where the progress bar is drawn.
         *
         * @param out the stream, or null for none
         * @return this
         */
        public Builder optProgress(PrintStream out) {
            this.progress = out;
            return this;
        }

        /**
         * Sets how many times an interrupted transfer is resumed before giving up.
         *
         * @param retries 0 or more
         * @return this
         */
        public Builder setRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0, got " + retries);
            }
            this.retries = retries;
            return this;
        }

        /**
         * Sets the connect timeout.
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder setConnectTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connect timeout must be positive, got " + timeout);
            }
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * Replaces the table of checksums known in advance (path to hex sha256).
         *
         * @param known the table
         * @return this
         */
        public Builder setKnownSha256(Map<String, String> known) {
            this.knownSha256 = Map.copyOf(known);
            return this;
        }

        /**
         * Builds the downloader.
         *
         * @return the downloader
         */
        public TldrDownloader build() {
            return new TldrDownloader(this);
        }
    }

    /**
     * Returns the directory the files go to.
     *
     * @return {@code <cache>/summarize-from-feedback}
     */
    public Path dataRoot() {
        return root;
    }

    /**
     * Returns the cache path of a file.
     *
     * @param file the file
     * @return its target path
     */
    public Path target(TldrFile file) {
        return root.resolve(file.path());
    }

    /**
     * Returns the URL of a file.
     *
     * @param file the file
     * @return base URL + path
     */
    public URI url(TldrFile file) {
        return baseUrl.resolve(file.path());
    }

    /**
     * Returns the files of a list that are not in the cache yet (no network access).
     *
     * @param files the files
     * @return those without a complete cached copy
     */
    public List<TldrFile> missing(List<TldrFile> files) {
        List<TldrFile> out = new ArrayList<>();
        for (TldrFile f : files) {
            if (!Files.isRegularFile(target(f))) {
                out.add(f);
            }
        }
        return out;
    }

    /**
     * Returns what to fetch by hand for some files: URL and target path of each.
     *
     * @param files the files
     * @return the list
     */
    public List<MissingDataException.Missing> manualSteps(List<TldrFile> files) {
        return files.stream().map(f -> new MissingDataException.Missing(url(f), target(f))).toList();
    }

    /**
     * Makes sure every file is in the cache and verified, downloading what is missing.
     *
     * @param files the files
     * @return their cache paths, in order
     * @throws MissingDataException when files are missing and the network is unreachable (lists URLs and paths)
     * @throws ChecksumMismatchException when a file does not match its recorded sha256 (the file is moved aside)
     * @throws DownloadException on other download failures
     * @throws IOException on local I/O failure
     */
    public List<Path> ensure(List<TldrFile> files) throws IOException {
        List<Path> out = new ArrayList<>();
        for (TldrFile f : files) {
            try {
                out.add(ensure(f));
            } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
                throw new MissingDataException(manualSteps(missing(files)), e);
            }
        }
        return out;
    }

    /**
     * Makes sure one file is in the cache and verified, downloading it when missing.
     *
     * @param file the file
     * @return its cache path
     * @throws ConnectException when the server cannot be reached (see {@link #ensure(List)} for the explained form)
     * @throws ChecksumMismatchException when the file does not match its recorded sha256
     * @throws IOException on other failures
     */
    public Path ensure(TldrFile file) throws IOException {
        Path target = target(file);
        if (Files.isRegularFile(target)) {
            verify(file);
            return target;
        }
        download(file);
        return target;
    }

    /**
     * Checks a cached file against the manifest; a file placed by hand gets its checksum recorded on first use.
     *
     * @param file the file
     * @return the cache path
     * @throws ChecksumMismatchException when the checksum differs (the file is moved aside)
     * @throws IOException on read failure or when the file is absent
     */
    public Path verify(TldrFile file) throws IOException {
        Path target = target(file);
        if (!Files.isRegularFile(target)) {
            throw new DownloadException(target + " is not in the cache; download " + url(file));
        }
        Manifest manifest = Manifest.load(manifestFile());
        String actual = Manifest.sha256(target);
        Optional<String> expected = expectedSha256(manifest, file);
        if (expected.isPresent() && !expected.get().equalsIgnoreCase(actual)) {
            Path bad = moveAside(target);
            throw new ChecksumMismatchException(target, expected.get(), actual, bad);
        }
        if (manifest.get(file.path()).isEmpty()) {
            LOG.info("Recording sha256 {} of {} (placed by hand)", actual, target);
            manifest.put(file.path(), new Manifest.Entry(actual, Files.size(target), "local"));
        }
        return target;
    }

    /**
     * Returns the manifest path.
     *
     * @return {@code <cache>/summarize-from-feedback/manifest.json}
     */
    public Path manifestFile() {
        return root.resolve("manifest.json");
    }

    private Optional<String> expectedSha256(Manifest manifest, TldrFile file) {
        Optional<Manifest.Entry> e = manifest.get(file.path());
        if (e.isPresent()) {
            return Optional.of(e.get().sha256());
        }
        return Optional.ofNullable(knownSha256.get(file.path()));
    }

    private Path moveAside(Path file) throws IOException {
        Path bad = file.resolveSibling(file.getFileName() + ".bad-" + System.currentTimeMillis());
        Files.move(file, bad);
        LOG.warn("Moved {} aside to {}", file, bad);
        return bad;
    }

    private void download(TldrFile file) throws IOException {
        Path target = target(file);
        Path part = target.resolveSibling(target.getFileName() + ".part");
        Files.createDirectories(target.getParent());
        URI url = url(file);
        IOException last = null;
        for (int attempt = 0; attempt <= retries; attempt++) {
            try {
                if (transfer(url, part, file.fileName())) {
                    last = null;
                    break;
                }
                last = new DownloadException("server rejected the resume request for " + url);
            } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
                throw e;
            } catch (DownloadException e) {
                throw e;
            } catch (IOException e) {
                last = e;
                long have = Files.exists(part) ? Files.size(part) : 0;
                LOG.warn("Transfer of {} interrupted after {} bytes ({}); {}", url, have, e.getMessage(),
                        attempt < retries ? "resuming" : "giving up");
            }
        }
        if (last != null) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            throw new DownloadException("download of " + url + " interrupted after " + have + " bytes ("
                    + last.getMessage() + "); the partial file " + part + " is kept and the next run resumes it",
                    last);
        }
        Manifest manifest = Manifest.load(manifestFile());
        String actual = Manifest.sha256(part);
        Optional<String> expected = expectedSha256(manifest, file);
        if (expected.isPresent() && !expected.get().equalsIgnoreCase(actual)) {
            Path bad = moveAside(part);
            throw new ChecksumMismatchException(target, expected.get(), actual, bad);
        }
        long size = Files.size(part);
        Manifest.moveAtomically(part, target);
        if (expected.isEmpty()) {
            LOG.info("Recording sha256 {} of {}", actual, target);
        }
        manifest.put(file.path(), new Manifest.Entry(actual, size, url.toString()));
    }

    /**
     * Runs one HTTP transfer into the part file, resuming it when it has bytes.
     *
     * @return true when the body was received completely; false when the server answered 416 to a resume (the part
     *     file is then deleted so the next attempt starts from zero)
     */
    private boolean transfer(URI url, Path part, String label) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        HttpRequest.Builder rb = HttpRequest.newBuilder(url).GET();
        if (have > 0) {
            rb.header("Range", "bytes=" + have + "-");
        }
        HttpResponse<InputStream> resp;
        try {
            resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("interrupted while downloading " + url, e);
        }
        int status = resp.statusCode();
        try (InputStream body = resp.body()) {
            boolean append;
            if (status == 206 && have > 0) {
                String range = resp.headers().firstValue("Content-Range").orElse("");
                if (!range.startsWith("bytes " + have + "-")) {
                    throw new DownloadException("server answered Range bytes=" + have + "- with Content-Range '"
                            + range + "' for " + url + "; delete " + part + " and run again");
                }
                append = true;
            } else if (status == 200) {
                if (have > 0) {
                    LOG.info("Server ignored the Range request for {}; restarting from zero", url);
                }
                append = false;
                have = 0;
            } else if (status == 416 && have > 0) {
                LOG.info("Server rejected resuming {} at byte {}; restarting from zero", url, have);
                Files.delete(part);
                return false;
            } else {
                throw new DownloadException("HTTP " + status + " for " + url);
            }
            long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
            long total = length >= 0 ? have + length : -1;
            ProgressBar bar = new ProgressBar(progress, label, total, have);
            long written = have;
            try (OutputStream out = append
                    ? Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
                    : Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = body.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    written += n;
                    bar.update(written);
                }
            } finally {
                if (progress != null) {
                    bar.finish();
                }
            }
            if (total >= 0 && written != total) {
                throw new IOException("expected " + total + " bytes, got " + written);
            }
            return true;
        }
    }
}
