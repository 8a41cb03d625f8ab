package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.BundledTldr;
import picocli.CommandLine;

class DataReduceCommandTest {

    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    private static Run run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The bundled 100 TL;DR comparisons with line 3 repeated at the end and line 5 repeated with its label flipped. */
    private Path comparisons() throws Exception {
        Path p = dir.resolve("in.jsonl");
        try (InputStream in = BundledTldr.open(BundledTldr.COMPARISONS_FILE)) {
            Files.copy(in, p);
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(p, StandardCharsets.UTF_8));
        lines.add(lines.get(2)); // line 101: exact copy of line 3
        JsonNode five = Json.MAPPER.readTree(lines.get(4));
        int choice = five.get("choice").asInt();
        lines.add(lines.get(4).replace("\"choice\": " + choice, "\"choice\": " + (1 - choice))); // line 102
        assertThat(lines.get(101)).isNotEqualTo(lines.get(4));
        Files.write(p, lines, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void reduceWritesInputLinesUnchangedAndAReport() throws Exception {
        Path in = comparisons();
        Path out = dir.resolve("sub.jsonl");
        Run r = run(new DataCommand(), "reduce", "--file", in.toString(), "--fraction", "0.25", "--out",
                out.toString(), "--codebook-size", "8", "--seed", "1");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode line = Json.MAPPER.readTree(r.out());
        assertThat(line.get("input_rows").asInt()).isEqualTo(102);
        assertThat(line.get("target").asInt()).isEqualTo(26); // round(0.25 · 102) = round(25.5)
        assertThat(line.get("kept").asInt()).isEqualTo(26);
        assertThat(line.get("codes").asInt()).isEqualTo(8);

        JsonNode rep = Json.MAPPER.readTree(DataReduceCommand.reportFile(out).toFile());
        assertThat(rep.get("dropped").get("contradictory").get("lines").toString()).isEqualTo("[5,102]");
        assertThat(rep.get("dropped").get("exact_duplicate").get("rows").get(0).get("line").asLong()).isEqualTo(101);
        assertThat(rep.get("dropped").get("exact_duplicate").get("rows").get(0).get("of").asLong()).isEqualTo(3);
        int keptSum = 0;
        for (JsonNode c : rep.get("codebook").get("codes")) {
            assertThat(c.get("kept").asInt()).isBetween(1, c.get("distinct").asInt());
            keptSum += c.get("kept").asInt();
        }
        assertThat(keptSum).isEqualTo(26);
        // rows byte-identical to the input lines named in the report, in input order
        List<String> input = Files.readAllLines(in, StandardCharsets.UTF_8);
        List<String> expected = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (JsonNode l : rep.get("kept_lines")) {
            expected.add(input.get((int) l.asLong() - 1));
            seen.add(l.asLong());
        }
        assertThat(Files.readAllLines(out, StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(seen).doesNotContain(5L, 102L, 101L);
        // deterministic: same arguments, same bytes
        Path out2 = dir.resolve("sub2.jsonl");
        assertThat(run(new DataCommand(), "reduce", "--file", in.toString(), "--fraction", "0.25", "--out",
                out2.toString(), "--codebook-size", "8", "--seed", "1").code()).isZero();
        assertThat(Files.readAllBytes(out2)).isEqualTo(Files.readAllBytes(out));
    }

    @Test
    void modelEmbeddingAndJudgeFlagsOnATinyModel() throws Exception {
        Path model = dir.resolve("m");
        assertThat(run(new Rlhf4jCli(), "init", "--out", model.toString(), "--n-embd", "16", "--n-layer", "1",
                "--n-head", "2", "--n-positions", "64").code()).isZero();
        List<String> rows = new ArrayList<>();
        String[] topics = {"cats and dogs", "stock markets", "football games", "cooking pasta"};
        for (int i = 0; i < 20; i++) {
            rows.add(Json.compact(java.util.Map.of("prompt", "Tell me about " + topics[i % 4] + " " + i,
                    "chosen", " a good answer " + i, "rejected", " bad " + i)));
        }
        Path in = dir.resolve("pairs.jsonl");
        Files.write(in, rows, StandardCharsets.UTF_8);
        Path out = dir.resolve("pairs-sub.jsonl");
        Run r = run(new DataCommand(), "reduce", "--file", in.toString(), "--fraction", "0.5", "--out",
                out.toString(), "--model", model.toString(), "--judge-model", model.toString(), "--judge-threshold",
                "0", "--codebook-size", "4", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rep = Json.MAPPER.readTree(DataReduceCommand.reportFile(out).toFile());
        assertThat(rep.get("embedding").asText()).startsWith("model-mean-hidden(");
        assertThat(rep.get("kept").asInt()).isEqualTo(10);
        JsonNode judge = rep.get("judge");
        assertThat(judge.get("scored").asInt()).isEqualTo(10);
        // threshold 0: every kept row the judge scores against the label is flagged
        double agreement = judge.get("agreement").asDouble();
        assertThat(judge.get("flagged_count").asInt()).isEqualTo((int) Math.round(10 * (1 - agreement)));
        for (JsonNode f : judge.get("flagged")) {
            assertThat(f.get("margin").asDouble()).isNegative();
        }
        // labels never change: the subset's rows are the input's
        List<String> input = Files.readAllLines(in, StandardCharsets.UTF_8);
        assertThat(input).containsAll(Files.readAllLines(out, StandardCharsets.UTF_8));
    }

    @Test
    void badArgumentsAndFilesAreOneLineErrors() throws Exception {
        Path in = dir.resolve("sft.jsonl");
        Files.writeString(in, "{\"prompt\": \"Q\", \"completion\": \" y\"}\n");
        Run bad = run(new DataCommand(), "reduce", "--file", in.toString(), "--out", dir.resolve("o").toString(),
                "--fraction", "0");
        assertThat(bad.code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(bad.err()).contains("fraction must be in (0, 1], got 0.0");
        Run sft = run(new DataCommand(), "reduce", "--file", in.toString(), "--out", dir.resolve("o").toString());
        assertThat(sft.code()).isEqualTo(CommandLine.ExitCode.SOFTWARE);
        assertThat(sft.err()).contains("sft.jsonl").contains("line 1").contains("expected a comparison");
        Run missing = run(new DataCommand(), "reduce", "--file", dir.resolve("nope").toString(), "--out", "o");
        assertThat(missing.code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(missing.err()).contains("no such file");
    }

    @Test
    void benchPrintsATableAndWritesEveryRun() throws Exception {
        Path json = dir.resolve("runs.json");
        Run r = run(new DataCommand(), "reduce-bench", "--planted", "--fractions", "0.25", "--seeds", "1", "--steps",
                "2", "--out", json.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("| fraction | rows | codebook accuracy | random accuracy |")
                .containsPattern("\\| 0\\.25 \\| 216 \\| [01]\\.\\d{3} \\(")
                .containsPattern("\\| all rows \\| 864 \\| [01]\\.\\d{3} \\(");
        JsonNode runs = Json.MAPPER.readTree(json.toFile());
        assertThat(runs.size()).isEqualTo(3);
        assertThat(runs.get(0).get("selection").asText()).isEqualTo("codebook");
        assertThat(runs.get(1).get("rows").asInt()).isEqualTo(216);
        Run bad = run(new DataCommand(), "reduce-bench", "--file", "x.jsonl");
        assertThat(bad.code()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(bad.err()).contains("--file needs --eval-file and --model");
    }
}
