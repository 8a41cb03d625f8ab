package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;

/**
 * {@code rlhf4j chat-template} prints exactly what transformers' {@code apply_chat_template} gave (the rlhf-core
 * fixtures of {@code scripts/tokenizer_fixture.py}); a template's {@code raise_exception} is exit 1 with its message;
 * a bad messages file names the file, the index and the field.
 */
class ChatTemplateCommandTest {

    private static final Path FIXTURES =
            Path.of("..", "rlhf-core", "src", "test", "resources", "tokenizer-fixtures").toAbsolutePath().normalize();

    @Test
    void printsTheRenderedConversation(@TempDir Path dir) throws Exception {
        JsonNode chat = Json.MAPPER.readTree(Files.readString(FIXTURES.resolve("chat.json")));
        int checked = 0;
        for (JsonNode c : chat.get("cases")) {
            if (c.get("template").asText().equals("qwen2_5") && c.get("conversation").asText().equals("system")
                    && c.get("extra").isEmpty()) {
                Path msgs = dir.resolve("m.json");
                Files.writeString(msgs, Json.compact(c.get("messages")));
                CliSmokeTest.Run r = c.get("add_generation_prompt").asBoolean()
                        ? CliSmokeTest.run("chat-template", "--model", FIXTURES.resolve("qwen-bpe").toString(),
                                "--messages", msgs.toString(), "--add-generation-prompt")
                        : CliSmokeTest.run("chat-template", "--model", FIXTURES.resolve("qwen-bpe").toString(),
                                "--messages", msgs.toString());
                assertThat(r.code()).as(r.err()).isZero();
                assertThat(r.out()).isEqualTo(c.get("expected").asText());
                checked++;
            }
        }
        assertThat(checked).isEqualTo(2);
    }

    @Test
    void raiseExceptionIsANonZeroExitWithTheTemplatesMessage(@TempDir Path dir) throws Exception {
        Path msgs = dir.resolve("m.json");
        Files.writeString(msgs, "[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]");
        CliSmokeTest.Run r = CliSmokeTest.run("chat-template", "--model", FIXTURES.resolve("llama2-sp").toString(),
                "--template", "mistral", "--messages", msgs.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("error: chat template of ")
                .endsWith("Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @Test
    void badMessagesFilesNameTheFileIndexAndField(@TempDir Path dir) throws Exception {
        Path msgs = dir.resolve("m.json");
        Files.writeString(msgs, "[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\"}]");
        CliSmokeTest.Run r = CliSmokeTest.run("chat-template", "--model", FIXTURES.resolve("qwen-bpe").toString(),
                "--messages", msgs.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("error: " + msgs + ": messages[1]: missing field 'content'");
        Files.writeString(msgs, "{\"role\": \"user\"}");
        r = CliSmokeTest.run("chat-template", "--model", FIXTURES.resolve("qwen-bpe").toString(),
                "--messages", msgs.toString());
        assertThat(r.err()).contains(msgs.toString()).contains("must be a JSON list");
        Files.writeString(msgs, "[{\"role\": \"user\", \"content\": 3}]");
        r = CliSmokeTest.run("chat-template", "--model", FIXTURES.resolve("qwen-bpe").toString(),
                "--messages", msgs.toString());
        assertThat(r.err()).contains("messages[0]: field 'content' must be a string");
    }

    @Test
    void trainingCommandsGetTheModelsTemplate(@TempDir Path dir) throws Exception {
        java.util.Optional<org.rlhf4j.core.tokenizer.ChatRenderer> qwen = ChatTemplates.of(FIXTURES.resolve("qwen-bpe"));
        assertThat(qwen).get().isInstanceOf(org.rlhf4j.core.tokenizer.GenerationSpanRenderer.class);
        assertThat(qwen.get().render(java.util.List.of(org.rlhf4j.core.tokenizer.ChatMessage.user("Hi")), true))
                .startsWith("<|im_start|>system\nYou are Qwen").endsWith("<|im_start|>assistant\n");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        assertThat(ChatTemplates.of(dir)).isEmpty();
        assertThat(ChatTemplates.of(null)).isEmpty();
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ChatTemplates.of(dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokenizer_config.json");
    }

    @Test
    void aModelWithoutTemplateSaysSo(@TempDir Path dir) throws Exception {
        Path msgs = dir.resolve("m.json");
        Files.writeString(msgs, "[]");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
        CliSmokeTest.Run r = CliSmokeTest.run("chat-template", "--model", dir.toString(), "--messages", msgs.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("tokenizer_config.json: no chat template");
    }
}
