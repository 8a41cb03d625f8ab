package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.BundledTldr;
import picocli.CommandLine;

class DataCommandTest {

    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new DataCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path bundled(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = BundledTldr.open(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void statsPrintsOneJsonObject() throws IOException {
        Path f = bundled(BundledTldr.COMPARISONS_FILE);
        Run r = run("stats", "--file", f.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(r.out());
        assertThat(j.isObject()).isTrue();
        assertThat(j.get("rows").asInt()).isEqualTo(100);
        assertThat(j.get("format").asText()).isEqualTo("openai-comparisons");
        assertThat(j.get("rows_per_split").toString()).isEqualTo("{\"valid2\":82,\"valid1\":18}");
        assertThat(j.get("skipped").get("total").asInt()).isZero();
        assertThat(j.get("query_tokens").get("p50").asInt()).isPositive();
        assertThat(j.get("response_tokens").get("count").asInt()).isEqualTo(200);
    }

    @Test
    void strictModeFailsWithALocatedMessageAndNoStackTrace() throws IOException {
        Path f = bundled("carper-comparisons-valid2.jsonl");
        Run r = run("stats", "--file", f.toString(), "--format", "pairs");
        assertThat(r.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("error: carper-comparisons-valid2.jsonl:44: field 'rejected': empty after the"
                + " 'TL;DR:' prefix (strict mode");
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void lenientModeCountsSkippedRowsByReason() throws IOException {
        Path f = bundled("carper-comparisons-valid2.jsonl");
        Run r = run("stats", "--file", f.toString(), "--lenient", "--max-query-tokens", "192");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(r.out());
        assertThat(j.get("rows").asInt()).isEqualTo(47);
        assertThat(j.get("skipped").get("by_reason").toString()).isEqualTo("{\"empty_field\":3}");
        assertThat(j.get("query_tokens").get("max").asInt()).isLessThanOrEqualTo(192);
        assertThat(j.get("max_query_tokens").asInt()).isEqualTo(192);
    }

    @Test
    void anEmptyOrUndetectableFileIsAOneLineError() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.jsonl"));
        for (String[] args : new String[][] {{}, {"--lenient"}, {"--format", "sft"}}) {
            Run r = run(concat(new String[] {"stats", "--file", empty.toString()}, args));
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(CommandLine.ExitCode.SOFTWARE);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).isEqualTo("error: empty.jsonl: no rows: the file is empty\n");
        }
        Path blank = Files.writeString(dir.resolve("blank.jsonl"), "\n  \n\n");
        assertThat(run("stats", "--file", blank.toString()).err())
                .isEqualTo("error: blank.jsonl: no rows: the file is empty (3 blank lines)\n");
        Path junk = Files.writeString(dir.resolve("junk.jsonl"), "not json\n[1]\n");
        Run r = run("stats", "--file", junk.toString(), "--lenient");
        assertThat(r.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("error: junk.jsonl: cannot detect the format: none of its 2 non-blank lines")
                .contains("malformed_json=2").contains("junk.jsonl:1: malformed JSON").endsWith(")\n")
                .hasLineCount(1);
    }

    @Test
    void linesOverTheJsonLimitsAreSkippedAndCountedWhenLenient() throws IOException {
        Path f = dir.resolve("deep.jsonl");
        String good = Files.readAllLines(bundled("carper-sft-test.jsonl")).get(0);
        String deep = "{\"prompt\":" + "[".repeat(1200) + "]".repeat(1200) + "}";
        Files.write(f, java.util.List.of(good, deep, good));
        Run strict = run("stats", "--file", f.toString());
        assertThat(strict.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(strict.err()).startsWith("error: deep.jsonl:2: JSON over the parser's limits: ").hasLineCount(1)
                .doesNotContain("NullPointerException");
        Run lenient = run("stats", "--file", f.toString(), "--lenient");
        assertThat(lenient.code()).as(lenient.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(lenient.out());
        assertThat(j.get("rows").asInt()).isEqualTo(2);
        assertThat(j.get("skipped").get("by_reason").toString()).isEqualTo("{\"json_limit\":1}");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badArgumentsAreUsageErrors() throws IOException {
        assertThat(run("stats", "--file", dir.resolve("nope.jsonl").toString()).err())
                .contains("error: no such file: ");
        Path f = bundled("carper-sft-test.jsonl");
        Run bad = run("stats", "--file", f.toString(), "--format", "csv");
        assertThat(bad.code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(bad.err()).startsWith("error: unknown data format 'csv'");
        assertThat(run("download", "tldr", "--what", "some").code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run("download", "imagenet").code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run("--help").code()).isZero();
    }

    @Test
    void downloadFetchesIntoTheCacheThenWorksOffline() throws IOException {
        byte[] body = "{\"id\":\"t3_1\",\"subreddit\":\"s\",\"title\":\"t\",\"post\":\"p\",\"summary\":\"x\"}\n"
                .getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/m/", ex -> {
            try (ex) {
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            }
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/m/";
        Path cache = dir.resolve("cache");
        try {
            Run r = run("download", "tldr", "--what", "sft", "--cache", cache.toString(), "--base-url", base);
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("tldr: 3 files ready in " + cache.resolve("summarize-from-feedback"));
            assertThat(r.err()).contains("train.jsonl").contains("100%");
            assertThat(cache.resolve("summarize-from-feedback/datasets/tldr_3_filtered/test.jsonl")).hasBinaryContent(
                    body);
        } finally {
            server.stop(0);
        }
        Run again = run("download", "tldr", "--what", "sft", "--cache", cache.toString(), "--base-url", base);
        assertThat(again.code()).as(again.err()).isZero();
    }

    @Test
    void downloadWithoutNetworkSaysWhatToFetchAndWhere() throws IOException {
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        Path cache = dir.resolve("c");
        Run r = run("download", "tldr", "--cache", cache.toString(), "--base-url", "http://127.0.0.1:" + dead + "/",
                "--no-progress");
        assertThat(r.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(r.err()).contains("http://127.0.0.1:" + dead + "/dataset/comparisons/batch22.json\n    -> "
                + cache.resolve("summarize-from-feedback/dataset/comparisons/batch22.json"));
        assertThat(r.err()).contains("Fetch these 26 files").doesNotContain("\tat ");
    }
}
