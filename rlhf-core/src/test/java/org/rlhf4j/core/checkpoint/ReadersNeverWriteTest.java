package org.rlhf4j.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * Reading a model directory never writes: readers run while a save is in progress get the last complete version and
 * leave every file of the save in place; only the directory's owner (the holder of {@code NAME.lock}) recovers it.
 */
class ReadersNeverWriteTest {

    static final Gpt2Config TINY = Gpt2Config.of(32, 16, 8, 1, 2);
    static NDManager manager;
    static Tokenizer tok;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
        tok = Gpt2Tokenizers.bundled();
    }

    @AfterAll
    static void close() {
        tok.close();
        manager.close();
    }

    /** Every path under {@code root} with a digest of its content ("dir" for directories). */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                String key = root.relativize(p).toString();
                // a held lock file is never opened by its own process (closing any descriptor of it would drop
                // the POSIX lock)
                out.put(key, Files.isDirectory(p) ? "dir"
                        : key.endsWith(".lock") ? "lock" : sha256(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first weight of the model a reader loads, with the tokenizer check: what version did it read? */
    static float[] readAll(Path dir) throws IOException {
        try (Tokenizer t = Checkpoint.tokenizerFor(dir);
                NDManager m = manager.newSubManager();
                CausalLm lm = CausalLm.load(dir, m);
                ScalarModel rm = ScalarModel.load(dir, m, 0)) {
            assertThat(t.encode("Hello world")).containsExactly(15496, 995);
            assertThat(rm.weights().get("transformer.wte.weight").toFloatArray())
                    .containsExactly(lm.weights().get("transformer.wte.weight").toFloatArray());
            return lm.weights().get("transformer.wte.weight").toFloatArray();
        }
    }

    static float[] save(CausalLm model, Path tmp) throws IOException {
        model.save(tmp);
        tok.save(tmp);
        return model.weights().get("transformer.wte.weight").toFloatArray();
    }

    @Test
    void readersDuringASaveReadTheLastCompleteVersionAndChangeNothing(@TempDir Path root) throws Exception {
        Path ckpt = root.resolve("model");
        try (CausalLm v1 = CausalLm.random(TINY, manager, 1);
                CausalLm v2 = CausalLm.random(TINY, manager, 2)) {
            float[] w1 = v1.weights().get("transformer.wte.weight").toFloatArray();
            Checkpoint.save(ckpt, v1, tok, null, null, null);
            assertThat(readAll(ckpt)).containsExactly(w1);

            AtomicReference<Path> tmpSeen = new AtomicReference<>();
            AtomicDirectory.write(ckpt, tmp -> {
                // state 1: a save is filling NAME.tmp-*, half written
                v2.save(tmp);
                tmpSeen.set(tmp);
                Map<String, String> before = snapshot(root);
                assertThat(before.keySet()).anyMatch(k -> k.startsWith("model.tmp-")).contains("model.lock");
                assertThat(readAll(ckpt)).containsExactly(w1);
                assertThat(snapshot(root)).isEqualTo(before);
                // a process that does not own the directory may not recover it (here: another thread)
                try {
                    assertThat(recoverFromAnotherThread(ckpt)).isInstanceOf(DirectoryInUseException.class)
                            .hasMessageContaining("model.lock");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                assertThat(snapshot(root)).isEqualTo(before);
                tok.save(tmp);
            }, () -> {
                // state 2: NAME was renamed to NAME.old, the complete NAME.tmp-* not yet renamed to NAME
                try {
                    Map<String, String> before = snapshot(root);
                    assertThat(before).doesNotContainKey("model").containsKey("model.old")
                            .containsKey(root.relativize(tmpSeen.get()).toString());
                    assertThat(readAll(ckpt)).containsExactly(w1);
                    assertThat(snapshot(root)).isEqualTo(before);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // the writer completed normally: the new version, nothing left over
            assertThat(readAll(ckpt)).containsExactly(v2.weights().get("transformer.wte.weight").toFloatArray());
            try (Stream<Path> s = Files.list(root)) {
                assertThat(s.map(p -> p.getFileName().toString())).containsExactly("model");
            }
        }
    }

    @Test
    void aReaderOfADirectoryLeftMidSwapByACrashReadsTheOldVersionWithoutRestoringIt(@TempDir Path root)
            throws Exception {
        Path ckpt = root.resolve("model");
        try (CausalLm v1 = CausalLm.random(TINY, manager, 1);
                CausalLm v2 = CausalLm.random(TINY, manager, 2)) {
            float[] w1 = save(v1, Files.createDirectories(root.resolve("model.old")));
            save(v2, Files.createDirectories(root.resolve("model.tmp-123")));
            Map<String, String> before = snapshot(root);
            assertThat(readAll(ckpt)).containsExactly(w1);
            assertThat(snapshot(root)).isEqualTo(before);
            // the next owner recovers: the old version back in place, the unfinished save gone
            AtomicDirectory.recover(ckpt);
            assertThat(readAll(ckpt)).containsExactly(w1);
            try (Stream<Path> s = Files.list(root)) {
                assertThat(s.map(p -> p.getFileName().toString())).containsExactly("model");
            }
        }
    }

    @Test
    void aReaderOfAMissingDirectoryNamesThePathItWasGiven(@TempDir Path root) {
        assertThatThrownBy(() -> CausalLm.load(root.resolve("nothing"), manager))
                .hasMessageContaining(root.resolve("nothing").resolve("config.json").toString());
    }

    @Test
    void theOwnerLockIsReentrantInItsThreadAndGoneAfterwards(@TempDir Path root) throws Exception {
        Path ckpt = root.resolve("model");
        try (AtomicDirectory.Lock lock = AtomicDirectory.lock(ckpt)) {
            assertThat(lock.file()).isEqualTo(root.resolve("model.lock")).exists();
            AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("a.txt"), "v1")); // a second hold
            assertThat(lock.file()).exists();
            assertThat(recoverFromAnotherThread(ckpt)).isInstanceOf(DirectoryInUseException.class)
                    .hasMessageContaining("thread");
        }
        assertThat(root.resolve("model.lock")).doesNotExist();
        AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("a.txt"), "v2"));
        assertThat(Files.readString(ckpt.resolve("a.txt"))).isEqualTo("v2");
    }

    @Test
    void anotherProcessOwningTheDirectoryBlocksWritersButNotReaders(@TempDir Path root) throws Exception {
        Path ckpt = root.resolve("model");
        AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("a.txt"), "v1"));
        Path unfinished = Files.createDirectories(root.resolve("model.tmp-77"));
        Process holder = startHolder(ckpt);
        try {
            String pid = "pid " + holder.pid() + " on host ";
            assertThatThrownBy(() -> AtomicDirectory.recover(ckpt)).isInstanceOf(DirectoryInUseException.class)
                    .hasMessageContaining(pid).hasMessageContaining("model.lock");
            assertThatThrownBy(() -> AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("a.txt"), "v2")))
                    .isInstanceOf(DirectoryInUseException.class).hasMessageContaining(pid);
            assertThat(unfinished).exists(); // the owner's save in progress is untouched
            assertThat(AtomicReadsProbe.read(ckpt)).isEqualTo("v1"); // readers are not blocked
        } finally {
            // killed: its lock file stays behind, but the OS released the lock with the process
            holder.destroyForcibly().waitFor();
        }
        assertThat(Files.readString(root.resolve("model.lock"))).contains("pid " + holder.pid());
        AtomicDirectory.write(ckpt, d -> Files.writeString(d.resolve("a.txt"), "v2")); // stale lock taken over
        assertThat(Files.readString(ckpt.resolve("a.txt"))).isEqualTo("v2");
        assertThat(unfinished).doesNotExist(); // now this process owns it and cleans up
        try (Stream<Path> s = Files.list(root)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("model");
        }
    }

    /** Reads a.txt through the reader protocol. */
    static final class AtomicReadsProbe {
        static String read(Path dir) throws IOException {
            return org.rlhf4j.core.io.AtomicReads.read(dir, d -> Files.readString(d.resolve("a.txt")));
        }
    }

    static Throwable recoverFromAnotherThread(Path dir) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                AtomicDirectory.recover(dir);
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, "other-reader");
        t.start();
        t.join();
        return thrown.get();
    }

    static Process startHolder(Path dir) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), dir.toString())).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = out.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.startsWith("locked ")) {
                return p;
            }
        }
        throw new IllegalStateException("lock holder exited without locking: " + seen);
    }
}
