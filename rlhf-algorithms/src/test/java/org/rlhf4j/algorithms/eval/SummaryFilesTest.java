package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Summary files: what eval writes reads back, and every malformed line is an error naming file and line. */
class SummaryFilesTest {

    @TempDir Path dir;

    @Test
    void writtenSummariesReadBackInOrder() throws IOException {
        Path f = dir.resolve("a/b/summaries.jsonl");
        SummaryFiles.write(f, List.of(new PolicyEvaluation.Summary("t3_2", " second\n\"quoted\"", 4, true, 0.25),
                new PolicyEvaluation.Summary("t3_1", "first", 1, false, 1.0)));
        assertThat(Files.readAllLines(f)).containsExactly("{\"id\":\"t3_2\",\"summary\":\" second\\n\\\"quoted\\\"\"}",
                "{\"id\":\"t3_1\",\"summary\":\"first\"}");
        Map<String, String> read = SummaryFiles.read(f);
        assertThat(read).containsExactly(Map.entry("t3_2", " second\n\"quoted\""), Map.entry("t3_1", "first"));
    }

    @Test
    void blankLinesAreIgnoredAndNumericIdsReadAsText() throws IOException {
        Path f = Files.writeString(dir.resolve("s.jsonl"), "\n{\"id\": 7, \"summary\": \"x\"}\n  \n");
        assertThat(SummaryFiles.read(f)).containsExactly(Map.entry("7", "x"));
    }

    @Test
    void malformedLinesNameFileAndLine() throws IOException {
        Path notJson = Files.writeString(dir.resolve("n.jsonl"), "{\"id\":\"a\",\"summary\":\"x\"}\n{oops\n");
        assertThatThrownBy(() -> SummaryFiles.read(notJson)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(notJson + ":2: not JSON: ");
        Path noSummary = Files.writeString(dir.resolve("m.jsonl"), "{\"id\":\"a\",\"summary\":3}\n");
        assertThatThrownBy(() -> SummaryFiles.read(noSummary))
                .hasMessage(noSummary + ":1: expected {\"id\": ..., \"summary\": \"...\"}");
        Path nullId = Files.writeString(dir.resolve("i.jsonl"), "{\"id\":null,\"summary\":\"x\"}\n");
        assertThatThrownBy(() -> SummaryFiles.read(nullId)).hasMessageContaining(":1: expected {\"id\"");
        Path dup = Files.writeString(dir.resolve("d.jsonl"),
                "{\"id\":\"a\",\"summary\":\"x\"}\n{\"id\":\"a\",\"summary\":\"y\"}\n");
        assertThatThrownBy(() -> SummaryFiles.read(dup)).hasMessage(dup + ":2: duplicate id 'a'");
        assertThatThrownBy(() -> SummaryFiles.read(dir.resolve("missing.jsonl"))).isInstanceOf(IOException.class)
                .hasMessageContaining("missing.jsonl");
    }
}
