package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.ModelFormatException;

/** {@code generation_config.json}: fields, an int or list {@code eos_token_id}, round trips, errors naming the field. */
class HfGenerationConfigTest {

    private static Path file(Path dir, String name, String json) throws Exception {
        return Files.writeString(dir.resolve(name), json);
    }

    @Test
    void readsFieldsKeepsUnknownOnesAndRoundTrips(@TempDir Path dir) throws Exception {
        Path f = file(dir, "a.json", "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008, 128009],"
                + " \"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9, \"max_length\": 4096,"
                + " \"transformers_version\": \"4.45.0\", \"pad_token_id\": null, \"num_beams\": 1}");
        HfGenerationConfig g = HfGenerationConfig.read(f);
        assertThat(g.bosTokenId()).isEqualTo(128000);
        assertThat(g.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(g.padTokenId()).isNull();
        assertThat(g.sampling()).isTrue();
        assertThat(g.temperature()).isEqualTo(0.6);
        assertThat(g.topP()).isEqualTo(0.9);
        assertThat(g.topK()).isNull();
        assertThat(g.maxLength()).isEqualTo(4096);
        assertThat(g.extra()).containsOnlyKeys("transformers_version", "num_beams");
        Path out = dir.resolve("out.json");
        g.write(out);
        assertThat(HfGenerationConfig.read(out)).isEqualTo(g);
        String text = Files.readString(out);
        // keys sorted, 2-space indent, list one id per line, as transformers' to_json_string
        assertThat(text).startsWith("{\n  \"bos_token_id\": 128000,\n  \"do_sample\": true,\n  \"eos_token_id\": [\n"
                + "    128001,\n    128008,\n    128009\n  ],\n").endsWith("}\n");
        // a single id stays an integer
        HfGenerationConfig one = HfGenerationConfig.read(file(dir, "b.json", "{\"eos_token_id\": 50256}"));
        assertThat(one.eosTokenIds()).containsExactly(50256);
        assertThat(one.sampling()).isFalse();
        assertThat(one.toJson().get("eos_token_id").isInt()).isTrue();
        assertThat(HfGenerationConfig.readIfPresent(dir.resolve("nowhere"))).isEmpty();
    }

    @Test
    void errorsNameTheFileAndTheField(@TempDir Path dir) throws Exception {
        expect(dir, "{\"eos_token_id\": \"</s>\"}", "field 'eos_token_id' must be an integer or a list of integers");
        expect(dir, "{\"eos_token_id\": [2, \"x\"]}", "field 'eos_token_id[1]' must be an integer");
        expect(dir, "{\"eos_token_id\": [2, -1]}", "invalid eos_token_id: [2, -1]");
        expect(dir, "{\"temperature\": \"hot\"}", "field 'temperature' must be a number");
        expect(dir, "{\"top_p\": 1.5}", "invalid top_p (in [0, 1]): 1.5");
        expect(dir, "{\"top_k\": 2.5}", "field 'top_k' must be an integer");
        expect(dir, "{\"do_sample\": \"yes\"}", "field 'do_sample' must be true or false");
        expect(dir, "{\"max_new_tokens\": 0}", "invalid max_new_tokens (> 0): 0");
        expect(dir, "{\"repetition_penalty\": 0}", "invalid repetition_penalty (> 0): 0.0");
        expect(dir, "{\"pad_token_id\": -3}", "invalid pad_token_id: -3");
        expect(dir, "[1, 2]", "not a JSON object");
        expect(dir, "{oops", "not valid JSON");
        Path missing = dir.resolve("generation_config.json");
        assertThatThrownBy(() -> HfGenerationConfig.read(missing)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("file not found");
    }

    private static int n;

    private static void expect(Path dir, String json, String message) throws Exception {
        Path f = file(dir, "bad" + (n++) + ".json", json);
        assertThatThrownBy(() -> HfGenerationConfig.read(f)).as(json).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(f.toString()).hasMessageContaining(message);
    }

    @Test
    void constructorChecksValues() {
        assertThatThrownBy(() -> new HfGenerationConfig(null, null, null, null, null, null, null, null, null, null, null))
                .hasMessageContaining("eos_token_id");
        HfGenerationConfig empty =
                new HfGenerationConfig(null, List.of(), null, null, null, null, null, null, null, null, null);
        assertThat(empty.toJson().size()).isZero();
    }
}
