package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.HalfFloats;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.io.SaveDtype;
import org.rlhf4j.core.io.SaveOptions;

/**
 * Checkpoints written by transformers 5.18 {@code save_pretrained} (scripts/checkpoint_fixture.py): sharded fp32, bf16
 * and fp16 directories of a tiny GPT-2 and GPT-NeoX load to the same (widened) weights and the same logits as
 * transformers computes; what rlhf4j writes in bf16/fp16 shards is what torch's narrowing gives.
 */
class CheckpointFixtureTest {

    /** Logit tolerance against transformers' float32 forward on the same weights. */
    static final double TOL = 1e-4;

    private static Path fixture(String arch, String variant) {
        return TestSupport.resource("checkpoint-fixtures/" + arch + "/" + variant);
    }

    private static JsonNode reference(String arch) throws Exception {
        return Json.MAPPER.readTree(Files.readString(TestSupport.resource("checkpoint-fixtures/" + arch + "/logits.json")));
    }

    private static long[] ids(JsonNode ref) {
        JsonNode row = ref.get("ids").get(0);
        long[] ids = new long[row.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = row.get(i).asLong();
        }
        return ids;
    }

    private static float[] logits(CausalLm model, long[] ids) {
        NDManager m = model.manager();
        try (NDManager s = m.newSubManager()) {
            NDArray x = s.create(ids).reshape(1, ids.length);
            return model.forward(x, s.ones(x.getShape(), DataType.INT64)).toFloatArray();
        }
    }

    /** Max |a - b| over the logits, with b the nested [1][T][V] JSON list. */
    private static double maxDiff(float[] got, JsonNode want) {
        double max = 0;
        int k = 0;
        for (JsonNode row : want.get(0)) {
            for (JsonNode v : row) {
                max = Math.max(max, Math.abs(got[k++] - v.asDouble()));
            }
        }
        assertThat(k).isEqualTo(got.length);
        return max;
    }

    private static void assertWeights(CausalLm actual, CausalLm expected, UnaryOperator<float[]> transform) {
        assertThat(actual.weights().names()).containsExactlyElementsOf(expected.weights().names());
        for (Map.Entry<String, NDArray> e : expected.weights().asMap().entrySet()) {
            assertThat(actual.weights().get(e.getKey()).toFloatArray()).as(e.getKey())
                    .containsExactly(transform.apply(e.getValue().toFloatArray()));
        }
    }

    static float[] viaBf16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = HalfFloats.fromBf16(HalfFloats.toBf16(v[i]));
        }
        return out;
    }

    static float[] viaF16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = HalfFloats.fromF16(HalfFloats.toF16(v[i]));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "gpt_neox"})
    void shardedLoadEqualsUnshardedBitForBit(String arch) throws Exception {
        JsonNode ref = reference(arch);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm single = CausalLm.load(fixture(arch, "fp32"), m);
                CausalLm sharded = CausalLm.load(fixture(arch, "fp32-sharded"), m)) {
            assertThat(Files.exists(fixture(arch, "fp32-sharded").resolve("model-00003-of-00003.safetensors"))).isTrue();
            assertThat(sharded.getClass()).isEqualTo(single.getClass());
            assertWeights(sharded, single, UnaryOperator.identity());
            float[] l = logits(single, ids(ref));
            assertThat(logits(sharded, ids(ref))).containsExactly(l);
            assertThat(maxDiff(l, ref.get("logits_fp32"))).isLessThan(TOL);
        }
    }

    @Test
    void shardedDirectoryBetweenASavesRenamesIsReadFromItsOldVersion(@TempDir Path tmp) throws Exception {
        // AtomicReads: NAME is missing while a save is between its renames; NAME.old is the complete version
        Path old = TestSupport.copyDir("checkpoint-fixtures/gpt_neox/bf16-sharded", tmp.resolve("model.old"));
        try (NDManager m = NDManager.newBaseManager();
                CausalLm viaOld = CausalLm.load(tmp.resolve("model"), m);
                CausalLm direct = CausalLm.load(old, m);
                ScalarModel rm = ScalarModel.load(tmp.resolve("model"), m, 5)) {
            assertWeights(viaOld, direct, UnaryOperator.identity());
            assertThat(rm.weights().get(GptNeoX.EMBED_IN).toFloatArray())
                    .containsExactly(direct.weights().get(GptNeoX.EMBED_IN).toFloatArray());
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("model.old"); // only read
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "gpt_neox"})
    void halfPrecisionCheckpointsLoadWidenedAndMatchTransformersLogits(String arch) throws Exception {
        JsonNode ref = reference(arch);
        long[] ids = ids(ref);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm fp32 = CausalLm.load(fixture(arch, "fp32"), m);
                CausalLm bf16 = CausalLm.load(fixture(arch, "bf16-sharded"), m);
                CausalLm fp16 = CausalLm.load(fixture(arch, "fp16-sharded"), m)) {
            try (ModelTensors t = ModelTensors.open(fixture(arch, "bf16-sharded"))) {
                assertThat(t.entries().values()).allSatisfy(e -> assertThat(e.dtype().name()).isEqualTo("BF16"));
            }
            // transformers narrowed the fp32 model with torch; the loaded weights are exactly those values widened,
            // which is also what rlhf4j's own narrowing gives
            assertWeights(bf16, fp32, CheckpointFixtureTest::viaBf16);
            assertWeights(fp16, fp32, CheckpointFixtureTest::viaF16);
            double dBf16 = maxDiff(logits(bf16, ids), ref.get("logits_bf16"));
            double dF16 = maxDiff(logits(fp16, ids), ref.get("logits_fp16"));
            System.out.printf("%s: max |logit diff| vs transformers: bf16 %.3g, fp16 %.3g%n", arch, dBf16, dF16);
            assertThat(dBf16).isLessThan(TOL);
            assertThat(dF16).isLessThan(TOL);
            // the widened models really differ from fp32 (the test could fail)
            assertThat(maxDiff(logits(bf16, ids), ref.get("logits_fp32"))).isGreaterThan(1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "gpt_neox"})
    void javaSavedHalfPrecisionShardsLoadAsTheNarrowedWeights(String arch, @TempDir Path tmp) throws Exception {
        JsonNode ref = reference(arch);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm fp32 = CausalLm.load(fixture(arch, "fp32"), m);
                CausalLm hfBf16 = CausalLm.load(fixture(arch, "bf16-sharded"), m)) {
            Path bf = Files.createDirectories(tmp.resolve("bf16"));
            fp32.save(bf, new SaveOptions(SaveDtype.BF16, SaveOptions.parseSize("8KB")));
            JsonNode config = Json.MAPPER.readTree(Files.readString(bf.resolve("config.json")));
            assertThat(config.get("dtype").asText()).isEqualTo("bfloat16");
            assertThat(config.get("torch_dtype").asText()).isEqualTo("bfloat16");
            try (ModelTensors t = ModelTensors.open(bf)) {
                assertThat(t.files().size()).isBetween(2, 4);
                long bytes = fp32.weights().count() * 2;
                assertThat(t.totalSize().getAsLong()).isEqualTo(bytes);
                JsonNode index = Json.MAPPER.readTree(Files.readString(bf.resolve(ModelTensors.INDEX_FILE)));
                assertThat(index.get("metadata").get("total_parameters").asLong()).isEqualTo(fp32.weights().count());
                assertThat(index.get("weight_map").size()).isEqualTo(fp32.weights().names().size());
                for (Path shard : t.files()) {
                    assertThat(Files.size(shard)).isLessThan(8_000 + 4_000); // tensor bytes <= 8 KB, plus header
                }
            }
            try (CausalLm back = CausalLm.load(bf, m)) {
                assertWeights(back, fp32, CheckpointFixtureTest::viaBf16);
                // Java's narrowing of real weights equals torch's (transformers' own bf16 checkpoint)
                assertWeights(back, hfBf16, UnaryOperator.identity());
                float[] l = logits(back, ids(ref));
                assertThat(maxDiff(l, ref.get("logits_bf16"))).isLessThan(TOL);
                export(arch, bf, ids(ref), l);
            }
            Path hf = Files.createDirectories(tmp.resolve("fp16"));
            fp32.save(hf, new SaveOptions(SaveDtype.FP16, 10_000));
            assertThat(Json.MAPPER.readTree(Files.readString(hf.resolve("config.json"))).get("dtype").asText())
                    .isEqualTo("float16");
            try (CausalLm back = CausalLm.load(hf, m)) {
                assertWeights(back, fp32, CheckpointFixtureTest::viaF16);
            }
            // the default save is one float32 file
            Path plain = Files.createDirectories(tmp.resolve("plain"));
            fp32.save(plain);
            try (Stream<Path> s = Files.list(plain)) {
                assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("model")).toList())
                        .containsExactly("model.safetensors");
            }
            assertThat(Json.MAPPER.readTree(Files.readString(plain.resolve("config.json"))).get("dtype").asText())
                    .isEqualTo("float32");
            try (SafeTensors st = SafeTensors.open(plain.resolve("model.safetensors"))) {
                assertThat(st.entries().values()).allSatisfy(e -> assertThat(e.dtype().name()).isEqualTo("F32"));
            }
        }
    }

    /**
     * With {@code -Drlhf4j.checkpointExport=DIR}, copies the bf16 shards rlhf4j wrote and its logits
     * ({@code java_logits.json}) to {@code DIR/ARCH} for {@code scripts/checkpoint_fixture.py verify}.
     */
    private static void export(String arch, Path dir, long[] ids, float[] logits) throws Exception {
        String target = System.getProperty("rlhf4j.checkpointExport");
        if (target == null) {
            return;
        }
        Path out = Files.createDirectories(Path.of(target, arch));
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.copy(p, out.resolve(p.getFileName().toString()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode idRow = o.putArray("ids").addArray();
        for (long id : ids) {
            idRow.add(id);
        }
        ArrayNode rows = o.putArray("logits").addArray();
        int v = logits.length / ids.length;
        for (int t = 0; t < ids.length; t++) {
            ArrayNode r = rows.addArray();
            for (int j = 0; j < v; j++) {
                r.add(logits[t * v + j]);
            }
        }
        Files.writeString(out.resolve("java_logits.json"), Json.compact(o));
    }

    @Test
    void generationConfigIsKeptThroughLoadCopyAndSave(@TempDir Path tmp) throws Exception {
        Path src = fixture("gpt2", "fp32");
        HfGenerationConfig want = HfGenerationConfig.read(src.resolve(HfGenerationConfig.FILE));
        assertThat(want.eosTokenIds()).containsExactly(95, 7);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(src, m);
                CausalLm copy = model.copy(m);
                ScalarModel rm = ScalarModel.load(src, m, 1)) {
            assertThat(model.generationConfig()).contains(want);
            assertThat(copy.generationConfig()).contains(want);
            Path out = Files.createDirectories(tmp.resolve("lm"));
            model.save(out, SaveOptions.of(SaveDtype.BF16));
            assertThat(HfGenerationConfig.read(out.resolve(HfGenerationConfig.FILE))).isEqualTo(want);
            // the file is written as transformers writes it: same fields, same values
            assertThat(Json.MAPPER.readTree(Files.readString(out.resolve(HfGenerationConfig.FILE))))
                    .isEqualTo(Json.MAPPER.readTree(Files.readString(src.resolve(HfGenerationConfig.FILE))));
            assertThat(rm.generationConfig()).contains(want);
            Path rmOut = Files.createDirectories(tmp.resolve("rm"));
            rm.save(rmOut);
            assertThat(HfGenerationConfig.read(rmOut.resolve(HfGenerationConfig.FILE))).isEqualTo(want);
            // a model created in Java has none and writes none
            try (Gpt2 fresh = Gpt2.random(Gpt2Config.of(16, 8, 8, 1, 2), m, 1)) {
                Path f = Files.createDirectories(tmp.resolve("fresh"));
                fresh.save(f);
                assertThat(fresh.generationConfig()).isEmpty();
                assertThat(Files.exists(f.resolve(HfGenerationConfig.FILE))).isFalse();
            }
        }
    }

    @Test
    void scalarModelLoadsAndSavesShardedHalfPrecision(@TempDir Path tmp) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.load(fixture("gpt_neox", "fp32"), m);
                ScalarModel rm = ScalarModel.load(fixture("gpt_neox", "bf16-sharded"), m, 3)) {
            for (String name : GptNeoX.expectedShapes((GptNeoXConfig) lm.config()).keySet()) {
                assertThat(rm.weights().get(name).toFloatArray()).as(name)
                        .containsExactly(viaBf16(lm.weights().get(name).toFloatArray()));
            }
            Path out = Files.createDirectories(tmp.resolve("rm"));
            rm.save(out, new SaveOptions(SaveDtype.FP16, 6_000));
            try (ModelTensors t = ModelTensors.open(out);
                    ScalarModel back = ScalarModel.load(out, m, 99)) {
                assertThat(t.sharded()).isTrue();
                assertThat(t.entries()).containsKeys(ScalarModel.HEAD_WEIGHT, ScalarModel.HEAD_BIAS);
                for (Map.Entry<String, NDArray> e : rm.weights().asMap().entrySet()) {
                    assertThat(back.weights().get(e.getKey()).toFloatArray()).as(e.getKey())
                            .containsExactly(viaF16(e.getValue().toFloatArray()));
                }
            }
            JsonNode config = Json.MAPPER.readTree(Files.readString(out.resolve("config.json")));
            assertThat(config.get("dtype").asText()).isEqualTo("float16");
            assertThat(config.get("architectures")).containsExactly(
                    Json.MAPPER.getNodeFactory().textNode("GPTNeoXForSequenceClassification"));
            assertThat(config.get("torch_dtype").asText()).isEqualTo("float16");
            // reading drops both dtype fields (they describe the file): the configuration round-trips unchanged
            assertThat(ModelConfig.read(out.resolve("config.json")).extra()).doesNotContainKeys("dtype", "torch_dtype");
        }
    }
}
