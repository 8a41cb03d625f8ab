package org.rlhf4j.datasets.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

class HubDownloadTest {

    static final String REPO = "acme/tiny-lm";
    static final String C1 = "1111111111111111111111111111111111111111";
    static final String C2 = "2222222222222222222222222222222222222222";
    static final String TOKEN = "hf_secret_token_123";

    @TempDir Path tmp;
    FakeHub hub;
    final List<Duration> sleeps = new ArrayList<>();
    Map<String, byte[]> files;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        files = new LinkedHashMap<>();
        files.put("config.json", text("{\"model_type\":\"gpt2\",\"n_layer\":2}\n"));
        files.put("generation_config.json", text("{\"eos_token_id\":0}\n"));
        files.put("tokenizer.json", text("{\"model\":{\"type\":\"BPE\"}}\n"));
        files.put("README.md", text("# tiny\n"));
        files.put("model.safetensors", random(300_000, 1));
        files.put("pytorch_model.bin", random(1000, 2));
        files.put("onnx/model.onnx", random(500, 3));
        files.put("sub/dir/notes.txt", text("nested\n"));
        FakeHub.Repo r = hub.repo(REPO).commit(C1, files, "model.safetensors", "pytorch_model.bin",
                "onnx/model.onnx");
        r.refs.put("main", C1);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubClient.Builder client(String token) {
        return HubClient.builder()
                .optEnvironment(new HubEnvironment(hub.endpoint(), token, false, Duration.ofSeconds(5)))
                .optSleeper(sleeps::add);
    }

    HubDownload.Builder download(HubClient client) {
        return HubDownload.builder().setRepo(REPO).setOutputDir(tmp.resolve("out")).optClient(client);
    }

    HubDownload.Result run(HubClient client) throws IOException {
        return download(client).build().run();
    }

    @Test
    void downloadsTheDefaultFilesVerifiedWithAManifestAndNoTokenOnTheCdn() throws IOException {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        HubClient c = client(TOKEN).optProgress(new PrintStream(progress, true, StandardCharsets.UTF_8)).build();
        HubDownload.Result r = run(c);
        Path out = tmp.resolve("out");
        assertThat(r.status()).isEqualTo(HubDownload.Status.DOWNLOADED);
        assertThat(r.dir()).isEqualTo(out.toAbsolutePath());
        try (Stream<Path> s = Files.walk(out)) {
            assertThat(s.filter(Files::isRegularFile).map(p -> out.relativize(p).toString()).sorted().toList())
                    .containsExactly("README.md", "config.json", "generation_config.json", "model.safetensors",
                            "rlhf4j-download.json", "tokenizer.json");
        }
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "README.md")) {
            assertThat(Files.readAllBytes(out.resolve(f))).as(f).isEqualTo(files.get(f));
        }
        assertThat(r.notSelected()).extracting(RepoFile::path)
                .containsExactlyInAnyOrder("pytorch_model.bin", "onnx/model.onnx", "sub/dir/notes.txt");
        assertThat(r.filesDownloaded()).isEqualTo(5);
        assertThat(r.bytesDownloaded()).isEqualTo(files.entrySet().stream()
                .filter(e -> FileSelection.isDefaultFile(e.getKey())).mapToLong(e -> e.getValue().length).sum());
        // no staging directory, lock or partial file is left behind
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("out");
        }

        HubManifest m = HubManifest.read(out).orElseThrow();
        assertThat(m.repo()).isEqualTo(REPO);
        assertThat(m.revision()).isEqualTo("main");
        assertThat(m.commit()).isEqualTo(C1);
        assertThat(m.endpoint()).isEqualTo(hub.endpoint().toString());
        HubManifest.Entry w = m.byPath().get("model.safetensors");
        assertThat(w.sha256()).isEqualTo(FakeHub.sha256(files.get("model.safetensors")));
        assertThat(w.lfs()).isTrue();
        assertThat(w.size()).isEqualTo(300_000);
        HubManifest.Entry cfg = m.byPath().get("config.json");
        assertThat(cfg.sha256()).isEqualTo(FakeHub.sha256(files.get("config.json")));
        assertThat(cfg.gitOid()).isEqualTo(FakeHub.gitOid(files.get("config.json")));
        assertThat(Files.readString(out.resolve(HubManifest.FILE_NAME))).doesNotContain(TOKEN);

        // the token goes to the hub on every request, never to the CDN the LFS file was redirected to
        assertThat(hub.requests("hub")).allSatisfy(q -> assertThat(q.authorization()).isEqualTo("Bearer " + TOKEN));
        assertThat(hub.requests("cdn")).hasSize(1)
                .allSatisfy(q -> assertThat(q.authorization()).isNull());
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("model.safetensors").contains("100% [");
    }

    @Test
    void aRenamedRepoIsFollowedThroughRelativeRedirectsKeepingTheTokenOnTheHub() throws IOException {
        hub.renamed.put("acme/old-name", REPO);
        HubDownload.Result r = HubDownload.builder().setRepo("acme/old-name").setOutputDir(tmp.resolve("out"))
                .optClient(client(TOKEN).build()).build().run();
        assertThat(r.manifest().repo()).isEqualTo("acme/old-name");
        assertThat(Files.readAllBytes(tmp.resolve("out/model.safetensors"))).isEqualTo(files.get("model.safetensors"));
        assertThat(hub.requests("hub")).extracting(FakeHub.Request::path)
                .contains("/acme/old-name/resolve/" + C1 + "/config.json",
                        "/acme/tiny-lm/resolve/" + C1 + "/config.json");
        assertThat(hub.requests("hub")).allSatisfy(q -> assertThat(q.authorization()).isEqualTo("Bearer " + TOKEN));
        assertThat(hub.requests("cdn")).allSatisfy(q -> assertThat(q.authorization()).isNull());
    }

    @Test
    void aRerunOfTheSameCommitIsANoOpAndACommitRevisionNeedsNoNetwork() throws IOException {
        HubClient c = client(null).build();
        run(c);
        hub.requests.clear();
        HubDownload.Result again = run(c);
        assertThat(again.status()).isEqualTo(HubDownload.Status.UP_TO_DATE);
        assertThat(hub.requests).extracting(FakeHub.Request::path)
                .containsExactly("/api/models/acme/tiny-lm/revision/main", "/api/models/acme/tiny-lm/tree/" + C1);

        hub.requests.clear();
        HubDownload.Result byCommit = download(c).optRevision(C1).build().run();
        assertThat(byCommit.status()).isEqualTo(HubDownload.Status.UP_TO_DATE);
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void treePagesAreFollowedThroughTheLinkHeader() throws IOException {
        hub.pageSize = 3;
        List<RepoFile> listed = client(null).build().listFiles(REPO, C1);
        assertThat(listed).extracting(RepoFile::path).containsExactlyInAnyOrderElementsOf(files.keySet());
        assertThat(hub.requests("hub")).hasSizeGreaterThan(3);
        RepoFile w = listed.stream().filter(f -> f.path().equals("model.safetensors")).findFirst().orElseThrow();
        assertThat(w.lfsSha256()).isEqualTo(FakeHub.sha256(files.get("model.safetensors")));
        assertThat(w.size()).isEqualTo(300_000);
        RepoFile cfg = listed.stream().filter(f -> f.path().equals("config.json")).findFirst().orElseThrow();
        assertThat(cfg.isLfs()).isFalse();
        assertThat(cfg.gitOid()).isEqualTo(FakeHub.gitOid(files.get("config.json")));
    }

    @Test
    void anInterruptedTransferKeepsItsPartAndTheNextRunResumesWithRange() throws IOException {
        hub.cutAfter.set(100_000);
        HubClient once = client(null).optMaxRetries(0).build();
        assertThatThrownBy(() -> run(once))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.INTERRUPTED))
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("the next run resumes it");
        assertThat(tmp.resolve("out")).doesNotExist();
        Path part = tmp.resolve("out.tmp-" + C1.substring(0, 12)).resolve("model.safetensors.incomplete");
        assertThat(part).exists();
        long have = Files.size(part);
        assertThat(have).isGreaterThan(0).isLessThan(300_000);

        hub.requests.clear();
        HubDownload.Result r = run(client(null).build());
        assertThat(r.status()).isEqualTo(HubDownload.Status.DOWNLOADED);
        assertThat(hub.requests("cdn")).extracting(FakeHub.Request::range).containsExactly("bytes=" + have + "-");
        assertThat(Files.readAllBytes(tmp.resolve("out/model.safetensors"))).isEqualTo(files.get("model.safetensors"));
        // files finished by the first run are not fetched again
        assertThat(hub.requests("hub")).extracting(FakeHub.Request::path)
                .noneMatch(p -> p.endsWith("/config.json") || p.endsWith("/README.md"));
        assertThat(tmp.resolve("out.tmp-" + C1.substring(0, 12))).doesNotExist();
    }

    @Test
    void retriesResumeWithinOneRunAndAServerIgnoringRangeRestartsCleanly() throws IOException {
        hub.cutAfter.set(50_000);
        hub.honourRange = false;
        HubDownload.Result r = run(client(null).optMaxRetries(2).build());
        assertThat(r.status()).isEqualTo(HubDownload.Status.DOWNLOADED);
        assertThat(hub.requests("cdn")).extracting(FakeHub.Request::range).containsExactly(null, "bytes=50000-");
        assertThat(Files.readAllBytes(tmp.resolve("out/model.safetensors"))).isEqualTo(files.get("model.safetensors"));
        assertThat(sleeps).containsExactly(Duration.ofSeconds(1));
    }

    @Test
    void aStalledBodyHitsTheReadTimeoutAndIsResumed() throws IOException {
        hub.stallNext.set(1);
        HubClient c = HubClient.builder()
                .optEnvironment(new HubEnvironment(hub.endpoint(), null, false, Duration.ofMillis(300)))
                .optSleeper(sleeps::add).build();
        long t0 = System.nanoTime();
        HubDownload.Result r = run(c);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(6.0); // the server holds the stalled body for 10 s
        assertThat(r.status()).isEqualTo(HubDownload.Status.DOWNLOADED);
        assertThat(hub.requests("cdn")).extracting(FakeHub.Request::range).containsExactly(null, "bytes=150000-");
        assertThat(Files.readAllBytes(tmp.resolve("out/model.safetensors"))).isEqualTo(files.get("model.safetensors"));

        hub.stallNext.set(10);
        HubClient giveUp = HubClient.builder()
                .optEnvironment(new HubEnvironment(hub.endpoint(), null, false, Duration.ofMillis(200)))
                .optMaxRetries(1).optSleeper(sleeps::add).build();
        assertThatThrownBy(() -> HubDownload.builder().setRepo(REPO).setOutputDir(tmp.resolve("out2"))
                        .optClient(giveUp).build().run())
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.INTERRUPTED))
                .hasMessageContaining("no data received for 200 ms");
    }

    @Test
    void aSha256MismatchDeletesTheFileAndNamesExpectedAndActual() throws IOException {
        byte[] bad = random(300_000, 99);
        hub.corrupt.put("model.safetensors", bad);
        assertThatThrownBy(() -> run(client(null).build()))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.CHECKSUM_MISMATCH))
                .hasMessageContaining("sha256 mismatch for model.safetensors: expected "
                        + FakeHub.sha256(files.get("model.safetensors")) + ", got " + FakeHub.sha256(bad))
                .hasMessageContaining("deleted");
        Path staging = tmp.resolve("out.tmp-" + C1.substring(0, 12));
        assertThat(staging.resolve("model.safetensors.incomplete")).doesNotExist();
        assertThat(staging.resolve("model.safetensors")).doesNotExist();
        assertThat(tmp.resolve("out")).doesNotExist();

        // a non-LFS file is checked against its git blob id
        hub.corrupt.clear();
        hub.corrupt.put("config.json", text("{\"model_type\":\"gpt2\",\"n_layer\":9}\n"));
        assertThatThrownBy(() -> HubDownload.builder().setRepo(REPO).setOutputDir(tmp.resolve("other"))
                        .optClient(client(null).build()).build().run())
                .hasMessageContaining("git blob sha1 mismatch for config.json: expected "
                        + FakeHub.gitOid(files.get("config.json")));
    }

    @Test
    void gatedRepoWithoutOrWithAnUnacceptedTokenSaysWhereToAcceptTheLicence() {
        hub.repo(REPO).gated = true;
        String page = hub.endpoint() + "/" + REPO;
        assertThatThrownBy(() -> run(client(null).build()))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.reason()).isEqualTo(HubException.Reason.GATED);
                    assertThat(e.status()).isEqualTo(401);
                })
                .hasMessageContaining("acme/tiny-lm is a gated model")
                .hasMessageContaining("Accept its licence at " + page)
                .hasMessageContaining("set HF_TOKEN (or --token)");
        String wrong = "hf_wrong_token_456";
        assertThatThrownBy(() -> run(client(wrong).build()))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.reason()).isEqualTo(HubException.Reason.GATED);
                    assertThat(e.status()).isEqualTo(403);
                })
                .hasMessageContaining("make sure HF_TOKEN (or --token) is a token of that account")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrong));
        assertThat(hub.requests("hub")).anySatisfy(q -> assertThat(q.authorization()).isEqualTo("Bearer " + wrong));
    }

    @Test
    void gatedRepoWithTheRightTokenDownloads() throws IOException {
        hub.repo(REPO).gated = true;
        assertThat(run(client(TOKEN).build()).status()).isEqualTo(HubDownload.Status.DOWNLOADED);
    }

    @Test
    void missingRepoAndMissingRevisionAreTold() {
        assertThatThrownBy(() -> HubDownload.builder().setRepo("acme/nope").setOutputDir(tmp.resolve("x"))
                        .optClient(client(null).build()).build().run())
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.reason()).isEqualTo(HubException.Reason.REPO_NOT_FOUND);
                    assertThat(e.status()).isEqualTo(404);
                })
                .hasMessageContaining("repository 'acme/nope' not found on " + hub.endpoint())
                .hasMessageContaining("if it is private, set HF_TOKEN");
        assertThatThrownBy(() -> download(client(null).build()).optRevision("refs/pr/7").build().run())
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.REVISION_NOT_FOUND))
                .hasMessageContaining("revision 'refs/pr/7' not found in acme/tiny-lm");
        // the revision travels percent-encoded as one path segment
        assertThat(hub.requests("hub")).extracting(FakeHub.Request::path)
                .contains("/api/models/acme/tiny-lm/revision/refs%2Fpr%2F7");
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void aRejectedTokenAndAListedFileTheServerLacksAreTold() {
        hub.rejectTokens = true;
        assertThatThrownBy(() -> run(client(TOKEN).build()))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.UNAUTHORIZED))
                .hasMessageContaining("rejected the access token (invalid or expired)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(TOKEN));
        hub.rejectTokens = false;
        ObjectNode ghost = Json.MAPPER.createObjectNode();
        ghost.put("type", "file");
        ghost.put("oid", "b".repeat(40));
        ghost.put("size", 3);
        ghost.put("path", "tokenizer_config.json");
        hub.extraEntries.add(ghost);
        assertThatThrownBy(() -> run(client(null).build()))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.reason()).isEqualTo(HubException.Reason.ENTRY_NOT_FOUND);
                    assertThat(e.status()).isEqualTo(404);
                })
                .hasMessageContaining("file 'tokenizer_config.json' not found in acme/tiny-lm at " + C1);
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void rateLimitsHonourRetryAfterAndServerErrorsBackOff() throws IOException {
        hub.failNext.set(2);
        hub.failStatus = 429;
        hub.retryAfter = "7";
        run(client(null).build());
        assertThat(sleeps).containsExactly(Duration.ofSeconds(7), Duration.ofSeconds(7));

        sleeps.clear();
        hub.retryAfter = null;
        hub.failStatus = 503;
        hub.failNext.set(3);
        HubDownload.builder().setRepo(REPO).setOutputDir(tmp.resolve("out2")).optClient(client(null).build())
                .build().run();
        assertThat(sleeps).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));

        hub.failStatus = 429;
        hub.retryAfter = "3600";
        hub.failNext.set(1);
        assertThatThrownBy(() -> HubDownload.builder().setRepo(REPO).setOutputDir(tmp.resolve("out3"))
                        .optClient(client(null).build()).build().run())
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.RATE_LIMITED))
                .hasMessageContaining("Retry-After 3600 s");
    }

    @Test
    void aNewCommitReplacesTheDirectoryReusingUnchangedFiles() throws IOException {
        HubClient c = client(null).build();
        run(c);
        Map<String, byte[]> v2 = new LinkedHashMap<>(files);
        v2.put("config.json", text("{\"model_type\":\"gpt2\",\"n_layer\":3}\n"));
        hub.repo(REPO).commit(C2, v2).refs.put("main", C2);
        hub.requests.clear();
        HubDownload.Result r = run(c);
        assertThat(r.status()).isEqualTo(HubDownload.Status.UPDATED);
        assertThat(r.manifest().commit()).isEqualTo(C2);
        assertThat(r.filesDownloaded()).isEqualTo(1);
        assertThat(r.filesReused()).isEqualTo(4);
        assertThat(hub.requests("cdn")).isEmpty();
        assertThat(Files.readAllBytes(tmp.resolve("out/config.json"))).isEqualTo(v2.get("config.json"));
        assertThat(Files.readAllBytes(tmp.resolve("out/model.safetensors"))).isEqualTo(files.get("model.safetensors"));
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("out");
        }
    }

    @Test
    void includeAndExcludeGlobsChangeTheSelection() throws IOException {
        FileSelection sel = FileSelection.builder().addInclude("sub/").addInclude("*.bin")
                .addExclude("README*").build();
        HubDownload.Result r = download(client(null).build()).optSelection(sel).build().run();
        assertThat(r.manifest().byPath().keySet()).containsExactlyInAnyOrder("config.json",
                "generation_config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin",
                "sub/dir/notes.txt");
        assertThat(Files.readString(tmp.resolve("out/sub/dir/notes.txt"))).isEqualTo("nested\n");
        // a changed selection on the same commit restages: README goes, nothing is downloaded twice
        hub.requests.clear();
        HubDownload.Result back = run(client(null).build());
        assertThat(back.status()).isEqualTo(HubDownload.Status.UPDATED);
        assertThat(back.filesDownloaded()).isEqualTo(1); // README.md
        assertThat(tmp.resolve("out/sub")).doesNotExist();
        assertThat(tmp.resolve("out/pytorch_model.bin")).doesNotExist();
    }

    @Test
    void aRepoWithOnlyBinWeightsIsRefusedUnlessAsked() throws IOException {
        Map<String, byte[]> bin = new LinkedHashMap<>();
        bin.put("config.json", files.get("config.json"));
        bin.put("pytorch_model.bin", files.get("pytorch_model.bin"));
        bin.put("training_args.bin", random(10, 4));
        hub.repo("acme/old").commit(C1, bin, "pytorch_model.bin").refs.put("main", C1);
        HubDownload.Builder b = HubDownload.builder().setRepo("acme/old").setOutputDir(tmp.resolve("old"))
                .optClient(client(null).build());
        assertThatThrownBy(() -> b.build().run())
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.NO_SAFETENSORS))
                .hasMessageContaining("acme/old at " + C1 + " has no .safetensors weights, only PyTorch .bin"
                        + " (pytorch_model.bin); rlhf4j reads safetensors only")
                .hasMessageContaining("--include");
        assertThat(tmp.resolve("old")).doesNotExist();
        HubDownload.Result r = b.optSelection(FileSelection.builder().addInclude("pytorch_model.bin").build())
                .build().run();
        assertThat(r.manifest().byPath().keySet()).containsExactlyInAnyOrder("config.json", "pytorch_model.bin");
    }

    @Test
    void shardsNotInTheIndexAreSkipped() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("config.json", files.get("config.json"));
        m.put("model-00001-of-00002.safetensors", random(100, 5));
        m.put("model-00002-of-00002.safetensors", random(100, 6));
        m.put("consolidated.safetensors", random(200, 7));
        m.put("model.safetensors.index.json", text("{\"metadata\":{\"total_size\":200},\"weight_map\":{"
                + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}"));
        hub.repo("acme/sharded").commit(C1, m, "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors", "consolidated.safetensors").refs.put("main", C1);
        HubDownload.Builder b = HubDownload.builder().setRepo("acme/sharded").setOutputDir(tmp.resolve("s"))
                .optClient(client(null).build());
        HubDownload.Result r = b.build().run();
        assertThat(r.manifest().byPath().keySet()).containsExactlyInAnyOrder("config.json",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model.safetensors.index.json");
        assertThat(r.notSelected()).extracting(RepoFile::path).containsExactly("consolidated.safetensors");
        assertThat(b.build().run().status()).isEqualTo(HubDownload.Status.UP_TO_DATE);
    }

    @Test
    void unreachableEndpointExplainsMirrorsAndFallsBackToAnEarlierDownload() throws IOException {
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        HubClient down = HubClient.builder()
                .optEnvironment(new HubEnvironment(URI.create("http://127.0.0.1:" + dead), TOKEN, false,
                        Duration.ofSeconds(2)))
                .build();
        assertThatThrownBy(() -> run(down))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.UNREACHABLE))
                .hasMessageContaining("cannot reach http://127.0.0.1:" + dead)
                .hasMessageContaining("HF_ENDPOINT")
                .hasMessageContaining("copy the directory here")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(TOKEN));

        run(client(null).build());
        HubDownload.Result r = run(down);
        assertThat(r.status()).isEqualTo(HubDownload.Status.OFFLINE);
        assertThat(r.manifest().commit()).isEqualTo(C1);
    }

    @Test
    void offlineModeUsesAnEarlierDownloadWithoutAnyRequest() throws IOException {
        HubClient offline = HubClient.builder()
                .optEnvironment(new HubEnvironment(hub.endpoint(), null, true, Duration.ofSeconds(5))).build();
        assertThatThrownBy(() -> run(offline))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.OFFLINE))
                .hasMessageContaining("HF_HUB_OFFLINE");
        assertThat(hub.requests).isEmpty();
        run(client(null).build());
        hub.requests.clear();
        assertThat(run(offline).status()).isEqualTo(HubDownload.Status.OFFLINE);
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void aDirectoryHoldingSomethingElseIsNeverTouched() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("mine.txt"), "keep");
        assertThatThrownBy(() -> run(client(null).build()))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.OUTPUT_CONFLICT))
                .hasMessageContaining("holds no rlhf4j-download.json");
        assertThat(out.resolve("mine.txt")).hasContent("keep");

        Files.delete(out.resolve("mine.txt"));
        run(client(null).build());
        hub.repo("acme/other").commit(C1, files, "model.safetensors").refs.put("main", C1);
        assertThatThrownBy(() -> HubDownload.builder().setRepo("acme/other").setOutputDir(out)
                        .optClient(client(null).build()).build().run())
                .hasMessageContaining("holds a download of acme/tiny-lm, not acme/other");
    }

    @Test
    void verifyRepairsAFileChangedOnDisk() throws IOException {
        run(client(null).build());
        Path w = tmp.resolve("out/model.safetensors");
        byte[] changed = files.get("model.safetensors").clone();
        changed[10] ^= 1;
        Files.write(w, changed);
        assertThat(run(client(null).build()).status()).isEqualTo(HubDownload.Status.UP_TO_DATE); // sizes only
        HubDownload.Result r = download(client(null).build()).optVerify(true).build().run();
        assertThat(r.status()).isEqualTo(HubDownload.Status.UPDATED);
        assertThat(r.filesDownloaded()).isEqualTo(1);
        assertThat(Files.readAllBytes(w)).isEqualTo(files.get("model.safetensors"));
    }

    @Test
    void anUnsafePathInTheListingIsRefused() {
        ObjectNode evil = Json.MAPPER.createObjectNode();
        evil.put("type", "file");
        evil.put("oid", "a".repeat(40));
        evil.put("size", 3);
        evil.put("path", "../evil.safetensors");
        hub.extraEntries.add(evil);
        assertThatThrownBy(() -> run(client(null).build()))
                .isInstanceOfSatisfying(HubException.class,
                        e -> assertThat(e.reason()).isEqualTo(HubException.Reason.BAD_RESPONSE))
                .hasMessageContaining("unsafe repository path '../evil.safetensors'");
        assertThat(tmp.resolve("evil.safetensors")).doesNotExist();
    }
}
