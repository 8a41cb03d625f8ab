package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.core.checkpoint.TrainerState;

/**
 * The issue-14 guarantees on the command line: a run killed with SIGKILL after its first checkpoint resumes from it and
 * ends with the metrics and weights of an uninterrupted run, byte for byte; a re-run with another setting fails naming
 * the option.
 */
class KillAndResumeTest {

    /** 13 updates of 2 samples (half an epoch of the 50 bundled rows); checkpoints at 5 and 10. */
    private static String[] sft(Path out, String... more) {
        return sftSaving(out, 5, more);
    }

    private static String[] sftSaving(Path out, int saveSteps, String... more) {
        List<String> a = new ArrayList<>(List.of("sft", "--out", out.toString(), "--epochs", "0.5", "--batch-size", "2",
                "--micro-batch-size", "2", "--save-steps", Integer.toString(saveSteps), "--device", "cpu"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void aRunKilledAfterItsFirstCheckpointEndsIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        Rlhf4jCli.runExample(sft(a));
        RunDir ra = new RunDir(a);
        assertThat(ra.checkpoints()).extracting(RunDir::stepOf).containsExactly(5L, 10L);
        assertThat(TrainerState.read(ra.model()).step()).isEqualTo(13);

        // the same run in a child JVM, killed with SIGKILL as soon as checkpoint-5 is complete
        Path b = dir.resolve("b");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(s -> s.startsWith("-D") || s.startsWith("-Xmx")).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Rlhf4jCli.class.getName()));
        cmd.addAll(List.of(sft(b)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile())
                .start();
        Path first = b.resolve("checkpoint-5");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!Files.exists(first.resolve("trainer_state.json")) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        p.waitFor(1, TimeUnit.MINUTES);
        assertThat(first).as("child log:%n%s", Files.readString(dir.resolve("child.log"))).exists();
        RunDir rb = new RunDir(b);
        long killedAt = rb.latestCheckpoint() == null ? 0 : TrainerState.read(rb.latestCheckpoint()).step();
        assertThat(killedAt).isBetween(5L, 12L);

        // the re-run continues from the latest checkpoint and ends where the uninterrupted run ended
        Rlhf4jCli.runExample(sft(b));
        assertThat(Files.readAllLines(b.resolve("metrics.jsonl"))).isEqualTo(Files.readAllLines(a.resolve("metrics.jsonl")));
        assertThat(Files.readAllLines(b.resolve("samples.jsonl"))).isEqualTo(Files.readAllLines(a.resolve("samples.jsonl")));
        assertThat(Files.readAllBytes(b.resolve("model/model.safetensors")))
                .isEqualTo(Files.readAllBytes(a.resolve("model/model.safetensors")));
        System.out.printf("kill -9 after checkpoint-%d: resumed run's %d metric rows and model.safetensors (%d bytes)"
                + " equal the uninterrupted run's%n", killedAt, Files.readAllLines(a.resolve("metrics.jsonl")).size(),
                Files.size(a.resolve("model/model.safetensors")));

        // another learning rate into the same run directory: refused, naming the option
        assertThatThrownBy(() -> Rlhf4jCli.runExample(sft(b, "--lr", "0.001"))).hasMessageContaining("--lr")
                .hasMessageContaining("0.001").hasMessageContaining("--resume").hasMessageContaining("--overwrite");
        // only schedules may differ on --resume
        assertThatThrownBy(() -> Rlhf4jCli.runExample(sft(b, "--lr", "0.001", "--resume")))
                .hasMessageContaining("cannot --resume").hasMessageContaining("--lr");
        // a finished run re-run with another checkpoint schedule: accepted with --resume, nothing to do
        assertThatThrownBy(() -> Rlhf4jCli.runExample(sftSaving(b, 4))).hasMessageContaining("--resume");
        Rlhf4jCli.runExample(sftSaving(b, 4, "--resume"));
        assertThat(Files.readAllLines(b.resolve("metrics.jsonl"))).hasSize(13);
    }
}
