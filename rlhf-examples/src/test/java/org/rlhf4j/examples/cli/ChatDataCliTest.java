package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Conversational --data and --chat on the command line, before a model's chat template is wired in. */
class ChatDataCliTest {

    static final String PAIR = "{\"chosen\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\","
            + "\"content\":\"Hello.\"}],\"rejected\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\","
            + "\"content\":\"Go away.\"}]}";

    @Test
    void conversationalDataWithoutAChatTemplateFailsNamingTheModelAndTheLine(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("conv.jsonl");
        Files.writeString(data, PAIR + "\n", StandardCharsets.UTF_8);
        Path model = dir.resolve("m");
        assertThat(CliSmokeTest.run("init", "--out", model.toString(), "--n-embd", "32", "--n-layer", "1",
                "--n-head", "2", "--n-positions", "64").code()).isZero();
        CliSmokeTest.Run r = CliSmokeTest.run("dpo", "--model", model.toString(), "--data", data.toString(),
                "--eval-data", data.toString(), "--out", dir.resolve("dpo").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("conv.jsonl:1: field 'prompt': chat template: model " + model
                + " has no chat template");
    }

    @Test
    void chatOptionNeedsATemplate(@TempDir Path dir) {
        CliSmokeTest.Run r = CliSmokeTest.run("sft", "--chat", "--out", dir.resolve("sft").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--chat: a model trained from scratch (no --model) has no chat template");
    }
}
