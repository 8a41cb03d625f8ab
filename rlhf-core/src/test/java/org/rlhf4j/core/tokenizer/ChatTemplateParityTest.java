package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;

/**
 * Every real chat template in {@code tokenizer-fixtures/chat.json} (Qwen2.5, Qwen3, SmolLM2, Llama 3 / 3.1 / 3.2,
 * TinyLlama/Zephyr, Mistral v0.2 and v1, and TRL's generation-tagged training variants) renders exactly what
 * transformers' {@code apply_chat_template} rendered for single-turn, multi-turn and system-prompt conversations, with
 * and without the generation prompt; {@code raise_exception} gives the template's own message; the
 * {@code {% generation %}} spans equal transformers' {@code generation_indices}; and the Jinja feature cases equal
 * jinja2 in transformers' environment. Written by {@code scripts/tokenizer_fixture.py}.
 */
class ChatTemplateParityTest {

    /**
     * The day scripts/tokenizer_fixture.py rendered the fixtures: templates that call {@code strftime_now} (TRL's
     * gpt-oss template: "Current date: 2026-11-27") must render that day, not today's.
     */
    static final java.time.Clock FIXTURE_DAY =
            java.time.Clock.fixed(java.time.Instant.parse("2026-11-27T12:00:00Z"), java.time.ZoneOffset.UTC);


    private static final Path FIXTURES = TestSupport.resource("tokenizer-fixtures");

    private static JsonNode chat() throws Exception {
        return Json.MAPPER.readTree(Files.readString(FIXTURES.resolve("chat.json")));
    }

    @TestFactory
    Stream<DynamicTest> realTemplatesMatchTransformers() throws Exception {
        JsonNode root = chat();
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            String name = c.get("template").asText() + " " + c.get("conversation").asText() + " agp="
                    + c.get("add_generation_prompt").asBoolean() + " " + c.get("extra");
            tests.add(DynamicTest.dynamicTest(name, () -> check(root, c)));
        }
        assertThat(tests).hasSizeGreaterThan(100);
        return tests.stream();
    }

    private static void check(JsonNode root, JsonNode c) throws Exception {
        JsonNode tpl = root.get("templates").get(c.get("template").asText());
        TokenizerConfig cfg = TokenizerConfig.read(FIXTURES.resolve(tpl.get("tokenizer").asText()));
        ChatTemplate t = ChatTemplate.builder().setTemplate(tpl.get("template").asText())
                .optSpecialTokens(cfg.specialTokens()).optClock(FIXTURE_DAY).build();
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : c.get("messages")) {
            messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        Map<String, Object> extra = Json.MAPPER.convertValue(c.get("extra"), LinkedHashMap.class);
        boolean agp = c.get("add_generation_prompt").asBoolean();
        if (c.has("error")) {
            assertThatThrownBy(() -> t.render(messages, agp, extra)).isInstanceOf(ChatTemplateException.class)
                    .hasMessage(c.get("error").asText());
            return;
        }
        String expected = c.get("expected").asText();
        GenerationSpanRenderer.Rendered r = t.renderWithGenerationSpans(messages, agp, extra);
        assertThat(r.text()).isEqualTo(expected);
        assertThat(t.render(messages, agp, extra)).isEqualTo(expected);
        if (c.has("spans")) {
            assertThat(t.hasGenerationBlocks()).isTrue();
            List<GenerationSpanRenderer.Span> want = new ArrayList<>();
            for (JsonNode s : c.get("spans")) { // Python code-point indices -> Java char indices
                want.add(new GenerationSpanRenderer.Span(expected.offsetByCodePoints(0, s.get(0).asInt()),
                        expected.offsetByCodePoints(0, s.get(1).asInt())));
            }
            assertThat(r.generation()).isEqualTo(want);
        } else {
            assertThat(r.generation()).isEmpty();
        }
    }

    /**
     * Every template TRL ships up to 8 kB plus GPT-OSS and Gemma 4 ({@code trl/chat_templates}: Cohere, DeepSeek,
     * Gemma, GLM, Idefics3, LFM2, Llama 3.x, LLaVA-NeXT, Phi-3, Qwen2.5/3 and VL variants, ... and their
     * generation-tagged training variants), three conversations, with and without the generation prompt:
     * {@code trl-templates.json}, rendered by transformers' {@code render_jinja_template} with assistant spans.
     */
    @TestFactory
    Stream<DynamicTest> trlTemplatesMatchTransformers() throws Exception {
        JsonNode root = Json.MAPPER.readTree(Files.readString(FIXTURES.resolve("trl-templates.json")));
        Map<String, String> tokens = Json.MAPPER.convertValue(root.get("special_tokens"), LinkedHashMap.class);
        List<DynamicTest> tests = new ArrayList<>();
        Map<String, ChatTemplate> parsed = new java.util.HashMap<>();
        for (JsonNode c : root.get("cases")) {
            String name = c.get("template").asText() + " " + c.get("conversation").asText() + " agp="
                    + c.get("add_generation_prompt").asBoolean();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                ChatTemplate t = parsed.computeIfAbsent(c.get("template").asText(), k -> ChatTemplate.builder()
                        .setTemplate(root.get("templates").get(k).asText()).optSpecialTokens(tokens)
                        .optClock(FIXTURE_DAY).build());
                List<ChatMessage> messages = new ArrayList<>();
                for (JsonNode m : root.get("conversations").get(c.get("conversation").asText())) {
                    messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
                }
                boolean agp = c.get("add_generation_prompt").asBoolean();
                if (c.has("error")) {
                    assertThatThrownBy(() -> t.render(messages, agp)).isInstanceOf(ChatTemplateException.class)
                            .hasMessage(c.get("error").asText());
                    return;
                }
                String expected = c.get("expected").asText();
                GenerationSpanRenderer.Rendered r = t.renderWithGenerationSpans(messages, agp);
                assertThat(r.text()).isEqualTo(expected);
                List<GenerationSpanRenderer.Span> want = new ArrayList<>();
                for (JsonNode s : c.get("spans")) {
                    want.add(new GenerationSpanRenderer.Span(expected.offsetByCodePoints(0, s.get(0).asInt()),
                            expected.offsetByCodePoints(0, s.get(1).asInt())));
                }
                assertThat(r.generation()).isEqualTo(want);
            }));
        }
        assertThat(tests).hasSizeGreaterThan(250);
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> jinjaFeaturesMatchJinja2() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode f : chat().get("features")) {
            tests.add(DynamicTest.dynamicTest(f.get("name").asText(), () -> {
                ChatTemplate t = ChatTemplate.builder().setTemplate(f.get("template").asText()).optClock(FIXTURE_DAY)
                        .build();
                Map<String, Object> ctx = Json.MAPPER.convertValue(f.get("context"), LinkedHashMap.class);
                List<ChatMessage> messages = new ArrayList<>();
                for (JsonNode m : f.get("messages")) {
                    messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
                }
                if (f.has("error")) {
                    assertThatThrownBy(() -> t.render(messages, false, ctx))
                            .isInstanceOf(ChatTemplateException.class).hasMessage(f.get("error").asText());
                } else {
                    assertThat(t.render(messages, false, ctx)).isEqualTo(f.get("expected").asText());
                }
            }));
        }
        return tests.stream();
    }
}
