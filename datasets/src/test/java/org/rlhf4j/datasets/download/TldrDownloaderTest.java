package org.rlhf4j.datasets.download;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TldrDownloaderTest {

    static final TldrFile FILE = TldrFile.SFT_FILES.get(1); // datasets/tldr_3_filtered/valid.jsonl

    @TempDir Path cache;

    HttpServer server;
    volatile byte[] content;
    /** Serve at most this many body bytes on the next request, then close the connection (-1: no limit). */
    final AtomicInteger cutAfter = new AtomicInteger(-1);
    volatile boolean honourRange = true;
    final List<String> ranges = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4000; i++) {
            sb.append("{\"id\":\"t3_").append(i).append("\",\"summary\":\"row ").append(i).append("\"}\n");
        }
        content = sb.toString().getBytes(StandardCharsets.UTF_8);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/sff/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestURI().getPath().equals("/sff/" + FILE.path())) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            int start = 0;
            if (range != null && honourRange) {
                start = Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
                ex.getResponseHeaders().add("Content-Range",
                        "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
                ex.sendResponseHeaders(206, content.length - start);
            } else {
                ex.sendResponseHeaders(200, content.length);
            }
            OutputStream out = ex.getResponseBody();
            int cut = cutAfter.getAndSet(-1);
            if (cut >= 0) {
                out.write(content, start, cut);
                out.flush();
                // drop the connection mid-body: the exchange is closed with bytes still owed
                throw new IOException("simulated disconnect");
            }
            out.write(content, start, content.length - start);
        }
    }

    private TldrDownloader.Builder downloader() {
        return TldrDownloader.builder()
                .setCacheDir(cache)
                .setBaseUrl(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/sff"))
                .setKnownSha256(Map.of());
    }

    @Test
    void downloadsAtomicallyRecordsChecksumAndThenWorksOffline() throws IOException {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        TldrDownloader d = downloader().optProgress(new PrintStream(progress, true, StandardCharsets.UTF_8)).build();
        Path target = d.ensure(FILE);
        assertThat(target).isEqualTo(cache.resolve("summarize-from-feedback/datasets/tldr_3_filtered/valid.jsonl"));
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
        assertThat(target.resolveSibling("valid.jsonl.part")).doesNotExist();
        Manifest m = Manifest.load(d.manifestFile());
        assertThat(m.get(FILE.path()).orElseThrow().sha256()).isEqualTo(Manifest.sha256(target));
        assertThat(m.get(FILE.path()).orElseThrow().size()).isEqualTo(content.length);
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("valid.jsonl").contains("100% [");
        assertThat(ranges).containsExactly("null");

        server.stop(0);
        assertThat(d.ensure(List.of(FILE))).containsExactly(target);
    }

    @Test
    void checksumMismatchMovesTheBadFileAsideAndFails() throws IOException {
        TldrDownloader d = downloader().build();
        Path target = d.ensure(FILE);
        Files.writeString(target, "corrupted");
        assertThatThrownBy(() -> d.ensure(FILE))
                .isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("sha256 mismatch for " + target)
                .satisfies(e -> {
                    ChecksumMismatchException c = (ChecksumMismatchException) e;
                    assertThat(c.movedTo()).exists().hasContent("corrupted");
                    assertThat(c.actual()).isEqualTo(Manifest.sha256(c.movedTo()));
                });
        assertThat(target).doesNotExist();
        // the next run downloads a fresh copy and verifies it against the recorded checksum
        assertThat(Files.readAllBytes(d.ensure(FILE))).isEqualTo(content);
    }

    @Test
    void downloadNotMatchingTheKnownChecksumIsNotUsed() {
        TldrDownloader d = downloader().setKnownSha256(Map.of(FILE.path(), "00".repeat(32))).build();
        assertThatThrownBy(() -> d.ensure(FILE))
                .isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("expected " + "00".repeat(32));
        assertThat(d.target(FILE)).doesNotExist();
        assertThat(d.target(FILE).resolveSibling("valid.jsonl.part")).doesNotExist();
    }

    @Test
    void interruptedTransferKeepsThePartAndTheNextRunResumesWithRange() throws IOException {
        TldrDownloader d = downloader().setRetries(0).build();
        cutAfter.set(70_000);
        assertThatThrownBy(() -> d.ensure(FILE))
                .isInstanceOf(DownloadException.class)
                .hasMessageContaining("interrupted after")
                .hasMessageContaining("the next run resumes it");
        Path part = d.target(FILE).resolveSibling("valid.jsonl.part");
        assertThat(part).exists();
        long have = Files.size(part);
        assertThat(have).isGreaterThan(0).isLessThan(content.length);
        assertThat(d.target(FILE)).doesNotExist();

        Path target = d.ensure(FILE);
        assertThat(ranges).containsExactly("null", "bytes=" + have + "-");
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
        assertThat(part).doesNotExist();
    }

    @Test
    void retriesResumeWithinOneCall() throws IOException {
        TldrDownloader d = downloader().setRetries(2).build();
        cutAfter.set(50_000);
        assertThat(Files.readAllBytes(d.ensure(FILE))).isEqualTo(content);
        assertThat(ranges).hasSize(2);
        assertThat(ranges.get(1)).startsWith("bytes=");
    }

    @Test
    void serverIgnoringRangeRestartsCleanly() throws IOException {
        TldrDownloader d = downloader().build();
        honourRange = false;
        Path part = d.target(FILE).resolveSibling("valid.jsonl.part");
        Files.createDirectories(part.getParent());
        Files.writeString(part, "stale garbage that must not survive");
        Path target = d.ensure(FILE);
        assertThat(ranges).containsExactly("bytes=35-");
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
    }

    @Test
    void offlineWithoutCacheListsUrlsAndPaths() throws IOException {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        TldrDownloader d = downloader().setBaseUrl(URI.create("http://127.0.0.1:" + deadPort + "/sff/")).build();
        assertThatThrownBy(() -> d.ensure(TldrFile.SFT_FILES))
                .isInstanceOf(MissingDataException.class)
                .hasMessageContaining("http://127.0.0.1:" + deadPort + "/sff/datasets/tldr_3_filtered/train.jsonl\n"
                        + "    -> " + cache.resolve("summarize-from-feedback/datasets/tldr_3_filtered/train.jsonl"))
                .hasMessageContaining("/sff/datasets/tldr_3_filtered/test.jsonl")
                .satisfies(e -> assertThat(((MissingDataException) e).missing()).hasSize(3));
    }

    @Test
    void filePlacedByHandIsRecordedOnFirstUse() throws IOException {
        TldrDownloader d = downloader().build();
        Files.createDirectories(d.target(FILE).getParent());
        Files.write(d.target(FILE), content);
        server.stop(0);
        d.ensure(FILE);
        assertThat(Manifest.load(d.manifestFile()).get(FILE.path()).orElseThrow().url()).isEqualTo("local");
        assertThat(ranges).isEmpty();
    }

    @Test
    void fileListsAndCacheDirsAreCanonical() {
        assertThat(TldrFile.COMPARISON_FILES).hasSize(23);
        assertThat(TldrFile.of(TldrFile.Group.parse("all"))).hasSize(26);
        assertThat(TldrFile.COMPARISON_FILES.get(0).path()).isEqualTo("dataset/comparisons/batch3.json");
        assertThat(TldrDownloader.builder().build().url(TldrFile.SFT_FILES.get(0))).hasToString(
                "https://openaipublic.blob.core.windows.net/summarize-from-feedback/datasets/tldr_3_filtered/train.jsonl");
        assertThat(CacheDirs.resolve(Map.of(), "/home/u")).isEqualTo(Path.of("/home/u/.cache/rlhf4j"));
        assertThat(CacheDirs.resolve(Map.of("RLHF4J_CACHE", "/data/c"), "/home/u")).isEqualTo(Path.of("/data/c"));
        assertThatThrownBy(() -> TldrFile.Group.parse("everything"))
                .hasMessage("unknown download group 'everything'; expected sft, comparisons or all");
    }

    @Test
    void progressBarIsThrottled() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(out, true, StandardCharsets.UTF_8), "x", 1000, 0,
                60_000_000_000L);
        for (int i = 1; i <= 1000; i++) {
            bar.update(i);
        }
        assertThat(bar.draws()).isEqualTo(1);
        bar.finish();
        assertThat(bar.draws()).isEqualTo(2);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("100% [==============================]");
    }
}
