package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.io.TensorDType;

/** {@code --save-dtype} / {@code --max-shard-size}: the final model is bf16 in shards, checkpoints stay fp32. */
class SaveDtypeCliTest {

    @Test
    void theFinalModelIsWrittenInTheChosenDtypeAndShardsWhileCheckpointsStayFp32(@TempDir Path dir) throws Exception {
        Path sft = dir.resolve("sft");
        CliSmokeTest.Run s = CliSmokeTest.run("sft", "--out", sft.toString(), "--epochs", "0.32", "--seed", "3",
                "--save-steps", "1", "--save-dtype", "bf16", "--max-shard-size", "400KB");
        assertThat(s.code()).as(s.err()).isZero();

        Path model = sft.resolve("model");
        assertThat(model.resolve("model.safetensors")).doesNotExist();
        JsonNode index = Json.MAPPER.readTree(model.resolve("model.safetensors.index.json").toFile());
        long shards = index.get("weight_map").properties().stream().map(e -> e.getValue().asText()).distinct().count();
        assertThat(shards).isGreaterThan(1);
        assertThat(Json.MAPPER.readTree(model.resolve("config.json").toFile()).get("dtype").asText())
                .isEqualTo("bfloat16");
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                try (SafeTensors st = SafeTensors.open(f)) {
                    assertThat(st.entries().values()).allMatch(e -> e.dtype() == TensorDType.BF16);
                }
            }
        }
        try (SafeTensors ckpt = SafeTensors.open(sft.resolve("checkpoint-1/model.safetensors"))) {
            assertThat(ckpt.entries().values()).allMatch(e -> e.dtype() == TensorDType.F32);
        }

        // the bf16 model loads wherever a model is read
        CliSmokeTest.Run score = CliSmokeTest.run("score", "--model", model.toString(), "--text", "Hello there.");
        assertThat(score.code()).as(score.err()).isZero();

        CliSmokeTest.Run bad = CliSmokeTest.run("sft", "--out", dir.resolve("x").toString(), "--save-dtype", "int8");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("int8").contains("bf16").contains("fp16");
    }
}
