package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import picocli.CommandLine;

/** {@code rlhf4j model import-gguf} on a fixture GGUF (written by scripts/gguf_fixture.py). */
class ModelCommandTest {

    private static final Path FIXTURES =
            Path.of("..", "rlhf-core", "src", "test", "resources", "gguf-fixtures").toAbsolutePath().normalize();

    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Rlhf4jCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void importsAtomicallyAndRefusesToClobber() throws Exception {
        Path gguf = FIXTURES.resolve("tiny-gpt2tok-q8_0.gguf");
        Path out = dir.resolve("model");
        Run r = run("model", "import-gguf", gguf.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(r.out());
        assertThat(j.get("architecture").asText()).isEqualTo("llama");
        assertThat(j.get("tensor_types").get("Q8_0").asInt()).isEqualTo(16); // 7 per layer, embeddings, output
        assertThat(j.get("tensor_types").get("F32").asInt()).isEqualTo(5); // the norms
        assertThat(j.get("parameters").asLong()).isPositive();
        assertThat(Files.exists(dir.resolve("model.tmp"))).isFalse();
        for (String f : ImportGgufCommand.OUTPUTS) {
            assertThat(out.resolve(f)).exists();
        }
        try (SafeTensors st = SafeTensors.open(out.resolve("model.safetensors"))) {
            assertThat(st.entries()).containsKey("model.layers.1.self_attn.q_proj.weight");
            assertThat(st.entries()).hasSize(21);
        }
        try (HfTokenizer t = HfTokenizer.load(out.resolve("tokenizer.json"))) {
            assertThat(t.encode("Hello world")).containsExactly(314, 281, 298, 79, 71);
        }
        JsonNode tc = Json.MAPPER.readTree(out.resolve("tokenizer_config.json").toFile());
        assertThat(tc.get("chat_template").asText()).contains("<|im_start|>");

        Run again = run("model", "import-gguf", gguf.toString(), "--out", out.toString());
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("exists and is not empty").contains("--overwrite");
        Run over = run("model", "import-gguf", gguf.toString(), "--out", out.toString(), "--overwrite");
        assertThat(over.code()).as(over.err()).isZero();
    }

    @Test
    void leftoverTmpIsClearedOnlyWhenItHoldsImportFiles() throws Exception {
        Path gguf = FIXTURES.resolve("tiny-spm-f32.gguf");
        Path out = dir.resolve("m");
        Path tmp = dir.resolve("m.tmp");
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve("config.json"), "{}"); // a crashed import's leftover
        Run r = run("model", "import-gguf", gguf.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(tmp).doesNotExist();
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve("notes.txt"), "mine");
        Run refused = run("model", "import-gguf", gguf.toString(), "--out", dir.resolve("m").toString(), "--overwrite");
        assertThat(refused.code()).isEqualTo(2);
        assertThat(refused.err()).contains("m.tmp").contains("does not write");
        assertThat(tmp.resolve("notes.txt")).exists();
    }

    @Test
    void corruptFileIsANamedError() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'M', 'L', 3, 0, 0, 0});
        Run r = run("model", "import-gguf", bad.toString(), "--out", dir.resolve("m").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(bad.toString()).contains("bad magic");
        assertThat(dir.resolve("m")).doesNotExist();
    }
}
