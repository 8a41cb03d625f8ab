package org.rlhf4j.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

class ProvenanceTest {

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** An HF-style download: config, tokenizer, weights and files that are not part of the model. */
    static Map<String, byte[]> hfModel(Path dir) throws Exception {
        Files.createDirectories(dir);
        byte[] weights = new byte[200_000]; // several read blocks
        new Random(7).nextBytes(weights);
        Map<String, byte[]> files = Map.of(
                "config.json", "{\"model_type\": \"gpt2\", \"n_layer\": 2}".getBytes(),
                "tokenizer.json", "{\"model\": {}}".getBytes(),
                "model.safetensors", weights,
                "pytorch_model.bin", new byte[] {1, 2, 3});
        for (var e : files.entrySet()) {
            Files.write(dir.resolve(e.getKey()), e.getValue());
        }
        Files.writeString(dir.resolve("README.md"), "not hashed");
        Files.write(dir.resolve("optimizer.safetensors"), new byte[] {9});
        return files;
    }

    @Test
    void aDirectoryWithoutProvenanceIsRecordedByTheHashesOfItsConfigAndWeights(@TempDir Path root) throws Exception {
        Path hf = root.resolve("gpt2");
        Map<String, byte[]> files = hfModel(hf);
        JsonNode lineage = Provenance.lineageOf(hf);
        assertThat(lineage.get("path").asText()).isEqualTo(hf.toAbsolutePath().normalize().toString());
        assertThat(lineage.get("model_type").asText()).isEqualTo("gpt2");
        JsonNode hashes = lineage.get("files");
        assertThat(hashes.size()).isEqualTo(files.size());
        for (var e : files.entrySet()) {
            assertThat(hashes.get(e.getKey()).asText()).as(e.getKey()).isEqualTo(sha256(e.getValue()));
        }
        assertThat(hashes.has("README.md")).isFalse();
        assertThat(hashes.has("optimizer.safetensors")).isFalse();
    }

    @Test
    void aDirectoryWithProvenanceIsNestedWholeAndLineageChains(@TempDir Path root) throws Exception {
        Path hf = root.resolve("gpt2");
        hfModel(hf);
        Path sft = Files.createDirectories(root.resolve("sft"));
        Provenance.capture("sft", 1, "bundled:tldr-samples:sft", Map.of("lr", 1e-4), "rlhf4j sft",
                Provenance.lineageOf(hf)).write(sft);
        JsonNode sftLineage = Provenance.lineageOf(sft);
        assertThat(sftLineage).isEqualTo(Json.MAPPER.readTree(Files.readString(sft.resolve("provenance.json"))));

        Path dpo = Files.createDirectories(root.resolve("dpo"));
        Provenance.capture("dpo", 2, "bundled:tldr-samples:comparisons", Map.of("beta", 0.1), null)
                .withParent(sftLineage).write(dpo);
        Provenance back = Provenance.read(dpo);
        assertThat(back.algorithm()).isEqualTo("dpo");
        assertThat(back.parent().get("algorithm").asText()).isEqualTo("sft");
        assertThat(back.parent().get("config").get("lr").asDouble()).isEqualTo(1e-4);
        assertThat(back.parent().get("parent").get("model_type").asText()).isEqualTo("gpt2");
        assertThat(back.parent().get("parent").get("files").get("model.safetensors").asText()).hasSize(64);
        // three generations: the DPO model's lineage holds the SFT model's, which holds the download's
        assertThat(Provenance.lineageOf(dpo).get("parent").get("parent").get("path").asText())
                .isEqualTo(hf.toAbsolutePath().normalize().toString());
    }

    @Test
    void lineageOfADirectoryMidSaveReadsTheLastCompleteVersion(@TempDir Path root) throws Exception {
        Path old = Files.createDirectories(root.resolve("model.old"));
        Provenance.capture("sft", 3, "d", Map.of(), null).write(old);
        Files.createDirectories(root.resolve("model.tmp-1"));
        assertThat(Provenance.lineageOf(root.resolve("model")).get("seed").asLong()).isEqualTo(3);
        assertThat(Provenance.read(root.resolve("model")).seed()).isEqualTo(3);
        assertThat(root.resolve("model")).doesNotExist(); // read only
    }

    @Test
    void lineageNeedsAModelDirectory(@TempDir Path root) throws Exception {
        assertThatThrownBy(() -> Provenance.lineageOf(root.resolve("missing")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("missing");
        Files.writeString(root.resolve("config.json"), "{}");
        assertThatThrownBy(() -> Provenance.lineageOf(root)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no model weights");
        Path bad = Files.createDirectories(root.resolve("bad"));
        Files.writeString(bad.resolve("provenance.json"), "{ nope");
        assertThatThrownBy(() -> Provenance.lineageOf(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("provenance.json");
    }

    @Test
    void randomInitRecordsConfigAndSeed() {
        JsonNode l = Provenance.randomInit(Map.of("n_layer", 2), 42);
        assertThat(l.get("source").asText()).isEqualTo("random_init");
        assertThat(l.get("seed").asLong()).isEqualTo(42);
        assertThat(l.get("config").get("n_layer").asInt()).isEqualTo(2);
    }

    @Test
    void provenanceWrittenBeforeLineageStillReads(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("provenance.json"), """
                {
                  "library" : "rlhf4j",
                  "version" : "0.1.0-SNAPSHOT",
                  "djlVersion" : "0.36.0",
                  "javaVersion" : "17.0.15",
                  "gitCommit" : "unknown",
                  "created" : "2026-11-01T10:00:00Z",
                  "algorithm" : "sft",
                  "seed" : 42,
                  "dataId" : "bundled:tldr-samples:sft",
                  "config" : { "lr" : 1.0E-4 },
                  "command" : "rlhf4j sft"
                }
                """);
        Provenance p = Provenance.read(dir);
        assertThat(p.algorithm()).isEqualTo("sft");
        assertThat(p.seed()).isEqualTo(42);
        assertThat(p.gitCommit()).isEqualTo("unknown");
        assertThat(p.gitDirty()).isNull();
        assertThat(p.parent()).isNull();
        // and a new run started from it nests it
        assertThat(Provenance.lineageOf(dir).get("command").asText()).isEqualTo("rlhf4j sft");
    }

    @Test
    void theCommitIsTheOneRecordedAtBuildTime() throws Exception {
        Properties v = new Properties();
        try (InputStream in = Provenance.class.getResourceAsStream("/org/rlhf4j/core/version.properties")) {
            v.load(in);
        }
        assertThat(v.getProperty("gitCommit")).matches("[0-9a-f]{40}|unknown");
        assertThat(v.getProperty("gitDirty")).matches("true|false|unknown");
        Provenance p = Provenance.capture("sft", 1, "d", Map.of(), null);
        assertThat(p.gitCommit()).isEqualTo(v.getProperty("gitCommit"));
        assertThat(p.gitDirty()).isEqualTo("unknown".equals(v.getProperty("gitDirty")) ? null
                : Boolean.valueOf(v.getProperty("gitDirty")));
        assertThat(p.parent()).isNull();
    }
}
