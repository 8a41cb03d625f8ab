package org.rlhf4j.datasets.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.datasets.ChatExample;
import org.rlhf4j.datasets.ChatPair;
import org.rlhf4j.datasets.Conversation;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.DataRow;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.io.JsonlReader;
import org.rlhf4j.datasets.io.ReadReport;

/** TRL's conversational row formats: detection, parsing and errors (file:line:field, lenient counts). */
class ConversationalFormatsTest {

    static final String U = "{\"role\":\"user\",\"content\":\"What color is the sky?\"}";
    static final String A_BLUE = "{\"role\":\"assistant\",\"content\":\"It is blue.\"}";
    static final String A_GREEN = "{\"role\":\"assistant\",\"content\":\"It is green.\"}";
    static final String SYS = "{\"role\":\"system\",\"content\":\"Be brief.\"}";

    @TempDir Path dir;

    private List<DataRow> read(String name, String... lines) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        List<DataRow> rows = new ArrayList<>();
        JsonlReader.builder().build().read(p, (row, ctx) -> rows.add(row));
        return rows;
    }

    private DataFormatException error(String line) throws IOException {
        Path p = dir.resolve("bad.jsonl");
        Files.writeString(p, line + "\n", StandardCharsets.UTF_8);
        try {
            JsonlReader.builder().build().read(p, (row, ctx) -> { });
        } catch (DataFormatException e) {
            return e;
        }
        throw new AssertionError("expected an error for " + line);
    }

    @Test
    void detectsTheFormatsFromTheKeysAsTrlDoes() throws IOException {
        assertThat(DataFormat.detect(com.fasterxml.jackson.databind.json.JsonMapper.builder().build()
                .readTree("{\"messages\":[]}"))).isEqualTo(DataFormat.MESSAGES);
        assertThat(DataFormat.detect(com.fasterxml.jackson.databind.json.JsonMapper.builder().build()
                .readTree("{\"chosen\":[],\"rejected\":[]}"))).isEqualTo(DataFormat.PAIRS);
        assertThat(DataFormat.parse("messages")).isEqualTo(DataFormat.MESSAGES);
    }

    @Test
    void languageModelingRowsBecomeConversations() throws IOException {
        List<DataRow> rows = read("lm.jsonl", "{\"messages\":[" + SYS + "," + U + "," + A_BLUE + "]}");
        Conversation c = (Conversation) rows.get(0);
        assertThat(c.messages()).containsExactly(ChatMessage.system("Be brief."),
                ChatMessage.user("What color is the sky?"), ChatMessage.assistant("It is blue."));
        assertThat(c.id()).isEqualTo("lm.jsonl:1");
        assertThat(c.firstAssistant()).isEqualTo(2);
        assertThat(((Prompt.Chat) c.prompt()).messages()).hasSize(2);
    }

    @Test
    void promptOnlyPromptCompletionAndExplicitPairs() throws IOException {
        List<DataRow> rows = read("mixed.jsonl",
                "{\"prompt\":[" + U + "]}");
        PromptRow p = (PromptRow) rows.get(0);
        assertThat(p.prompt()).isEqualTo(new Prompt.Chat(List.of(ChatMessage.user("What color is the sky?"))));
        assertThat(p.reference()).isNull();
        ChatExample e = (ChatExample) read("pc.jsonl", "{\"prompt\":[" + U + "],\"completion\":[" + A_BLUE + "]}")
                .get(0);
        assertThat(e.completion()).containsExactly(ChatMessage.assistant("It is blue."));
        ChatPair pair = (ChatPair) read("p.jsonl", "{\"id\":7,\"prompt\":[" + SYS + "," + U + "],\"chosen\":["
                + A_BLUE + "],\"rejected\":[" + A_GREEN + "]}").get(0);
        assertThat(pair.id()).isEqualTo("7");
        assertThat(pair.promptMessages()).hasSize(2);
        assertThat(pair.chosen()).containsExactly(ChatMessage.assistant("It is blue."));
        assertThat(pair.rejected()).containsExactly(ChatMessage.assistant("It is green."));
    }

    @Test
    void implicitPromptIsTheSharedLeadingMessagesAsTrlExtractPrompt() throws IOException {
        // trl data_utils.extract_prompt docstring example
        ChatPair p = (ChatPair) read("i.jsonl", "{\"chosen\":[" + U + "," + A_BLUE + "],\"rejected\":[" + U + ","
                + A_GREEN + "]}").get(0);
        assertThat(p.promptMessages()).containsExactly(ChatMessage.user("What color is the sky?"));
        assertThat(p.chosen()).containsExactly(ChatMessage.assistant("It is blue."));
        assertThat(p.rejected()).containsExactly(ChatMessage.assistant("It is green."));
        // multi-turn: the prompt runs up to the first differing message
        String u2 = "{\"role\":\"user\",\"content\":\"And at night?\"}";
        ChatPair q = (ChatPair) read("i2.jsonl", "{\"chosen\":[" + U + "," + A_BLUE + "," + u2 + "," + A_BLUE
                + "],\"rejected\":[" + U + "," + A_BLUE + "," + u2 + "," + A_GREEN + "]}").get(0);
        assertThat(q.promptMessages()).hasSize(3);
        assertThat(q.chosen()).containsExactly(ChatMessage.assistant("It is blue."));
        // TRL's quirk: when nothing differs within the shorter list, the prompt stops one message before its end
        ChatPair r = (ChatPair) read("i3.jsonl", "{\"chosen\":[" + U + "," + A_BLUE + "],\"rejected\":[" + U + ","
                + A_BLUE + "," + u2 + "]}").get(0);
        assertThat(r.promptMessages()).containsExactly(ChatMessage.user("What color is the sky?"));
        assertThat(r.chosen()).containsExactly(ChatMessage.assistant("It is blue."));
        assertThat(r.rejected()).hasSize(2);
    }

    @Test
    void standardRowsStillParseAsBefore() throws IOException {
        assertThat(read("s.jsonl", "{\"prompt\":\"Q\",\"completion\":\" A\"}").get(0)).isInstanceOf(SftExample.class);
        assertThat(read("s2.jsonl", "{\"prompt\":\"Q\",\"chosen\":\" A\",\"rejected\":\" B\"}").get(0))
                .isInstanceOf(PreferencePair.class);
        assertThat(((PromptRow) read("s3.jsonl", "{\"prompt\":\"Q\"}").get(0)).prompt()).isInstanceOf(Prompt.Raw.class);
    }

    @Test
    void badMessagesNameFileLineAndField() throws IOException {
        DataFormatException e = error("{\"messages\":\"hello\"}");
        assertThat(e).hasMessageStartingWith("bad.jsonl:1: field 'messages': expected a list of messages");
        assertThat(e.reason()).isEqualTo(SkipReason.WRONG_TYPE);
        assertThat(error("{\"messages\":[" + U + ",42]}"))
                .hasMessage("bad.jsonl:1: field 'messages[1]': expected a message object {\"role\": ..., \"content\":"
                        + " ...}, got a number (42)");
        assertThat(error("{\"messages\":[{\"content\":\"x\"}]}")).hasMessage("bad.jsonl:1: field 'messages[0].role':"
                + " missing");
        assertThat(error("{\"messages\":[" + U + ",{\"role\":\"assistant\",\"content\":3}]}"))
                .hasMessage("bad.jsonl:1: field 'messages[1].content': expected a string, got a number (3)");
        assertThat(error("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}]}"))
                .hasMessageContaining("field 'messages[0].content'").hasMessageContaining("multimodal");
        assertThat(error("{\"messages\":[]}")).hasMessage("bad.jsonl:1: field 'messages': no messages");
        DataFormatException none = error("{\"messages\":[" + U + "]}");
        assertThat(none).hasMessage("bad.jsonl:1: field 'messages': no assistant message: nothing to train on");
        assertThat(none.reason()).isEqualTo(SkipReason.EMPTY_FIELD);
        assertThat(error("{\"messages\":[" + U + ",{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{}]}]}"))
                .hasMessage("bad.jsonl:1: field 'messages[1].tool_calls': tool calls are not supported");
    }

    @Test
    void badPromptsAndPairsNameTheField() throws IOException {
        assertThat(error("{\"prompt\":[" + U + "," + A_BLUE + "]}")).hasMessageStartingWith(
                "bad.jsonl:1: field 'prompt[1].role': the prompt's last message is 'assistant'")
                .hasMessageContaining("continuing a final assistant message is not supported");
        assertThat(error("{\"prompt\":[" + SYS + "],\"completion\":[" + A_BLUE + "]}"))
                .hasMessageStartingWith("bad.jsonl:1: field 'prompt[0].role': the prompt's last message is 'system'");
        assertThat(error("{\"prompt\":[" + U + "],\"completion\":\"It is blue.\"}"))
                .hasMessageStartingWith("bad.jsonl:1: field 'completion': expected a list of messages");
        assertThat(error("{\"prompt\":[" + U + "],\"chosen\":[" + A_BLUE + "],\"rejected\":\"no\"}"))
                .hasMessageStartingWith("bad.jsonl:1: field 'rejected': expected a list of messages");
        assertThat(error("{\"chosen\":[" + A_BLUE + "],\"rejected\":[" + A_GREEN + "]}")).hasMessage(
                "bad.jsonl:1: field 'chosen': chosen and rejected share no leading message, so there is no implicit"
                        + " prompt; give a 'prompt' field");
        assertThat(error("{\"chosen\":\"a\",\"rejected\":\"b\"}")).hasMessageStartingWith(
                "bad.jsonl:1: field 'prompt': missing; an implicit prompt is extracted from conversational");
        assertThat(error("{\"prompt\":[" + U + "],\"completion\":[" + A_BLUE + "],\"label\":true}"))
                .hasMessageContaining("field 'label'").hasMessageContaining("KTO");
    }

    @Test
    void lenientModeSkipsAndCountsBadConversationalRows() throws IOException {
        Path p = dir.resolve("lenient.jsonl");
        Files.writeString(p, String.join("\n",
                "{\"messages\":[" + U + "," + A_BLUE + "]}",
                "{\"messages\":[" + U + ",{\"role\":\"assistant\"}]}",
                "{\"messages\":\"x\"}",
                "{\"messages\":[" + U + "]}",
                "{\"messages\":[" + U + "," + A_GREEN + "]}") + "\n", StandardCharsets.UTF_8);
        List<DataRow> rows = new ArrayList<>();
        ReadReport r = JsonlReader.builder().setLenient(true).build().read(p, (row, ctx) -> rows.add(row));
        assertThat(r.format()).isEqualTo(DataFormat.MESSAGES);
        assertThat(rows).hasSize(2);
        assertThat(r.skipped()).containsEntry("missing_field", 1L).containsEntry("wrong_type", 1L)
                .containsEntry("empty_field", 1L);
        assertThat(r.skipExamples().get(0)).isEqualTo("lenient.jsonl:2: field 'messages[1].content': missing");
    }

    @Test
    void conversationNeedsAnAssistantMessage() {
        assertThatThrownBy(() -> new Conversation("x", "all", List.of(ChatMessage.user("hi"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[user]");
    }
}
