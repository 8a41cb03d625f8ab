package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/** Loading, errors, the clock of {@code strftime_now}, and generation spans, by hand-computed values. */
class ChatTemplateTest {

    private static final Path FIXTURES = TestSupport.resource("tokenizer-fixtures");

    /** 2024-07-26 12:00 UTC. */
    private static final Clock JULY_26 = Clock.fixed(Instant.parse("2024-07-26T12:00:00Z"), ZoneOffset.UTC);

    @Test
    void loadsTheTemplateAndSpecialTokensOfAModelDirectory() throws Exception {
        ChatTemplate qwen = ChatTemplate.load(FIXTURES.resolve("qwen-bpe"));
        assertThat(qwen.render(List.of(ChatMessage.user("Hi")), true)).isEqualTo(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        // a list of templates: "default" is TinyLlama/Zephyr's, with eos_token = </s> from the AddedToken object
        ChatTemplate zephyr = ChatTemplate.load(FIXTURES.resolve("llama2-sp"));
        assertThat(zephyr.render(List.of(ChatMessage.user("Hi")), true)).isEqualTo("<|user|>\nHi</s>\n<|assistant|>\n");
        ChatTemplate mistral = ChatTemplate.load(FIXTURES.resolve("llama2-sp"), "mistral");
        assertThat(mistral.render(List.of(ChatMessage.user("Hi")), false)).isEqualTo("<s>[INST] Hi [/INST]");
    }

    @Test
    void chatTemplateJinjaWinsOverTheConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"config\", \"eos_token\": \"E\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "file {{ eos_token }}\n");
        assertThat(ChatTemplate.load(dir).render(List.of(), false)).isEqualTo("file E");
    }

    @Test
    void aModelWithoutTemplateIsAClearError(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        assertThatThrownBy(() -> ChatTemplate.load(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer_config.json").hasMessageContaining("no chat template");
        assertThatThrownBy(() -> ChatTemplate.load(FIXTURES.resolve("llama2-sp"), "tool_use"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no chat template named 'tool_use'")
                .hasMessageContaining("[default, mistral]");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        assertThatThrownBy(() -> ChatTemplate.load(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("field 'chat_template' must be a string or a list");
    }

    @Test
    void raiseExceptionKeepsTheTemplatesMessage() throws Exception {
        ChatTemplate mistral = ChatTemplate.load(FIXTURES.resolve("llama2-sp"), "mistral");
        assertThatThrownBy(() -> mistral.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @Test
    void syntaxErrorsNameTheLine() {
        assertThatThrownBy(() -> ChatTemplate.builder().setTemplate("a\n{% if x %}\nb").build())
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("endif");
        assertThatThrownBy(() -> ChatTemplate.builder().setTemplate("a\n\n{{ x + }}").build())
                .isInstanceOf(ChatTemplateException.class).hasMessageStartingWith("line 3:");
        assertThatThrownBy(() -> ChatTemplate.builder().setTemplate("{% include 'x' %}").build())
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("unsupported statement");
        // jinja2's do extension is not loaded by transformers either
        assertThatThrownBy(() -> ChatTemplate.builder().setTemplate("{% do x.append(1) %}").build())
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("unsupported statement '{% do");
        assertThatThrownBy(() -> ChatTemplate.builder().setTemplate("{{ x | nosuch }}").build().render(List.of(), false))
                .isInstanceOf(ChatTemplateException.class).hasMessage("no filter named 'nosuch'");
    }

    @Test
    void strftimeNowReadsTheClock() throws Exception {
        ChatTemplate t = ChatTemplate.builder().setTemplate("{{ strftime_now('%d %b %Y|%-d %B %y|%H:%M:%S %p %a %A %j %%') }}")
                .optClock(JULY_26).build();
        assertThat(t.render(List.of(), false)).isEqualTo("26 Jul 2024|26 July 24|12:00:00 PM Fri Friday 208 %");
        assertThat(ChatTemplate.strftime("%d %b %Y", ZonedDateTime.parse("2025-01-05T00:00:00Z")))
                .isEqualTo("05 Jan 2025");
    }

    @Test
    void llama32TakesTheDateFromStrftimeNow() throws Exception {
        // transformers renders Llama 3.2 with strftime_now("%d %b %Y") when date_string is not passed; the fixture
        // passed date_string="26 Jul 2024", so a clock fixed at that day must give the same text
        JsonNode chat = Json.MAPPER.readTree(Files.readString(FIXTURES.resolve("chat.json")));
        String template = chat.get("templates").get("llama3_2").get("template").asText();
        assertThat(template).contains("strftime_now(\"%d %b %Y\")");
        for (JsonNode c : chat.get("cases")) {
            if (c.get("template").asText().equals("llama3_2") && c.has("expected")) {
                ChatTemplate t = ChatTemplate.builder().setTemplate(template).optClock(JULY_26)
                        .optSpecialTokens(Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>")).build();
                List<ChatMessage> msgs = Json.MAPPER.convertValue(c.get("messages"),
                        Json.MAPPER.getTypeFactory().constructCollectionType(List.class, ChatMessage.class));
                Map<String, Object> extra = Json.MAPPER.convertValue(c.get("extra"), java.util.LinkedHashMap.class);
                assertThat(extra.remove("date_string")).isEqualTo("26 Jul 2024");
                assertThat(t.render(msgs, c.get("add_generation_prompt").asBoolean(), extra))
                        .isEqualTo(c.get("expected").asText());
            }
        }
    }

    @Test
    void generationSpansAreJavaCharIndices() {
        ChatTemplate t = ChatTemplate.builder().setTemplate(
                "{% for m in messages %}{% if m.role == 'assistant' %}A:{% generation %}{{ m.content }}!"
                        + "{% endgeneration %}{% else %}{{ m.role }}:{{ m.content }}|{% endif %}{% endfor %}")
                .build();
        GenerationSpanRenderer.Rendered r = t.renderWithGenerationSpans(List.of(ChatMessage.user("😀"), ChatMessage.assistant("ok"),
                ChatMessage.user("x"), ChatMessage.assistant("yes")), false);
        assertThat(r.text()).isEqualTo("user:😀|A:ok!user:x|A:yes!");
        assertThat(r.generation()).containsExactly(new GenerationSpanRenderer.Span(10, 13), new GenerationSpanRenderer.Span(22, 26));
        assertThat(r.text().substring(10, 13)).isEqualTo("ok!"); // "user:" + 2 chars of the emoji + "|A:"
        assertThat(t.hasGenerationBlocks()).isTrue();
        assertThat(ChatTemplate.builder().setTemplate("x").build().hasGenerationBlocks()).isFalse();
    }

    @Test
    void extraVariablesOverrideSpecialTokensAndBuilderVariables() {
        ChatTemplate t = ChatTemplate.builder().setTemplate("{{ bos_token }}{{ greeting }}{{ flag is defined }}")
                .optSpecialTokens(Map.of("bos_token", "<s>")).optVariable("greeting", "hi").build();
        assertThat(t.render(List.of(), false)).isEqualTo("<s>hiFalse");
        assertThat(t.render(List.of(), false, Map.of("bos_token", "B", "flag", 1))).isEqualTo("BhiTrue");
    }
}
