package org.rlhf4j.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicDirectoryTest {

    @Test
    void replacesAsAWholeAndACrashMidFillKeepsTheLastGoodVersion(@TempDir Path root) throws Exception {
        Path ckpt = root.resolve("ckpt");
        AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("a.txt"), "v1"));
        assertThat(Files.readString(ckpt.resolve("a.txt"))).isEqualTo("v1");
        assertThatThrownBy(() -> AtomicDirectory.write(ckpt, d -> {
            Files.writeString(d.resolve("a.txt"), "half");
            throw new IOException("disk full");
        })).hasMessageContaining("disk full");
        assertThat(Files.readString(ckpt.resolve("a.txt"))).isEqualTo("v1");
        try (var s = Files.list(root)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("ckpt");
        }
        AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("b.txt"), "v2"));
        assertThat(ckpt.resolve("a.txt")).doesNotExist();
        assertThat(Files.readString(ckpt.resolve("b.txt"))).isEqualTo("v2");
    }

    @Test
    void recoveryCompletesAnInterruptedSwap(@TempDir Path root) throws Exception {
        // simulate a kill between "rename NAME -> NAME.old" and "rename tmp -> NAME"
        Path ckpt = root.resolve("ckpt");
        Path old = root.resolve("ckpt.old");
        Files.createDirectories(old);
        Files.writeString(old.resolve("a.txt"), "good");
        Path tmp = root.resolve("ckpt.tmp-123");
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve("a.txt"), "partial");
        AtomicDirectory.recover(ckpt);
        assertThat(Files.readString(ckpt.resolve("a.txt"))).isEqualTo("good");
        assertThat(old).doesNotExist();
        assertThat(tmp).doesNotExist();
    }

    @Test
    void trainerStateAndProvenanceRoundTrip(@TempDir Path dir) throws Exception {
        TrainerState s = new TrainerState("sft", 12, 1, 42, 96, Map.of("kl_coef", org.rlhf4j.core.io.Json.MAPPER.valueToTree(0.05)));
        s.write(dir);
        assertThat(TrainerState.read(dir)).isEqualTo(s);
        Provenance p = Provenance.capture("sft", 42, "bundled:tldr", Map.of("lr", 1e-4), "rlhf4j sft");
        p.write(dir);
        Provenance back = Provenance.read(dir);
        assertThat(back.seed()).isEqualTo(42);
        assertThat(back.config().get("lr").asDouble()).isEqualTo(1e-4);
        assertThat(back.version()).isNotBlank().isNotEqualTo("${project.version}");
        Files.writeString(dir.resolve("trainer_state.json"), "{\"step\": -1}");
        assertThatThrownBy(() -> TrainerState.read(dir)).hasMessageContaining("trainer_state.json");
    }
}
