package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import picocli.CommandLine;

/** {@code model download} through picocli against a loopback Hub (revision, tree and resolve endpoints). */
class ModelDownloadCommandTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String TOKEN = "hf_cli_secret_789";

    @TempDir Path tmp;
    HttpServer server;
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final List<String> auth = new CopyOnWriteArrayList<>();
    volatile boolean gated;

    record Run(int code, String out, String err) {}

    @BeforeEach
    void start() throws IOException {
        files.put("config.json", "{\"model_type\":\"gpt2\"}\n".getBytes(StandardCharsets.UTF_8));
        files.put("tokenizer.json", "{}\n".getBytes(StandardCharsets.UTF_8));
        files.put("model.safetensors", new byte[4096]);
        files.put("pytorch_model.bin", new byte[100]);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static String hex(String algo, byte[] prefix, byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance(algo);
            md.update(prefix);
            return HexFormat.of().formatHex(md.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            String path = ex.getRequestURI().getPath();
            byte[] body;
            if (path.equals("/api/models/acme/tiny/revision/main")) {
                body = ("{\"sha\":\"" + COMMIT + "\"}").getBytes(StandardCharsets.UTF_8);
            } else if (path.equals("/api/models/acme/tiny/tree/" + COMMIT)) {
                var arr = Json.MAPPER.createArrayNode();
                files.forEach((p, c) -> {
                    var n = arr.addObject();
                    n.put("type", "file");
                    n.put("path", p);
                    n.put("size", c.length);
                    n.put("oid", hex("SHA-1", ("blob " + c.length + "\0").getBytes(StandardCharsets.US_ASCII), c));
                    if (p.endsWith(".safetensors") || p.endsWith(".bin")) {
                        n.putObject("lfs").put("oid", hex("SHA-256", new byte[0], c)).put("size", c.length);
                    }
                });
                body = Json.compact(arr).getBytes(StandardCharsets.UTF_8);
            } else if (path.startsWith("/acme/tiny/resolve/" + COMMIT + "/")) {
                if (gated && !("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                    ex.getResponseHeaders().add("X-Error-Code", "GatedRepo");
                    ex.sendResponseHeaders(401, -1);
                    return;
                }
                body = files.get(path.substring(("/acme/tiny/resolve/" + COMMIT + "/").length()));
            } else if (path.startsWith("/api/models/")) {
                ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            } else {
                body = null;
            }
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
            ex.getResponseBody().write(body);
        }
    }

    private Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Map<String, String> e = new HashMap<>(env);
        e.putIfAbsent("HF_HOME", tmp.resolve("hf-home").toString()); // never the real token file
        CommandLine cl = new CommandLine(new ModelDownloadCommand(e, tmp.resolve("home").toString()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void downloadsIntoOutAndPrintsTheDirectoryLast() throws IOException {
        Path out = tmp.resolve("models/tiny");
        Run r = run(Map.of("HF_TOKEN", TOKEN), "acme/tiny", "--out", out.toString(), "--endpoint", endpoint(),
                "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("acme/tiny at " + COMMIT + " (main): downloaded 3 files (0.0 MB); 3"
                + " files, 0.0 MB in all");
        assertThat(lines.get(1)).startsWith("not downloaded: 1 files, 0.0 MB (pytorch_model.bin)");
        assertThat(lines.get(lines.size() - 1)).isEqualTo(out.toAbsolutePath().toString());
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(out)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        assertThat(names).containsExactlyInAnyOrder("config.json", "tokenizer.json", "model.safetensors",
                "rlhf4j-download.json");
        assertThat(Files.readAllBytes(out.resolve("config.json"))).isEqualTo(files.get("config.json"));
        assertThat(auth).allMatch(a -> a.equals("Bearer " + TOKEN));
        assertThat(r.out() + r.err()).doesNotContain(TOKEN);

        Run again = run(Map.of("HF_ENDPOINT", endpoint()), "acme/tiny", "--out", out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out()).contains("(main): up to date; 3 files");
    }

    @Test
    void defaultDirectoryIsUnderTheCacheAndIncludeAddsFiles() {
        Run r = run(Map.of("HF_ENDPOINT", endpoint() + "/", "RLHF4J_CACHE", tmp.resolve("cache").toString()),
                "acme/tiny", "--include", "*.bin", "--exclude", "tokenizer.json", "--no-progress");
        assertThat(r.code()).as(r.err()).isZero();
        Path dir = tmp.resolve("cache/models/acme--tiny");
        assertThat(r.out().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo(dir.toString());
        assertThat(dir.resolve("pytorch_model.bin")).exists();
        assertThat(dir.resolve("tokenizer.json")).doesNotExist();
    }

    @Test
    void failuresAreOneErrorLineWithExitCode1() {
        gated = true;
        Path out = tmp.resolve("g");
        Run r = run(Map.of("HF_ENDPOINT", endpoint()), "acme/tiny", "--out", out.toString(), "--no-progress");
        assertThat(r.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("error: acme/tiny is a gated model. Accept its licence at " + endpoint()
                + "/acme/tiny while logged in").contains("HF_TOKEN").doesNotContain("\tat ");
        assertThat(out).doesNotExist();

        Run ok = run(Map.of("HF_ENDPOINT", endpoint()), "acme/tiny", "--out", out.toString(), "--token", TOKEN,
                "--no-progress");
        assertThat(ok.code()).as(ok.err()).isZero();

        Run missing = run(Map.of("HF_ENDPOINT", endpoint()), "acme/nope", "--out", tmp.resolve("n").toString());
        assertThat(missing.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(missing.err()).startsWith("error: repository 'acme/nope' not found on " + endpoint());

        Run offline = run(Map.of("HF_ENDPOINT", endpoint(), "HF_HUB_OFFLINE", "1"), "acme/tiny", "--out",
                tmp.resolve("off").toString());
        assertThat(offline.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(offline.err()).startsWith("error: offline mode is on (HF_HUB_OFFLINE)");
    }

    @Test
    void badArgumentsExitWith2() {
        assertThat(run(Map.of(), "acme/a--b").err()).startsWith("error: repo id cannot contain '--' or '..'");
        assertThat(run(Map.of(), "acme/a--b").code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run(Map.of(), "acme/tiny", "--endpoint", "ftp://x").code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run(Map.of(), "acme/tiny", "--include", "[z-a]").err()).startsWith("error: bad glob '[z-a]'");
        assertThat(run(Map.of("HF_HUB_DOWNLOAD_TIMEOUT", "soon"), "acme/tiny").err())
                .startsWith("error: HF_HUB_DOWNLOAD_TIMEOUT must be a positive number of seconds");
        assertThat(run(Map.of(), "acme/tiny", "--no-defaults").code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run(Map.of()).code()).isEqualTo(CommandLine.ExitCode.USAGE);
    }
}
