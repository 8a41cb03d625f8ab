package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A diverged run exits non-zero and saves nothing; readers of a checkpoint being saved change nothing. */
class GuardsCliTest {

    @Test
    void sftWithAHugeLearningRateExitsNonZeroWithOneLineAndSavesNoWeights(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("x");
        CliSmokeTest.Run r = CliSmokeTest.run("sft", "--lr", "1e300", "--epochs", "0.16", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        String error = r.err().lines().filter(l -> l.startsWith("error: ")).findFirst().orElseThrow();
        assertThat(error).contains("training diverged: policy parameter '").contains("after update 1");
        assertThat(r.err().lines().filter(l -> l.startsWith("error: "))).hasSize(1);
        assertThat(out.resolve("model")).doesNotExist();
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("model"));
        }
    }

    /** Paths under {@code root} with their sizes and contents. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                m.put(root.relativize(p).toString(),
                        Files.isDirectory(p) ? "dir" : Integer.toHexString(java.util.Arrays.hashCode(Files.readAllBytes(p))));
            }
        }
        return m;
    }

    @Test
    void scoreWhileATrainerSavesReadsTheLastCompleteCheckpointAndChangesNothing(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Path model = run.resolve("model");
        assertThat(CliSmokeTest.run("init", "--out", model.toString(), "--n-embd", "32", "--n-layer", "1",
                "--n-head", "2", "--n-positions", "64").code()).isZero();
        CliSmokeTest.Run expected = CliSmokeTest.run("score", "--model", model.toString(), "--text", "Hello world");
        assertThat(expected.code()).as(expected.err()).isZero();

        // a save in progress: model.tmp-* being filled beside the current checkpoint
        Path tmp = Files.createDirectories(run.resolve("model.tmp-123456"));
        Files.copy(model.resolve("config.json"), tmp.resolve("config.json"));
        Map<String, String> before = snapshot(run);
        CliSmokeTest.Run during = CliSmokeTest.run("score", "--model", model.toString(), "--text", "Hello world");
        assertThat(during.code()).as(during.err()).isZero();
        assertThat(during.out()).isEqualTo(expected.out());
        assertThat(snapshot(run)).isEqualTo(before);

        // the moment between the two renames: model is model.old, the new version not yet in place
        Files.move(model, run.resolve("model.old"), StandardCopyOption.ATOMIC_MOVE);
        before = snapshot(run);
        CliSmokeTest.Run swapping = CliSmokeTest.run("score", "--model", model.toString(), "--text", "Hello world");
        assertThat(swapping.code()).as(swapping.err()).isZero();
        assertThat(swapping.out()).isEqualTo(expected.out());
        assertThat(snapshot(run)).isEqualTo(before);
        assertThat(model).doesNotExist();
        assertThat(tmp.resolve("config.json")).exists();
    }
}
