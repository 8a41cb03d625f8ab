package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlFilesTest {

    @Test
    void keepsStepsUpToTheResumePointAndCutsATornLastLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, "{\"step\":1,\"x\":1}\n{\"step\":2,\"x\":2}\n\n{\"step\":3,\"x\":3}\n{\"step\":4,\"x\"");
        assertThat(JsonlFiles.truncateToStep(f, 2)).isEqualTo(2); // step 3 and the torn line
        assertThat(Files.readAllLines(f)).containsExactly("{\"step\":1,\"x\":1}", "{\"step\":2,\"x\":2}");
        assertThat(Files.list(dir).toList()).containsExactly(f); // no temporary file left
        assertThat(JsonlFiles.truncateToStep(f, -1)).isEqualTo(2);
        assertThat(Files.readAllLines(f)).isEmpty();
        assertThat(JsonlFiles.truncateToStep(dir.resolve("missing.jsonl"), 3)).isZero();
    }

    @Test
    void aCompleteLastLineWithoutNewlineGetsOneSoAppendsStaySeparate(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("m.jsonl");
        Files.writeString(f, "{\"step\":1}\n{\"step\":2}");
        assertThat(JsonlFiles.truncateToStep(f, 5)).isZero();
        assertThat(Files.readString(f)).isEqualTo("{\"step\":1}" + System.lineSeparator() + "{\"step\":2}"
                + System.lineSeparator());
        long before = Files.size(f);
        assertThat(JsonlFiles.truncateToStep(f, 5)).isZero();
        assertThat(Files.size(f)).isEqualTo(before); // nothing to do: not rewritten
    }

    @Test
    void aMalformedLineBeforeTheLastOrAMissingStepIsNamedAndNothingChanges(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("eval.jsonl");
        Files.writeString(f, "{\"step\":1}\nnot json\n{\"step\":3}\n");
        assertThatThrownBy(() -> JsonlFiles.truncateToStep(f, 1)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("eval.jsonl").hasMessageContaining("line 2");
        assertThat(Files.readAllLines(f)).hasSize(3);
        Files.writeString(f, "{\"step\":1}\n{\"loss\":3}\n{\"step\":3}\n");
        assertThatThrownBy(() -> JsonlFiles.truncateToStep(f, 1)).hasMessageContaining("line 2")
                .hasMessageContaining("field 'step'");
    }

    @Test
    void replaceWritesAllLines(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.jsonl");
        JsonlFiles.replace(f, List.of("{\"step\":1}", "{\"step\":2}"));
        assertThat(Files.readAllLines(f)).hasSize(2);
    }
}
