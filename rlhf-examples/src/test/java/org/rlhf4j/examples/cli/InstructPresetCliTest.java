package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.tokenizer.HfTokenizer;

/**
 * An instruction-style Llama directory (random weights, a tiny byte-level BPE with Qwen2.5's chat template) through
 * the CLI: {@code chat-template}, and SFT with {@code --preset smollm2}, whose TL;DR prompts are rendered as a chat.
 */
class InstructPresetCliTest {

    static Path instructModel(Path dir) throws IOException {
        Path model = Files.createDirectories(dir.resolve("tiny-instruct"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            try (InputStream in = InstructPresetCliTest.class.getResourceAsStream("/instruct-tokenizer/" + f)) {
                Files.copy(in, model.resolve(f));
            }
        }
        try (HfTokenizer tok = HfTokenizer.load(model.resolve("tokenizer.json"));
                NDManager m = NDManager.newBaseManager()) {
            LlamaConfig cfg = LlamaConfig.of(LlamaFamily.LLAMA, tok.vocabSize(), 2048, 32, 1, 4, 2, 64,
                    tok.eosTokenId(), tok.eosTokenId());
            try (CausalLm lm = CausalLm.random(cfg, m, 5)) {
                lm.save(model);
            }
        }
        return model;
    }

    @Test
    void theInstructPresetRendersTldrPromptsAsAChatAndTrains(@TempDir Path dir) throws Exception {
        Path model = instructModel(dir);
        Path messages = Files.writeString(dir.resolve("m.json"),
                "[{\"role\": \"user\", \"content\": \"Summarize: the cat sat.\"}]");
        CliSmokeTest.Run t = CliSmokeTest.run("chat-template", "--model", model.toString(), "--messages",
                messages.toString(), "--add-generation-prompt");
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.out()).startsWith("<|im_start|>system\n").endsWith("<|im_start|>assistant\n");

        Path out = dir.resolve("sft");
        CliSmokeTest.Run s = CliSmokeTest.run("sft", "--preset", "smollm2", "--model", model.toString(), "--data",
                "bundled", "--epochs", "0.02", "--batch-size", "2", "--micro-batch-size", "2", "--max-query-tokens",
                "600", "--max-response-tokens", "400", "--out", out.toString());
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode summary = Json.MAPPER.readTree(s.out());
        assertThat(summary.get("steps").asLong()).isEqualTo(1);
        // the saved run remembers that its prompts were chats; the model keeps its chat template
        JsonNode options = Json.MAPPER.readTree(out.resolve("run_config.json").toFile()).get("options");
        assertThat(options.get("preset").asText()).isEqualTo("smollm2");
        assertThat(Files.readString(out.resolve("model/tokenizer_config.json"))).contains("chat_template");
        // too tight a response budget for this character-level tokenizer: every row is skipped, and the error says so
        CliSmokeTest.Run tight = CliSmokeTest.run("sft", "--preset", "smollm2", "--model", model.toString(), "--data",
                "bundled", "--epochs", "0.02", "--max-response-tokens", "8", "--out", dir.resolve("tight").toString());
        assertThat(tight.code()).isNotZero();
        assertThat(tight.err()).contains("no usable rows").contains("skipped").contains("--max-response-tokens");
        try (NDManager m = NDManager.newBaseManager();
                CausalLm trained = CausalLm.load(out.resolve("model"), m)) {
            assertThat(trained.config().modelType()).isEqualTo("llama");
        }
    }

    @Test
    void generationStopsOnTheTokenizersEosAndEveryIdOfTheModelsGenerationConfig(@TempDir Path dir) throws Exception {
        Path model = instructModel(dir);
        // Llama 3 style: the chat turn ends with the tokenizer's EOS, generation_config lists more ids
        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": [7, 9], \"do_sample\": false}");
        try (HfTokenizer tok = HfTokenizer.load(model.resolve("tokenizer.json"));
                NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.load(model, m)) {
            assertThat(GenerateCommand.stopTokens(tok, lm)).containsExactly(tok.eosTokenId(), 7, 9);
        }
        CliSmokeTest.Run g = CliSmokeTest.run("generate", "--model", model.toString(), "--prompt", "Hello",
                "--max-new-tokens", "4");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out()).startsWith("Hello");
        // --chat: the prompt goes through the chat template; only the answer is printed
        CliSmokeTest.Run c = CliSmokeTest.run("generate", "--model", model.toString(), "--prompt", "Hello",
                "--max-new-tokens", "4", "--chat", "--temperature", "0");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).doesNotStartWith("Hello");
        Path plain = dir.resolve("plain");
        assertThat(CliSmokeTest.run("init", "--out", plain.toString(), "--n-embd", "16", "--n-layer", "1", "--n-head",
                "2").code()).isZero();
        CliSmokeTest.Run none = CliSmokeTest.run("generate", "--model", plain.toString(), "--prompt", "Hello", "--chat");
        assertThat(none.code()).isNotZero();
        assertThat(none.err()).contains("--chat").contains("has no chat template");
    }

    @Test
    void initBuildsARandomModelOverAnotherModelsTokenizerAndChatTemplate(@TempDir Path dir) throws Exception {
        Path src = instructModel(dir);
        Path out = dir.resolve("q2");
        CliSmokeTest.Run r = CliSmokeTest.run("init", "--arch", "qwen2", "--tokenizer", src.toString(), "--out",
                out.toString(), "--n-embd", "32", "--n-layer", "1", "--n-head", "4", "--n-kv-head", "2");
        assertThat(r.code()).as(r.err()).isZero();
        try (HfTokenizer tok = HfTokenizer.load(src.resolve("tokenizer.json"));
                NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.load(out, m)) {
            assertThat(lm.config().vocabSize()).isEqualTo(tok.vocabSize());
            assertThat(lm.config().modelType()).isEqualTo("qwen2");
        }
        Path messages = Files.writeString(dir.resolve("m.json"), "[{\"role\": \"user\", \"content\": \"Hi\"}]");
        CliSmokeTest.Run t = CliSmokeTest.run("chat-template", "--model", out.toString(), "--messages",
                messages.toString());
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.out()).contains("<|im_start|>user\nHi<|im_end|>");
        CliSmokeTest.Run both = CliSmokeTest.run("init", "--tokenizer", src.toString(), "--vocab-texts", "x.txt",
                "--out", dir.resolve("bad").toString());
        assertThat(both.code()).isNotZero();
        assertThat(both.err()).contains("exclude each other");
    }
}
