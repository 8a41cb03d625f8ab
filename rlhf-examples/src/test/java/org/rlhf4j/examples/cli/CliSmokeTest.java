package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.tensor.TensorOps;
import picocli.CommandLine;

/** Every foundation command runs end to end through the real command line. */
class CliSmokeTest {

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Rlhf4jCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void tokenizePrintsGpt2Ids() {
        Run r = run("tokenize", "--text", "Hello world");
        assertThat(r.code()).isZero();
        assertThat(r.out().trim()).isEqualTo("[15496,995]");
    }

    @Test
    void initScoreAndGenerateOnAFreshModel(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m");
        assertThat(run("init", "--out", model.toString(), "--n-embd", "32", "--n-layer", "1", "--n-head", "2",
                "--n-positions", "64").code()).isZero();
        assertThat(model.resolve("config.json")).exists();
        assertThat(model.resolve("model.safetensors")).exists();
        assertThat(model.resolve("tokenizer.json")).exists();

        Run s = run("score", "--model", model.toString(), "--text", "Hello world, again");
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(s.out());
        assertThat(j.get("tokens").size()).isEqualTo(4);
        assertThat(j.get("logprobs").size()).isEqualTo(3);
        double sum = 0;
        for (JsonNode v : j.get("logprobs")) {
            assertThat(v.asDouble()).isNegative();
            sum += v.asDouble();
        }
        assertThat(j.get("sum").asDouble()).isCloseTo(sum, org.assertj.core.api.Assertions.within(1e-9));

        Run g = run("generate", "--model", model.toString(), "--prompt", "Hello", "--max-new-tokens", "4",
                "--num-samples", "2", "--seed", "3");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out()).contains("--- sample 2").contains("Hello");
        Run g2 = run("generate", "--model", model.toString(), "--prompt", "Hello", "--max-new-tokens", "4",
                "--num-samples", "2", "--seed", "3");
        assertThat(g2.out()).isEqualTo(g.out());
    }

    @Test
    void initWritesAGptNeoXThatScoresAndGenerates(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("neox");
        Run i = run("init", "--arch", "gpt_neox", "--out", model.toString(), "--n-embd", "32", "--n-layer", "1",
                "--n-head", "2", "--n-positions", "64");
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("gpt_neox");
        JsonNode cfg = Json.MAPPER.readTree(Files.readString(model.resolve("config.json")));
        assertThat(cfg.get("model_type").asText()).isEqualTo("gpt_neox");
        assertThat(cfg.get("eos_token_id").asInt()).isEqualTo(50256);
        assertThat(cfg.get("vocab_size").asInt()).isEqualTo(50257);
        Run s = run("score", "--model", model.toString(), "--text", "Hello world");
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(s.out());
        assertThat(j.get("tokens").toString()).isEqualTo("[15496,995]");
        assertThat(j.get("logprobs").get(0).asDouble()).isNegative();
        Run g = run("generate", "--model", model.toString(), "--prompt", "Hello", "--max-new-tokens", "3", "--seed", "1");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(run("init", "--arch", "falcon", "--out", dir.resolve("x").toString()).err())
                .contains("unknown --arch 'falcon' (gpt2, gpt_neox, llama, mistral, qwen2, qwen3)");
    }

    @Test
    void initWritesALlamaThatScoresAndGenerates(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("llama");
        Run i = run("init", "--arch", "llama", "--out", model.toString(), "--n-embd", "32", "--n-layer", "1",
                "--n-head", "4", "--n-kv-head", "2", "--n-positions", "64");
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("llama");
        JsonNode cfg = Json.MAPPER.readTree(Files.readString(model.resolve("config.json")));
        assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");
        assertThat(cfg.get("num_key_value_heads").asInt()).isEqualTo(2);
        assertThat(cfg.get("eos_token_id").asInt()).isEqualTo(50256);
        Run s = run("score", "--model", model.toString(), "--text", "Hello world");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(Json.MAPPER.readTree(s.out()).get("tokens").toString()).isEqualTo("[15496,995]");
        Run g = run("generate", "--model", model.toString(), "--prompt", "Hello", "--max-new-tokens", "3", "--seed", "1");
        assertThat(g.code()).as(g.err()).isZero();
    }

    @Test
    void scoreMatchesTheParityFixture(@TempDir Path dir) throws Exception {
        // the fixture lives in rlhf-core's test resources; surefire runs in this module's directory
        Path fixture = Path.of("..", "rlhf-core", "src", "test", "resources", "parity", "gpt2-tiny");
        JsonNode ref = Json.MAPPER.readTree(Files.readString(fixture.resolve("logprobs.json")));
        StringBuilder toks = new StringBuilder();
        for (JsonNode t : ref.get("tokens")) {
            toks.append(toks.length() == 0 ? "" : ",").append(t.asInt());
        }
        Run s = run("score", "--model", fixture.toString(), "--tokens", toks.toString());
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(s.out());
        assertThat(j.get("sum").asDouble()).isCloseTo(ref.get("sum").asDouble(), org.assertj.core.api.Assertions.within(1e-3));
    }

    @Test
    void scoreAndTokenizeMatchTransformersOnACompactVocabularyModel() throws Exception {
        // written by scripts/make_hf_fixture.sh: an rlhf4j model directory and what transformers computed for it
        Path fixture = Path.of("..", "rlhf-core", "src", "test", "resources", "hf-roundtrip");
        String model = fixture.resolve("model").toString();
        for (JsonNode c : Json.MAPPER.readTree(Files.readString(fixture.resolve("expected.json"))).get("cases")) {
            String text = c.get("text").asText();
            Run t = run("tokenize", "--model", model, "--text", text);
            assertThat(t.code()).as(t.err()).isZero();
            assertThat(t.out().trim()).as(text).isEqualTo(c.get("ids").toString());
            Run s = run("score", "--model", model, "--text", text);
            assertThat(s.code()).as(s.err()).isZero();
            JsonNode j = Json.MAPPER.readTree(s.out());
            assertThat(j.get("tokens")).isEqualTo(c.get("ids"));
            for (int i = 0; i < c.get("logprobs").size(); i++) {
                assertThat(j.get("logprobs").get(i).asDouble()).as("%s position %d", text, i)
                        .isCloseTo(c.get("logprobs").get(i).asDouble(), org.assertj.core.api.Assertions.within(1e-3));
            }
        }
    }

    @Test
    void initWithVocabTextsWritesACompactVocabulary(@TempDir Path dir) throws Exception {
        Path texts = Files.writeString(dir.resolve("texts.txt"), "Hello world\n");
        Path model = dir.resolve("m");
        Run i = run("init", "--out", model.toString(), "--n-embd", "16", "--n-layer", "1", "--n-head", "2",
                "--n-positions", "32", "--vocab-texts", texts.toString());
        assertThat(i.code()).as(i.err()).isZero();
        JsonNode cfg = Json.MAPPER.readTree(Files.readString(model.resolve("config.json")));
        // seen: " world", "Hello", EOS -> 0, 1, 2; then what spells them and the 256 byte symbols
        assertThat(cfg.get("eos_token_id").asInt()).isEqualTo(2);
        assertThat(cfg.get("vocab_size").asInt()).isBetween(259, 300);
        assertThat(i.out()).contains("vocabulary " + cfg.get("vocab_size").asInt());
        assertThat(model.resolve("tokenizer_config.json")).exists();
        assertThat(run("tokenize", "--model", model.toString(), "--text", "Hello world").out().trim()).isEqualTo("[1,0]");
        Run s = run("score", "--model", model.toString(), "--text", "Hello zebra!");
        assertThat(s.code()).as(s.err()).isZero();
    }

    @Test
    void scoreLoadsAGptNeoXCheckpointThroughTheSameCommand() throws Exception {
        Path fixture = Path.of("..", "rlhf-core", "src", "test", "resources", "parity", "gpt-neox-tiny");
        long[] ids;
        double want = 0;
        try (NDManager m = NDManager.newBaseManager();
                SafeTensors st = SafeTensors.open(fixture.resolve("expected.safetensors"))) {
            // row 0 of the fixture is unpadded; its reference log-probabilities come from the expected logits
            NDArray row = st.load("input_ids", m).get(0);
            ids = row.toLongArray();
            NDArray logits = st.load("logits", m).get(0).expandDims(0);
            for (float lp : TensorOps.sequenceLogprobs(logits, row.expandDims(0)).toFloatArray()) {
                want += lp;
            }
        }
        StringBuilder toks = new StringBuilder();
        for (long t : ids) {
            toks.append(toks.length() == 0 ? "" : ",").append(t);
        }
        Run s = run("score", "--model", fixture.toString(), "--tokens", toks.toString());
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(s.out());
        assertThat(j.get("logprobs").size()).isEqualTo(ids.length - 1);
        assertThat(j.get("sum").asDouble()).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-4));
    }

    @Test
    void errorsAreOneLineWithNonZeroExit(@TempDir Path dir) {
        Run r = run("score", "--model", dir.resolve("missing").toString(), "--tokens", "1,2");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: ").contains("config.json").contains("not found");
        Run usage = run("score", "--model", "x");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("--text").contains("--tokens");
        assertThat(run("generate", "--help").out()).contains("--top-p").contains("--seed");
    }
}
