package org.rlhf4j.datasets.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;

class DatasetStatsTest {

    static Tokenizer tok;

    @TempDir Path dir;

    @BeforeAll
    static void setUp() {
        tok = Gpt2Tokenizers.bundled();
    }

    @AfterAll
    static void tearDown() {
        tok.close();
    }

    private Path copy(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = BundledTldr.open(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void statsOfTheBundledComparisons() throws IOException {
        Path p = copy(BundledTldr.COMPARISONS_FILE);
        DatasetStats s = DatasetStats.compute(p, DataFormat.AUTO, false, new TldrTask(tok, TaskConfig.DEFAULT));
        JsonNode j = s.toJson();
        assertThat(j.get("format").asText()).isEqualTo("openai-comparisons");
        assertThat(j.get("rows").asLong()).isEqualTo(100);
        assertThat(j.get("rows_per_split").get("valid1").asLong()).isEqualTo(18);
        assertThat(j.get("rows_per_split").get("valid2").asLong()).isEqualTo(82);
        assertThat(j.get("skipped").get("total").asLong()).isZero();
        assertThat(j.get("query_tokens").get("count").asInt()).isEqualTo(100);
        assertThat(j.get("response_tokens").get("count").asInt()).isEqualTo(200);
        int p50 = j.get("query_tokens").get("p50").asInt();
        int p90 = j.get("query_tokens").get("p90").asInt();
        int max = j.get("query_tokens").get("max").asInt();
        assertThat(p50).isPositive().isLessThanOrEqualTo(p90);
        assertThat(p90).isLessThanOrEqualTo(j.get("query_tokens").get("p99").asInt());
        assertThat(max).isLessThanOrEqualTo(512);
    }

    @Test
    void tightLimitsAreCountedInLenientModeAndFatalInStrictMode() throws IOException {
        Path p = copy("carper-sft-train.jsonl");
        TldrTask tight = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128)
                .setMaxSftResponseTokens(30).build());
        DatasetStats s = DatasetStats.compute(p, DataFormat.AUTO, true, tight);
        long tooLong = s.report().skipped().getOrDefault("response_too_long", 0L);
        assertThat(tooLong).isPositive();
        assertThat(s.report().rows()).isPositive();
        assertThat(s.report().rows() + s.report().skippedTotal()).isEqualTo(50);
        assertThat(s.responseTokens().max()).isLessThanOrEqualTo(30);
        assertThat(s.queryTokens().max()).isLessThanOrEqualTo(128);
        assertThat(s.truncatedQueries()).as(s.toJson().toString()).isPositive();
        assertThatThrownBy(() -> DatasetStats.compute(p, DataFormat.AUTO, false, tight))
                .isInstanceOf(DataFormatException.class)
                .hasMessageMatching("carper-sft-train\\.jsonl:\\d+: field 'completion': response has \\d+ tokens"
                        + " \\(EOS included\\), limit 30");
    }

    @Test
    void nearestRankPercentiles() {
        int[] v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
        Percentiles p = Percentiles.of(v, v.length);
        assertThat(p).isEqualTo(new Percentiles(10, 5, 9, 10, 10));
        assertThat(Percentiles.of(v, 0)).isEqualTo(new Percentiles(0, 0, 0, 0, 0));
        assertThat(v[0]).isEqualTo(5);
    }
}
