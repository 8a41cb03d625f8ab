package org.rlhf4j.datasets.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.GenerationSpanRenderer;
import org.rlhf4j.datasets.ChatExample;
import org.rlhf4j.datasets.ChatPair;
import org.rlhf4j.datasets.Conversation;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.source.EncodedRows;
import org.rlhf4j.datasets.task.ChatEncoder;
import org.rlhf4j.datasets.task.ChatRowException;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/** Rendering conversational rows through a chat template, the assistant-turn masks, and the task and file views. */
class ChatEncodingTest {

    static final ChatToys.CharTokenizer TOK = new ChatToys.CharTokenizer();
    static final TldrTask TASK = TldrTask.builder().setTokenizer(TOK).optChatRenderer(ChatToys.CHATML).build();
    static final ChatMessage SYS = ChatMessage.system("S");
    static final ChatMessage USER = ChatMessage.user("What color is the sky?");

    @TempDir Path dir;

    private static String text(int[] ids) {
        return TOK.decode(ids, false);
    }

    @Test
    void promptAndCompletionAreRenderedAsTrlApplyChatTemplate() {
        // trl data_utils.maybe_apply_chat_template docstring, in ChatML
        ChatExample e = new ChatExample("e", "all", List.of(USER), List.of(ChatMessage.assistant("It is blue.")));
        Encoded.Sft s = TASK.encodeSft(e);
        assertThat(s.query().text()).isEqualTo("<|im_start|>user\nWhat color is the sky?<|im_end|>\n"
                + "<|im_start|>assistant\n");
        assertThat(text(s.query().ids())).isEqualTo(s.query().text());
        // the rest of render(prompt + completion); the template's end of turn, no EOS appended
        assertThat(text(s.response())).isEqualTo("It is blue.<|im_end|>\n");
        assertThat(s.response()[s.response().length - 2]).isEqualTo(ChatToys.IM_END);
        assertThat(s.lossMask()).isNull();
        assertThat(s.lossTokens()).isEqualTo(s.response().length);
    }

    @Test
    void pairsRenderChosenAndRejectedAfterTheSamePrompt() {
        ChatPair p = new ChatPair("p", "all", List.of(SYS, USER), List.of(ChatMessage.assistant("blue")),
                List.of(ChatMessage.assistant("green")));
        Encoded.Pair e = TASK.encodePair(p);
        assertThat(e.query().text()).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWhat color is the"
                + " sky?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(text(e.chosen())).isEqualTo("blue<|im_end|>\n");
        assertThat(text(e.rejected())).isEqualTo("green<|im_end|>\n");
    }

    @Test
    void conversationMaskCoversExactlyTheAssistantTurns() {
        Conversation c = new Conversation("c", "all", List.of(SYS, ChatMessage.user("hi"),
                ChatMessage.assistant("yo"), ChatMessage.user("q"), ChatMessage.assistant("ok")));
        Encoded.Sft s = TASK.encodeSft(c);
        // query: system turn (11 tokens) + user turn (10) + generation prompt "<|im_start|>assistant\n" (11)
        assertThat(s.query().length()).isEqualTo(32);
        assertThat(text(s.query().ids())).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>"
                + "\n<|im_start|>assistant\n");
        assertThat(text(s.response())).isEqualTo("yo<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant"
                + "\nok<|im_end|>\n");
        int[] expected = new int[4 + 20 + 4];
        Arrays.fill(expected, 0, 4, 1); // y o <|im_end|> \n
        Arrays.fill(expected, 24, 28, 1); // o k <|im_end|> \n; between: "<|im_start|>user\nq<|im_end|>\n" (9) and
        // the second generation prompt (11), which the model is given, not trained on
        assertThat(s.lossMask()).containsExactly(expected);
        assertThat(s.lossTokens()).isEqualTo(8);
        // the query + response tokens are the whole conversation, tokenized
        int[] all = new int[s.query().length() + s.response().length];
        System.arraycopy(s.query().ids(), 0, all, 0, s.query().length());
        System.arraycopy(s.response(), 0, all, s.query().length(), s.response().length);
        assertThat(all).containsExactly(TOK.encode(ChatToys.CHATML.render(c.messages(), false)));
    }

    @Test
    void trailingNonAssistantTurnsAreKeptButMasked() {
        Conversation c = new Conversation("c", "all", List.of(ChatMessage.user("a"), ChatMessage.assistant("b"),
                ChatMessage.user("c")));
        Encoded.Sft s = TASK.encodeSft(c);
        assertThat(text(s.response())).isEqualTo("b<|im_end|>\n<|im_start|>user\nc<|im_end|>\n");
        assertThat(s.lossMask()).containsExactly(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void generationSpansOfTheRendererWinWhenItHasThem() {
        // TRL's training template for Qwen2.5 puts "{% generation %}" right after "<|im_start|>assistant", so its
        // blocks are "\n" + content + "<|im_end|>\n"
        GenerationSpanRenderer withBlocks = new GenerationSpanRenderer() {
            @Override
            public String render(List<ChatMessage> messages, boolean gen) {
                return ChatToys.CHATML.render(messages, gen);
            }

            @Override
            public Rendered renderWithGenerationSpans(List<ChatMessage> messages, boolean gen) {
                StringBuilder sb = new StringBuilder();
                List<GenerationSpanRenderer.Span> spans = new ArrayList<>();
                for (ChatMessage m : messages) {
                    sb.append("<|im_start|>").append(m.role());
                    int start = sb.length();
                    sb.append('\n').append(m.content()).append("<|im_end|>\n");
                    if (m.role().equals("assistant")) {
                        spans.add(new GenerationSpanRenderer.Span(start, sb.length()));
                    }
                }
                return new Rendered(sb.toString(), spans);
            }
        };
        TldrTask task = TldrTask.builder().setTokenizer(TOK).optChatRenderer(withBlocks).build();
        Encoded.Sft s = task.encodeSft(new Conversation("c", "all", List.of(ChatMessage.user("a"),
                ChatMessage.assistant("b"))));
        assertThat(text(s.query().ids())).isEqualTo("<|im_start|>user\na<|im_end|>\n<|im_start|>assistant");
        assertThat(text(s.response())).isEqualTo("\nb<|im_end|>\n");
        assertThat(s.lossMask()).containsExactly(1, 1, 1, 1);
    }

    @Test
    void aTemplateThatDoesNotPreservePrefixesIsAClearError() {
        // renders the final message differently (like templates that drop reasoning from earlier turns)
        ChatRenderer lastMarked = (messages, gen) -> {
            String s = ChatToys.CHATML.render(messages, gen);
            return gen ? s : s + "[end]";
        };
        TldrTask task = TldrTask.builder().setTokenizer(TOK).optChatRenderer(lastMarked).build();
        assertThatThrownBy(() -> task.encodeSft(new Conversation("c", "all", List.of(ChatMessage.user("a"),
                ChatMessage.assistant("b"), ChatMessage.user("c"), ChatMessage.assistant("d")))))
                .isInstanceOf(ChatRowException.class)
                .hasMessageStartingWith("field 'messages[1]': the chat template does not render the conversation up to"
                        + " this assistant message as a prefix of the whole conversation")
                .hasMessageContaining("they differ at character");
        // a generation prompt that the full rendering does not start with (DeepSeek-R1's '<think>' case)
        ChatRenderer thinking = (messages, gen) -> ChatToys.CHATML.render(messages, gen) + (gen ? "<think>\n" : "");
        TldrTask t2 = TldrTask.builder().setTokenizer(TOK).optChatRenderer(thinking).build();
        ChatRowException e = (ChatRowException) org.assertj.core.api.Assertions.catchThrowable(() -> t2.encodeSft(
                new ChatExample("e", "all", List.of(USER), List.of(ChatMessage.assistant("x")))));
        assertThat(e.field()).isEqualTo("completion");
        assertThat(e.detail()).startsWith("the chat template renders the prompt (with its generation prompt)"
                + " differently from the start of prompt + completion: they differ at character 72");
        // 72 = len("<|im_start|>user\n") 17 + 22 content + len("<|im_end|>\n") 11 + len("<|im_start|>assistant\n") 22
        assertThat(e.at("f.jsonl", 3).getMessage()).startsWith("f.jsonl:3: field 'completion': the chat template");
        assertThat(e.at("f.jsonl", 3).reason()).isEqualTo(SkipReason.CHAT_TEMPLATE);
    }

    @Test
    void templateErrorsAndAMissingTemplateAreRowErrors() {
        TldrTask failing = TldrTask.builder().setTokenizer(TOK).optChatRenderer(ChatToys.FAILING).build();
        assertThatThrownBy(() -> failing.encodePair(new ChatPair("p", "all", List.of(USER),
                List.of(ChatMessage.assistant("a")), List.of(ChatMessage.assistant("b")))))
                .isInstanceOf(ChatRowException.class)
                .hasMessage("field 'prompt': chat template: Conversation roles must alternate"
                        + " user/assistant/user/assistant/...");
        TldrTask plain = new TldrTask(TOK, TaskConfig.DEFAULT);
        assertThatThrownBy(() -> plain.encodePrompt(new PromptRow("p", "all", new Prompt.Chat(List.of(USER)), null)))
                .isInstanceOf(ChatRowException.class).hasMessageContaining("need the model's chat template");
        assertThatThrownBy(() -> TldrTask.builder().setTokenizer(TOK).optChatPrompts(true).build())
                .hasMessageContaining("chat template");
    }

    @Test
    void conversationalRowsAreNeverTruncatedButRejectedOverTheLimits() {
        TldrTask small = TldrTask.builder().setTokenizer(TOK).optChatRenderer(ChatToys.CHATML)
                .optConfig(TaskConfig.builder().setMaxQueryTokens(20).setMaxSftResponseTokens(5).build()).build();
        assertThatThrownBy(() -> small.encodeQuery(new Prompt.Chat(List.of(USER))))
                .isInstanceOf(TaskLimitException.class)
                .hasMessage("field 'prompt': query has 41 tokens, limit 20 (conversational prompts are not truncated)");
        // 41 = <|im_start|> + "user\n" (5) + 22 characters + <|im_end|> + "\n" + <|im_start|> + "assistant\n" (10)
        TaskLimitException e = org.assertj.core.api.Assertions.catchThrowableOfType(() -> small.encodeSft(
                new Conversation("c", "all", List.of(ChatMessage.user("a"), ChatMessage.assistant("bcdef")))),
                TaskLimitException.class);
        assertThat(e.reason()).isEqualTo(SkipReason.RESPONSE_TOO_LONG);
        assertThat(e.getMessage()).isEqualTo("field 'messages': response (from the first assistant turn on) has 7"
                + " tokens, limit 5");
    }

    @Test
    void promptSamplesComeFromEveryConversationalKind() {
        Encoded.PromptOnly fromPair = TASK.promptSample(new ChatPair("p", "all", List.of(USER),
                List.of(ChatMessage.assistant("blue")), List.of(ChatMessage.assistant("green"))));
        assertThat(text(fromPair.reference())).isEqualTo("blue<|im_end|>\n");
        Encoded.PromptOnly fromConv = TASK.promptSample(new Conversation("c", "all", List.of(USER,
                ChatMessage.assistant("blue"), ChatMessage.user("more"), ChatMessage.assistant("x"))));
        assertThat(fromConv.query().text()).isEqualTo("<|im_start|>user\nWhat color is the sky?<|im_end|>\n"
                + "<|im_start|>assistant\n");
        assertThat(text(fromConv.reference())).isEqualTo("blue<|im_end|>\n");
        Encoded.PromptOnly only = TASK.promptSample(new PromptRow("o", "all", new Prompt.Chat(List.of(USER)), null));
        assertThat(only.reference()).isNull();
        assertThat(only.query().text()).isEqualTo(fromConv.query().text());
        assertThatThrownBy(() -> TASK.pairSample(new Conversation("c", "all", List.of(USER,
                ChatMessage.assistant("x"))))).hasMessageContaining("expected preference rows");
    }

    @Test
    void chatOptionRendersTldrPromptsAsOneUserMessage() {
        TldrTask chat = TldrTask.builder().setTokenizer(TOK).optChatRenderer(ChatToys.CHATML).optChatPrompts(true)
                .optConfig(TaskConfig.builder().setMaxQueryTokens(80).build()).build();
        SftExample ex = new SftExample("s", "all", new Prompt.Reddit("x", "t", "p"), " short summary");
        Encoded.Sft s = chat.encodeSft(ex);
        assertThat(s.query().text()).isEqualTo("<|im_start|>user\nSUBREDDIT: r/x\n\nTITLE: t\n\nPOST: p\n\nTL;DR:"
                + "<|im_end|>\n<|im_start|>assistant\n");
        assertThat(text(s.response())).isEqualTo("short summary<|im_end|>\n");
        // truncation counts the rendered tokens: the post loses its last paragraph to fit 80
        Prompt.Reddit longPost = new Prompt.Reddit("x", "t", "first para\nsecond paragraph that is long");
        Encoded.PromptOnly q = chat.encodePrompt(new PromptRow("l", "all", longPost, null));
        assertThat(q.query().truncated()).isTrue();
        assertThat(q.query().text()).isEqualTo("<|im_start|>user\nSUBREDDIT: r/x\n\nTITLE: t\n\nPOST: first para"
                + "\n\nTL;DR:<|im_end|>\n<|im_start|>assistant\n");
        assertThat(q.query().length()).isLessThanOrEqualTo(80);
    }

    @Test
    void aFileFeedsEveryEncodedViewAndLocatesTemplateErrors() throws IOException {
        Path f = dir.resolve("chat.jsonl");
        String u = "{\"role\":\"user\",\"content\":\"hi\"}";
        String a = "{\"role\":\"assistant\",\"content\":\"yo\"}";
        String b = "{\"role\":\"assistant\",\"content\":\"no\"}";
        Files.writeString(f, "{\"messages\":[" + u + "," + a + "]}\n{\"messages\":[" + u + "," + b + "]}\n",
                StandardCharsets.UTF_8);
        DataSource src = DataSource.parse(f.toString());
        EncodedRows<Encoded.Sft> sft = src.sft(TASK, "train");
        assertThat(sft.kept()).isEqualTo(2);
        assertThat(sft.rows().get(0).lossMask()).containsExactly(1, 1, 1, 1);
        assertThat(src.prompts(TASK, "train").rows()).hasSize(2);
        assertThatThrownBy(() -> src.pairs(TASK, "train")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chat.jsonl:1: expected preference rows");
        assertThatThrownBy(() -> src.sftRows("train")).hasMessageContaining("conversational rows have no text");
        TldrTask failing = TldrTask.builder().setTokenizer(TOK).optChatRenderer(ChatToys.FAILING).build();
        assertThatThrownBy(() -> src.sft(failing, "train")).isInstanceOf(DataFormatException.class)
                .hasMessage("chat.jsonl:1: field 'messages': chat template: Conversation roles must alternate"
                        + " user/assistant/user/assistant/...");
        Path pairs = dir.resolve("pairs.jsonl");
        Files.writeString(pairs, "{\"chosen\":[" + u + "," + a + "],\"rejected\":[" + u + "," + b + "]}\n",
                StandardCharsets.UTF_8);
        DataSource ps = DataSource.parse(pairs.toString());
        assertThat(text(ps.pairs(TASK, "train").rows().get(0).rejected())).isEqualTo("no<|im_end|>\n");
        assertThat(text(ps.preferredPrompts(TASK, "train").rows().get(0).reference())).isEqualTo("yo<|im_end|>\n");
        assertThat(ps.rewardEvalSets(TASK).get("eval").kept()).isEqualTo(1);
    }

    @Test
    void bundledPreferredPromptsKeepTheChosenSummaryAsReference() throws IOException {
        try (org.rlhf4j.core.tokenizer.Tokenizer gpt2 = org.rlhf4j.core.tokenizer.Gpt2Tokenizers.bundled()) {
            TldrTask task = new TldrTask(gpt2, TaskConfig.DEFAULT);
            DataSource bundled = DataSource.parse("bundled");
            List<org.rlhf4j.datasets.PreferencePair> pairs = bundled.pairRows("train");
            List<Encoded.PromptOnly> prompts = bundled.preferredPrompts(task, "train").rows();
            assertThat(prompts).hasSize(pairs.size());
            for (int i = 0; i < pairs.size(); i += 10) {
                assertThat(prompts.get(i).reference())
                        .containsExactly(task.encodeResponse(pairs.get(i).chosen(), 1000, "chosen"));
                assertThat(prompts.get(i).query().ids()).containsExactly(task.encodeQuery(pairs.get(i).prompt()).ids());
            }
        }
    }

    @Test
    void encoderRendersPromptsWithTheGenerationPrompt() {
        ChatEncoder enc = TASK.chat().orElseThrow();
        assertThat(enc.renderPrompt(List.of(USER), "prompt")).endsWith("<|im_start|>assistant\n");
        assertThat(enc.renderCompletion(List.of(USER), enc.renderPrompt(List.of(USER), "prompt"),
                List.of(ChatMessage.assistant("x")), "completion")).isEqualTo("x<|im_end|>\n");
    }
}
