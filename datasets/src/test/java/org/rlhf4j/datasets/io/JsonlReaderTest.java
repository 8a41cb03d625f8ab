package org.rlhf4j.datasets.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.TldrPost;

class JsonlReaderTest {

    static final String GOOD_TLDR =
            "{\"id\":\"t3_a\",\"subreddit\":\"pics\",\"title\":\"T\",\"post\":\"P\",\"summary\":\"S\"}";
    static final String GOOD_CMP = "{\"info\":{\"id\":\"t3_b\",\"post\":\"P\",\"title\":\"T\",\"subreddit\":\"x\"},"
            + "\"summaries\":[{\"text\":\" a\",\"policy\":\"ref\",\"note\":null},{\"text\":\" b\",\"policy\":\"p\"}],"
            + "\"choice\":1,\"worker\":\"w\",\"batch\":\"batch9\",\"split\":\"train\",\"extra\":{\"confidence\":7}}";

    @TempDir Path dir;

    private Path write(String name, String... lines) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return p;
    }

    private static ReadReport read(Path file, DataFormat format, boolean lenient, List<DataRow> sink)
            throws IOException {
        return JsonlReader.builder().setFormat(format).setLenient(lenient).build()
                .read(file, (row, ctx) -> sink.add(row));
    }

    private DataFormatException strictError(String name, DataFormat format, String... lines) throws IOException {
        Path p = write(name, lines);
        try {
            read(p, format, false, new ArrayList<>());
        } catch (DataFormatException e) {
            return e;
        }
        throw new AssertionError("expected a DataFormatException for " + name);
    }

    @Test
    void parsesOpenAiTldrRowsWithSplitFromFileName() throws IOException {
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = read(write("valid.jsonl", GOOD_TLDR, GOOD_TLDR.replace("t3_a", "t3_c")), DataFormat.AUTO,
                false, rows);
        assertThat(r.format()).isEqualTo(DataFormat.OPENAI_TLDR);
        assertThat(r.rows()).isEqualTo(2);
        assertThat(r.rowsPerSplit()).isEqualTo(Map.of("valid", 2L));
        assertThat(rows.get(0)).isEqualTo(new TldrPost("t3_a", "valid", "pics", "T", "P", "S"));
        assertThat(((TldrPost) rows.get(0)).toSft().completion()).isEqualTo(" S");
    }

    @Test
    void parsesComparisonAndCnnDmRowsApart() throws IOException {
        String cnndm = "{\"info\":{\"id\":\"dm1\",\"article\":\"News text.\",\"site\":\"dailymail\"},"
                + "\"summaries\":[{\"text\":\" x\",\"policy\":\"ref\"},{\"text\":\" y\",\"policy\":\"p\"}],"
                + "\"choice\":0,\"worker\":\"w\",\"batch\":\"cnndm0\",\"split\":\"valid2\"}";
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = read(write("batch9.json", GOOD_CMP, cnndm), DataFormat.AUTO, false, rows);
        assertThat(r.format()).isEqualTo(DataFormat.OPENAI_COMPARISONS);
        assertThat(r.rowsPerSplit()).isEqualTo(Map.of("train", 1L, "cnndm-valid2", 1L));
        Comparison c = (Comparison) rows.get(0);
        assertThat(c.kind()).isEqualTo(Comparison.Kind.TLDR);
        assertThat(c.chosen().text()).isEqualTo(" b");
        assertThat(c.rejected().text()).isEqualTo(" a");
        assertThat(c.confidence()).isEqualTo(7);
        Comparison d = (Comparison) rows.get(1);
        assertThat(d.kind()).isEqualTo(Comparison.Kind.CNNDM);
        assertThat(d.prompt()).isEqualTo(new Prompt.Article("News text."));
        assertThat(d.confidence()).isNull();
        assertThat(d.chosen().text()).isEqualTo(" x");
    }

    @Test
    void detectsGenericFormats() throws IOException {
        List<DataRow> rows = new ArrayList<>();
        read(write("p.jsonl", "{\"prompt\":\"Q:\",\"chosen\":\" a\",\"rejected\":\" b\"}"), DataFormat.AUTO, false,
                rows);
        read(write("s.jsonl", "{\"prompt\":\"Q:\",\"completion\":\" a\"}"), DataFormat.AUTO, false, rows);
        read(write("c.jsonl", "{\"prompt\":\"SUBREDDIT: r/x\\nTITLE: t\\nPOST: p\\nTL;DR: \",\"label\":\"s\"}"),
                DataFormat.AUTO, false, rows);
        read(write("q.jsonl", "{\"prompt\":\"Q:\",\"id\":7}"), DataFormat.AUTO, false, rows);
        assertThat(rows.get(0)).isEqualTo(new PreferencePair("p.jsonl:1", "all", new Prompt.Raw("Q:"), " a", " b"));
        assertThat(rows.get(1)).isEqualTo(new SftExample("s.jsonl:1", "all", new Prompt.Raw("Q:"), " a"));
        assertThat(rows.get(2)).isEqualTo(new SftExample("c.jsonl:1", "all", new Prompt.Reddit("x", "t", "p"), " s"));
        assertThat(rows.get(3)).isEqualTo(new PromptRow("7", "all", new Prompt.Raw("Q:"), null));
    }

    @Test
    void rawPairPromptGetsTheTldrLineItsResponsesLost() throws IOException {
        List<DataRow> rows = new ArrayList<>();
        read(write("p.jsonl", "{\"prompt\":\"Some text\",\"chosen\":\"TL;DR: a\",\"rejected\":\"TL;DR:  b\"}"),
                DataFormat.PAIRS, false, rows);
        assertThat(rows.get(0)).isEqualTo(
                new PreferencePair("p.jsonl:1", "all", new Prompt.Raw("Some text\nTL;DR:"), " a", " b"));
    }

    @Test
    void splitNamesComeFromFileNames() {
        assertThat(JsonlReader.splitFromFileName("carper-comparisons-valid1.jsonl")).isEqualTo("valid1");
        assertThat(JsonlReader.splitFromFileName("train.jsonl.gz")).isEqualTo("train");
        assertThat(JsonlReader.splitFromFileName("/a/b/my_test.json")).isEqualTo("test");
        assertThat(JsonlReader.splitFromFileName("batch18.json")).isEqualTo("all");
    }

    @Test
    void malformedJsonNamesFileAndLine() throws IOException {
        DataFormatException e = strictError("train.jsonl", DataFormat.AUTO, GOOD_TLDR, "{\"id\": ");
        assertThat(e.getMessage()).startsWith("train.jsonl:2: malformed JSON at column");
        assertThat(e.line()).isEqualTo(2);
        assertThat(e.field()).isNull();
        assertThat(e.reason()).isEqualTo(SkipReason.MALFORMED_JSON);
        assertThat(strictError("t2.jsonl", DataFormat.AUTO, GOOD_TLDR + " trailing").reason())
                .isEqualTo(SkipReason.MALFORMED_JSON);
        assertThat(strictError("t3.jsonl", DataFormat.AUTO, "[1, 2]").getMessage())
                .isEqualTo("t3.jsonl:1: expected one JSON object per line, got an array (a JSON file, not JSON"
                        + " Lines?)");
    }

    @Test
    void jsonOverTheParserLimitsIsABadRowNamingFileAndLine() throws IOException {
        String deep = "{\"id\":\"t3_d\",\"post\":" + "[".repeat(1500) + "]".repeat(1500) + "}";
        String huge = "{\"id\":\"t3_h\",\"subreddit\":\"pics\",\"title\":\"T\",\"post\":\"" + "x".repeat(20_000_100)
                + "\",\"summary\":\"S\"}";
        DataFormatException d = strictError("deep.jsonl", DataFormat.AUTO, GOOD_TLDR, deep);
        assertThat(d.getMessage()).startsWith("deep.jsonl:2: JSON over the parser's limits: ")
                .contains("nesting depth").doesNotContain("\n");
        assertThat(d.reason()).isEqualTo(SkipReason.JSON_LIMIT);
        assertThat(d.line()).isEqualTo(2);
        DataFormatException h = strictError("huge.jsonl", DataFormat.AUTO, huge);
        assertThat(h.getMessage()).startsWith("huge.jsonl:1: JSON over the parser's limits: ")
                .contains("String value length").doesNotContain("\n");
        assertThat(h.reason()).isEqualTo(SkipReason.JSON_LIMIT);

        // lenient: skipped and counted, the good rows kept
        Path p = write("mixed.jsonl", GOOD_TLDR, deep, huge, GOOD_TLDR.replace("t3_a", "t3_b"));
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = read(p, DataFormat.AUTO, true, rows);
        assertThat(r.rows()).isEqualTo(2);
        assertThat(rows).extracting(DataRow::id).containsExactly("t3_a", "t3_b");
        assertThat(r.skipped()).isEqualTo(Map.of("json_limit", 2L));
        assertThat(r.skipExamples()).hasSize(2).allSatisfy(m -> assertThat(m).contains("JSON over the parser's limits"));
        assertThat(r.skipExamples().get(0)).startsWith("mixed.jsonl:2: ");
        assertThat(r.skipExamples().get(1)).startsWith("mixed.jsonl:3: ");
    }

    @Test
    void emptySummaryIsAnError() throws IOException {
        DataFormatException e = strictError("train.jsonl", DataFormat.OPENAI_TLDR, GOOD_TLDR, GOOD_TLDR,
                GOOD_TLDR.replace("\"summary\":\"S\"", "\"summary\":\"  \""));
        assertThat(e.getMessage()).isEqualTo("train.jsonl:3: field 'summary': empty");
        assertThat(e.file()).isEqualTo("train.jsonl");
        assertThat(e.field()).isEqualTo("summary");
        assertThat(e.reason()).isEqualTo(SkipReason.EMPTY_FIELD);
    }

    @Test
    void missingAndMistypedFieldsAreErrors() throws IOException {
        assertThat(strictError("a.jsonl", DataFormat.OPENAI_TLDR, GOOD_TLDR.replace("\"title\":\"T\",", ""))
                .getMessage()).isEqualTo("a.jsonl:1: field 'title': missing");
        assertThat(strictError("b.jsonl", DataFormat.OPENAI_TLDR, GOOD_TLDR.replace("\"post\":\"P\"", "\"post\":3"))
                .getMessage()).isEqualTo("b.jsonl:1: field 'post': expected a string, got a number (3)");
        assertThat(strictError("c.json", DataFormat.AUTO, GOOD_CMP.replace("\"post\":\"P\",", "")).getMessage())
                .isEqualTo("c.json:1: field 'info.post': missing");
        assertThat(strictError("d.json", DataFormat.AUTO, GOOD_CMP.replace("\"text\":\" b\"", "\"text\":[]"))
                .getMessage()).isEqualTo("d.json:1: field 'summaries[1].text': expected a string, got an array");
        assertThat(strictError("e.json", DataFormat.AUTO, GOOD_CMP.replace("\"choice\":1", "\"choice\":\"1\""))
                .getMessage()).isEqualTo("e.json:1: field 'choice': expected an integer, got a string (\"1\")");
        assertThat(strictError("f.json", DataFormat.AUTO, GOOD_CMP.replace("\"split\":\"train\"", "\"split\":null"))
                .reason()).isEqualTo(SkipReason.MISSING_FIELD);
        assertThat(strictError("g.jsonl", DataFormat.PAIRS, "{\"prompt\":\"q\",\"chosen\":\"TL;DR: \","
                + "\"rejected\":\"TL;DR: b\"}").getMessage())
                .isEqualTo("g.jsonl:1: field 'chosen': empty after the 'TL;DR:' prefix");
    }

    @Test
    void choiceOutsideZeroOneIsAnError() throws IOException {
        DataFormatException e = strictError("batch3.json", DataFormat.AUTO, GOOD_CMP,
                GOOD_CMP.replace("\"choice\":1", "\"choice\":2"));
        assertThat(e.getMessage()).isEqualTo("batch3.json:2: field 'choice': must be 0 or 1, got 2");
        assertThat(e.reason()).isEqualTo(SkipReason.BAD_CHOICE);
        assertThat(strictError("b.json", DataFormat.AUTO, GOOD_CMP.replace("\"choice\":1", "\"choice\":-1"))
                .reason()).isEqualTo(SkipReason.BAD_CHOICE);
    }

    @Test
    void invalidUtf8IsAnErrorWithItsLine() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes((GOOD_TLDR + "\n").getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"id\":\"t3_z\",\"subreddit\":\"x\",\"title\":\"T\",\"post\":\"caf".getBytes(
                StandardCharsets.UTF_8));
        bytes.write(0xC3); // a lead byte without its continuation byte
        bytes.writeBytes("\",\"summary\":\"S\"}\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes((GOOD_TLDR + "\n").getBytes(StandardCharsets.UTF_8));
        Path p = dir.resolve("test.jsonl");
        Files.write(p, bytes.toByteArray());
        assertThatThrownBy(() -> read(p, DataFormat.AUTO, false, new ArrayList<>()))
                .isInstanceOf(DataFormatException.class)
                .hasMessage("test.jsonl:2: invalid UTF-8 at byte 52 of the line");
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = read(p, DataFormat.AUTO, true, rows);
        assertThat(r.rows()).isEqualTo(2);
        assertThat(r.skipped()).isEqualTo(Map.of("invalid_utf8", 1L));
        assertThat(r.lines()).isEqualTo(3);
    }

    @Test
    void lenientModeSkipsAndCountsEveryReason() throws IOException {
        Path p = write("mixed.json",
                GOOD_CMP,
                "not json",
                GOOD_CMP.replace("\"choice\":1", "\"choice\":5"),
                GOOD_CMP.replace("\"text\":\" a\"", "\"text\":\"\""),
                "",
                GOOD_CMP.replace("\"worker\":\"w\"", "\"worker\":1"),
                GOOD_CMP.replace("\"summaries\"", "\"sums\""),
                GOOD_CMP.replace("\"choice\":1", "\"choice\":0"));
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = read(p, DataFormat.AUTO, true, rows);
        assertThat(r.rows()).isEqualTo(2);
        assertThat(rows).hasSize(2);
        assertThat(r.blankLines()).isEqualTo(1);
        assertThat(r.skipped()).containsExactly(
                Map.entry("malformed_json", 1L), Map.entry("missing_field", 1L), Map.entry("wrong_type", 1L),
                Map.entry("empty_field", 1L), Map.entry("bad_choice", 1L));
        assertThat(r.skippedTotal()).isEqualTo(5);
        assertThat(r.lines()).isEqualTo(8);
        assertThat(r.skipExamples()).contains("mixed.json:3: field 'choice': must be 0 or 1, got 5",
                "mixed.json:4: field 'summaries[0].text': empty", "mixed.json:7: field 'summaries': missing");
    }

    @Test
    void sinkRejectionIsCountedInLenientModeAndThrownInStrictMode() throws IOException {
        Path p = write("train.jsonl", GOOD_TLDR, GOOD_TLDR);
        RowSink rejectSecond = (row, ctx) -> {
            if (ctx.line() == 2) {
                ctx.reject(SkipReason.RESPONSE_TOO_LONG, "summary", "too long");
            }
        };
        ReadReport r = JsonlReader.builder().setLenient(true).build().read(p, rejectSecond);
        assertThat(r.rows()).isEqualTo(1);
        assertThat(r.skipped()).isEqualTo(Map.of("response_too_long", 1L));
        assertThatThrownBy(() -> JsonlReader.builder().build().read(p, rejectSecond))
                .hasMessage("train.jsonl:2: field 'summary': too long");
    }

    @Test
    void undetectableFormatFailsEvenWhenLenient() throws IOException {
        Path p = write("odd.jsonl", "{\"question\":\"q\",\"answer\":\"a\"}");
        assertThatThrownBy(() -> read(p, DataFormat.AUTO, true, new ArrayList<>()))
                .isInstanceOf(DataFormatException.class)
                .hasMessageStartingWith("odd.jsonl:1: cannot detect the format from the fields [question, answer]");
    }

    @Test
    void crlfBomAndGzipAreHandled() throws IOException {
        Path p = dir.resolve("train.jsonl.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(p))) {
            out.write(("\uFEFF" + GOOD_TLDR + "\r\n" + GOOD_TLDR + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = read(p, DataFormat.AUTO, false, rows);
        assertThat(r.rows()).isEqualTo(2);
        assertThat(((TldrPost) rows.get(1)).summary()).isEqualTo("S");
        assertThat(r.rowsPerSplit()).isEqualTo(Map.of("train", 2L));
    }

    @Test
    void formatNamesParse() {
        assertThat(DataFormat.parse("openai-comparisons")).isEqualTo(DataFormat.OPENAI_COMPARISONS);
        assertThat(DataFormat.parse("SFT")).isEqualTo(DataFormat.SFT);
        assertThatThrownBy(() -> DataFormat.parse("csv"))
                .hasMessage("unknown data format 'csv'; expected one of [auto, openai-tldr, openai-comparisons,"
                        + " pairs, sft, prompts, messages]");
    }
}
