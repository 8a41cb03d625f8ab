package org.rlhf4j.datasets.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.download.TldrDownloader;
import org.rlhf4j.datasets.download.TldrFile;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/** The data sources of the command line: parsing, rows, encoding with skip counts, data ids, missing downloads. */
class DataSourceTest {

    @TempDir Path dir;

    static Tokenizer tok;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    private Path bundledFile(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = BundledTldr.open(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void parsesTheCommandLineNames() {
        assertThat(DataSource.parse("bundled")).isEqualTo(new DataSource.Bundled());
        assertThat(DataSource.parse("full")).isInstanceOf(DataSource.Full.class);
        assertThat(DataSource.parse("data/x.jsonl")).isEqualTo(new DataSource.File(Path.of("data/x.jsonl")));
        for (String name : new String[] {"bundled", "full", "data/x.jsonl"}) {
            assertThat(DataSource.parse(name).name()).isEqualTo(name);
        }
        assertThat(DataSource.parse("bundled").label("train")).isEqualTo("bundled:train");
        assertThat(DataSource.parse("full").label("valid1")).isEqualTo("full:valid1");
        assertThat(DataSource.parse("x.jsonl").label("train")).isEqualTo("x.jsonl");
        assertThat(DataSource.parse("full").builtIn()).isInstanceOf(DataSource.Full.class);
        assertThat(DataSource.parse("x.jsonl").builtIn()).isEqualTo(new DataSource.Bundled());
        assertThatThrownBy(() -> DataSource.parse(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("data source must be 'bundled', 'full' or a file, got ' '");
        assertThatThrownBy(() -> DataSource.parse(null)).hasMessageContaining("got null");
    }

    @Test
    void bundledRowsAreTheBundledSamplesInOrder() throws IOException {
        DataSource b = new DataSource.Bundled();
        assertThat(b.sftRows("train")).isEqualTo(BundledTldr.sft("train"));
        assertThat(b.promptRows("valid")).isEqualTo(BundledTldr.prompts("valid"));
        assertThat(b.pairRows("valid1")).isEqualTo(BundledTldr.pairs("valid1"));
        assertThat(b.dataId("sft")).isEqualTo("bundled:tldr-samples:sft");
    }

    @Test
    void encodingKeepsTheOrderAndCountsSkippedRowsByReason() throws IOException {
        TldrTask task = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).build());
        EncodedRows<Encoded.Sft> e = new DataSource.Bundled().sft(task, "train");
        List<SftExample> rows = BundledTldr.sft("train");
        assertThat(e.name()).isEqualTo("bundled:train");
        assertThat(e.read()).isEqualTo(rows.size());
        int i = 0;
        for (SftExample r : rows) {
            Encoded.Sft expected;
            try {
                expected = task.encodeSft(r);
            } catch (TaskLimitException ex) {
                continue;
            }
            Encoded.Sft got = e.rows().get(i++);
            assertThat(got.id()).isEqualTo(expected.id());
            assertThat(got.query().ids()).isEqualTo(expected.query().ids());
            assertThat(got.response()).isEqualTo(expected.response());
        }
        assertThat(e.kept()).isEqualTo(i);

        // a response limit every summary exceeds: every row skipped, counted under its reason
        TldrTask strict = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).setMaxSftResponseTokens(2).build());
        EncodedRows<Encoded.Sft> none = new DataSource.Bundled().sft(strict, "train");
        assertThat(none.kept()).isZero();
        assertThat(none.skippedTotal()).isEqualTo(rows.size());
        assertThat(none.skipped()).containsOnlyKeys(SkipReason.RESPONSE_TOO_LONG);
        assertThat(none.skippedByMessage().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(rows.size());
        assertThat(none.skippedByMessage().keySet()).allMatch(m -> m.startsWith("field '"));
    }

    @Test
    void rewardEvalSetsOfTheBundledDataAreTheHeldOutSplitsAndTheConfidenceGroups() throws IOException {
        TldrTask task = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).build());
        var sets = new DataSource.Bundled().rewardEvalSets(task);
        assertThat(sets.keySet()).startsWith("valid1", "valid2");
        assertThat(sets.keySet()).allMatch(k -> k.equals("valid1") || k.equals("valid2") || k.startsWith("confidence"));
        int confidenceRows = 0;
        for (Comparison c : BundledTldr.comparisons()) {
            if (c.kind() == Comparison.Kind.TLDR && c.confidence() != null) {
                confidenceRows++;
            }
        }
        assertThat(sets.entrySet().stream().filter(s -> s.getKey().startsWith("confidence"))
                .mapToInt(s -> s.getValue().read()).sum()).isEqualTo(confidenceRows);
        assertThat(sets.get("valid2").name()).isEqualTo("bundled:valid2");
        assertThat(EncodedRows.rowsOf(sets).keySet()).containsExactlyElementsOf(sets.keySet());
    }

    @Test
    void aFileIsReadInAnyFormatAndIdentifiedByItsSha256() throws Exception {
        Path sft = bundledFile("carper-sft-test.jsonl");
        DataSource f = DataSource.parse(sft.toString());
        assertThat(f.sftRows("ignored")).hasSameSizeAs(BundledTldr.sft("test"));
        assertThat(f.promptRows("ignored")).hasSameSizeAs(BundledTldr.sft("test"));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(sft)));
        assertThat(f.dataId("sft")).isEqualTo("file:" + sft.toAbsolutePath() + " sha256=" + sha);
        assertThatThrownBy(() -> f.pairRows("train")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(sft + ": expected preference rows (openai-comparisons or pairs format), got ");
        Path pairs = bundledFile(BundledTldr.COMPARISONS_FILE);
        assertThat(DataSource.parse(pairs.toString()).pairRows("x")).hasSize(100);
        assertThatThrownBy(() -> DataSource.parse(pairs.toString()).sftRows("x"))
                .hasMessageContaining("expected SFT rows (openai-tldr or sft format), got Comparison");
        assertThatThrownBy(() -> DataSource.parse(dir.resolve("missing.jsonl").toString()).dataId("sft"))
                .isInstanceOf(IOException.class).hasMessageContaining("missing.jsonl");
    }

    @Test
    void fullDataWithoutADownloadSaysWhatToRun(@TempDir Path cache) {
        DataSource.Full empty = new DataSource.Full(cache);
        assertThatThrownBy(() -> empty.sftRows("train"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--data full needs the downloaded TL;DR SFT files")
                .hasMessageContaining("./rlhf4j data download tldr --what sft");
        assertThatThrownBy(() -> empty.pairRows("train"))
                .hasMessageContaining("comparison batches")
                .hasMessageContaining("--what comparisons");
        assertThat(empty.dataId("prompts")).isEqualTo("full:openai-summarize-from-feedback:prompts");
    }

    @Test
    void fullDataReadsTheDownloadedSplits(@TempDir Path cache) throws IOException {
        Path root = cache.resolve(TldrDownloader.DATA_DIR);
        for (TldrFile f : TldrFile.SFT_FILES) {
            Path p = root.resolve(f.path());
            Files.createDirectories(p.getParent());
            Files.writeString(p, "{\"id\":\"t3_" + f.fileName() + "\",\"subreddit\":\"pics\",\"title\":\"T\","
                    + "\"post\":\"P\",\"summary\":\"S\"}\n");
        }
        DataSource.Full full = new DataSource.Full(cache);
        assertThat(full.sftRows("train")).containsExactly(
                new SftExample("t3_train.jsonl", "train", new Prompt.Reddit("pics", "T", "P"), " S"));
        assertThat(full.promptRows("valid")).hasSize(1);
        assertThatThrownBy(() -> full.pairRows("valid1")).hasMessageContaining("comparison batches");
    }
}
