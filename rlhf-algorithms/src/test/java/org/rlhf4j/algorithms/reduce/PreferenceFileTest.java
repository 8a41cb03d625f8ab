package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.ModelFormatException;

class PreferenceFileTest {

    static final String TLDR = "{\"info\": {\"id\": \"t1\", \"post\": \"My post.\", \"title\": \"Help\", \"subreddit\":"
            + " \"advice\"}, \"split\": \"train\", \"summaries\": [{\"text\": \" first\", \"policy\": \"ref\"},"
            + " {\"text\": \" second\", \"policy\": \"sup\"}], \"choice\": 1, \"worker\": \"w\", \"batch\": \"b\"}";

    @TempDir Path dir;

    @Test
    void readsOpenAiComparisonsAndTrlPairsWithTheirLines() throws Exception {
        Path f = dir.resolve("c.jsonl");
        Files.writeString(f, TLDR + "\n\n" + TLDR + "\n");
        List<ReductionRow> rows = PreferenceFile.read(f);
        assertThat(rows).extracting(ReductionRow::line).containsExactly(1L, 3L);
        assertThat(rows.get(0).chosen()).isEqualTo(" second");
        assertThat(rows.get(0).rejected()).isEqualTo(" first");
        assertThat(rows.get(0).prompt()).startsWith("SUBREDDIT: r/advice").endsWith("TL;DR:");
        Path p = dir.resolve("p.jsonl");
        Files.writeString(p, "{\"prompt\": \"Q\", \"chosen\": \" y\", \"rejected\": \" n\"}\n");
        assertThat(PreferenceFile.read(p).get(0)).extracting(ReductionRow::prompt, ReductionRow::chosen)
                .containsExactly("Q", " y");
    }

    @Test
    void rejectsRowsThatAreNotComparisonsNamingFileAndLine() throws Exception {
        Path f = dir.resolve("sft.jsonl");
        Files.writeString(f, "{\"prompt\": \"Q\", \"completion\": \" y\"}\n");
        assertThatThrownBy(() -> PreferenceFile.read(f)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("sft.jsonl").hasMessageContaining("line 1")
                .hasMessageContaining("expected a comparison");
    }

    @Test
    void copiesLinesByteForByteKeepingCrlfAndEndingTheLastLine() throws Exception {
        Path in = dir.resolve("in.jsonl");
        byte[] bytes = "{\"a\": \"é\"}\r\n{\"b\": 2}\n{\"c\": 3}\n{\"d\":  4}".getBytes(StandardCharsets.UTF_8);
        Files.write(in, bytes);
        Path out = dir.resolve("sub/out.jsonl");
        assertThat(PreferenceFile.copyLines(in, Set.of(1L, 4L), out)).isEqualTo(2);
        assertThat(Files.readString(out)).isEqualTo("{\"a\": \"é\"}\r\n{\"d\":  4}\n");
        assertThatThrownBy(() -> PreferenceFile.copyLines(in, Set.of(9L), dir.resolve("x.jsonl")))
                .hasMessageContaining("has 4 lines");
        assertThat(dir.resolve("x.jsonl")).doesNotExist();
    }

    @Test
    void gzipInAndOut() throws Exception {
        Path in = dir.resolve("in.jsonl.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(in))) {
            o.write("l1\nl2\nl3\n".getBytes(StandardCharsets.UTF_8));
        }
        Path out = dir.resolve("out.jsonl.gz");
        PreferenceFile.copyLines(in, Set.of(2L), out);
        try (GZIPInputStream g = new GZIPInputStream(Files.newInputStream(out))) {
            assertThat(new String(g.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("l2\n");
        }
    }
}
