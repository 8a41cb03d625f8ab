package org.rlhf4j.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.datasets.download.ChecksumMismatchException;
import org.rlhf4j.datasets.download.TldrDownloader;
import org.rlhf4j.datasets.download.TldrFile;

class TldrDataTest {

    @TempDir Path cache;

    @Test
    void emptyCacheMeansBundledSamples() throws IOException {
        TldrData data = TldrData.open(cache);
        assertThat(data.sftSource()).isEqualTo(TldrData.Source.BUNDLED);
        assertThat(data.comparisonsSource()).isEqualTo(TldrData.Source.BUNDLED);
        assertThat(data.describe()).startsWith("SFT: bundled samples (no complete download in ");
        assertThat(data.sft("train")).hasSize(50);
        assertThat(data.prompts("valid")).hasSize(50);
        assertThat(data.pairs("valid1")).hasSize(50);
        assertThat(data.comparisons("valid1")).hasSize(18);
    }

    @Test
    void completeDownloadIsPreferredAndVerified() throws IOException {
        Path root = cache.resolve(TldrDownloader.DATA_DIR);
        for (TldrFile f : TldrFile.SFT_FILES) {
            Path p = root.resolve(f.path());
            Files.createDirectories(p.getParent());
            Files.writeString(p, "{\"id\":\"t3_" + f.fileName() + "\",\"subreddit\":\"pics\",\"title\":\"T\","
                    + "\"post\":\"P\",\"summary\":\"S\"}\n");
        }
        TldrData data = TldrData.open(cache);
        assertThat(data.sftSource()).isEqualTo(TldrData.Source.DOWNLOADED);
        assertThat(data.comparisonsSource()).isEqualTo(TldrData.Source.BUNDLED);
        List<SftExample> train = data.sft("train");
        assertThat(train).containsExactly(
                new SftExample("t3_train.jsonl", "train", new Prompt.Reddit("pics", "T", "P"), " S"));
        assertThat(root.resolve("manifest.json")).exists();
        // tampering after the checksum was recorded is caught
        assertThat(data.sft("valid")).hasSize(1);
        Path valid = root.resolve("datasets/tldr_3_filtered/valid.jsonl");
        Files.writeString(valid, Files.readString(valid).replace("\"S\"", "\"changed\""));
        assertThatThrownBy(() -> data.sft("valid")).isInstanceOf(ChecksumMismatchException.class);
        assertThatThrownBy(() -> data.sft("valid1")).hasMessageContaining("unknown split 'valid1'");
    }
}
