package org.rlhf4j.algorithms;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/** Encoded bundled TL;DR rows for algorithm tests (short queries keep tests fast). */
public final class TestData {

    private TestData() {}

    /** The task used by tests: 128-token queries, reference limits for responses. */
    public static TldrTask task(Tokenizer tok) {
        return new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).build());
    }

    /** Encoded SFT rows of a bundled split; rows over the limits are skipped (counted by the caller if needed). */
    public static List<Encoded.Sft> sft(Tokenizer tok, String split) {
        TldrTask task = task(tok);
        List<Encoded.Sft> out = new ArrayList<>();
        for (SftExample e : BundledTldr.sft(split)) {
            try {
                out.add(task.encodeSft(e));
            } catch (TaskLimitException ex) {
                // over the response limit: not part of the SFT set (as in the references' filtering)
            }
        }
        return out;
    }

    /** A tokenizer stand-in for synthetic token tasks: decodes to the id list, fixed vocabulary and EOS. */
    public static Tokenizer syntheticTokenizer(int vocab, int eos) {
        return new Tokenizer() {
            @Override
            public int[] encode(String text) {
                return new int[0];
            }

            @Override
            public String decode(int[] ids, boolean skip) {
                return java.util.Arrays.toString(ids);
            }

            @Override
            public int vocabSize() {
                return vocab;
            }

            @Override
            public int eosTokenId() {
                return eos;
            }

            @Override
            public void save(java.nio.file.Path dir) {}

            @Override
            public void close() {}
        };
    }

    /** Encoded preference pairs of a bundled split. */
    public static List<Encoded.Pair> pairs(Tokenizer tok, String split) {
        TldrTask task = task(tok);
        List<Encoded.Pair> out = new ArrayList<>();
        for (PreferencePair p : BundledTldr.pairs(split)) {
            try {
                out.add(task.encodePair(p));
            } catch (TaskLimitException ex) {
                // skipped
            }
        }
        return out;
    }

    /** Copies a directory tree (e.g. a checkpoint, to compare it byte for byte later). */
    public static Path copyTree(Path src, Path dst) throws IOException {
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return dst;
    }

    /** Asserts that two trees hold the same files with the same bytes. */
    public static void assertSameFiles(Path expected, Path actual) throws IOException {
        List<String> a;
        List<String> b;
        try (Stream<Path> s = Files.walk(expected); Stream<Path> t = Files.walk(actual)) {
            a = s.map(p -> expected.relativize(p).toString()).sorted().toList();
            b = t.map(p -> actual.relativize(p).toString()).sorted().toList();
        }
        Assertions.assertThat(b).isEqualTo(a);
        for (String f : a) {
            Path p = expected.resolve(f);
            if (Files.isRegularFile(p)) {
                Assertions.assertThat(Files.mismatch(p, actual.resolve(f))).as("first differing byte of %s", f)
                        .isEqualTo(-1L);
            }
        }
    }

    /** Asserts that a run directory holds no unfinished save, old version or lock beside its checkpoint. */
    public static void assertNoSaveLeftovers(Path runRoot) throws IOException {
        try (Stream<Path> s = Files.list(runRoot)) {
            Assertions.assertThat(s.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith("model.tmp-") || n.equals("model.old") || n.equals("model.lock"));
        }
    }
}
