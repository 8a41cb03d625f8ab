package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;

/**
 * Sharded and single-file weights: reading transformers' shards, the hub's split rule, the writer's files and index,
 * and every malformed-index error naming the file and field.
 */
class ModelTensorsTest {

    private static Map<String, NDArray> tensors(NDManager m, int... sizes) {
        Map<String, NDArray> t = new LinkedHashMap<>();
        int k = 0;
        for (int n : sizes) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) Math.sin(0.37 * (i + 1) * (k + 1)) * 3f;
            }
            t.put("t" + k, m.create(v, new Shape(n)));
            k++;
        }
        return t;
    }

    private static List<List<String>> names(List<Map<String, NDArray>> shards) {
        List<List<String>> out = new ArrayList<>();
        for (Map<String, NDArray> s : shards) {
            out.add(List.copyOf(s.keySet()));
        }
        return out;
    }

    @Test
    void splitFollowsHuggingfaceHub() {
        try (NDManager m = NDManager.newBaseManager()) {
            // huggingface_hub's docstring: sizes [6, 6, 2, 6, 2, 2] GB with a 10 GB limit -> [6], [6+2], [6+2+2]
            Map<String, NDArray> t = tensors(m, 6, 6, 2, 6, 2, 2);
            assertThat(names(ModelTensors.split(t, TensorDType.F32, 40)))
                    .containsExactly(List.of("t0"), List.of("t1", "t2"), List.of("t3", "t4", "t5"));
            // a tensor over the limit gets its own shard, placed before the shard being filled
            Map<String, NDArray> big = tensors(m, 2, 20, 2);
            assertThat(names(ModelTensors.split(big, TensorDType.F32, 40)))
                    .containsExactly(List.of("t1"), List.of("t0", "t2"));
            // sizes count the stored dtype: at bf16 the same tensors take half the bytes
            assertThat(names(ModelTensors.split(t, TensorDType.BF16, 20)))
                    .containsExactly(List.of("t0"), List.of("t1", "t2"), List.of("t3", "t4", "t5"));
            assertThat(ModelTensors.split(t, TensorDType.F32, 1000)).hasSize(1);
        }
    }

    @Test
    void readsTransformersShards() throws Exception {
        Path single = TestSupport.resource("checkpoint-fixtures/gpt2/fp32");
        Path sharded = TestSupport.resource("checkpoint-fixtures/gpt2/fp32-sharded");
        JsonNode index = Json.MAPPER.readTree(Files.readString(sharded.resolve(ModelTensors.INDEX_FILE)));
        try (NDManager m = NDManager.newBaseManager();
                ModelTensors a = ModelTensors.open(single);
                ModelTensors b = ModelTensors.open(sharded)) {
            assertThat(a.sharded()).isFalse();
            assertThat(a.source()).isEqualTo(single.resolve("model.safetensors"));
            assertThat(b.sharded()).isTrue();
            assertThat(b.source()).isEqualTo(sharded.resolve(ModelTensors.INDEX_FILE));
            assertThat(b.files()).extracting(p -> p.getFileName().toString()).containsExactly(
                    "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                    "model-00003-of-00003.safetensors");
            assertThat(b.entries().keySet()).containsExactlyInAnyOrderElementsOf(a.entries().keySet());
            assertThat(b.totalSize().getAsLong()).isEqualTo(index.get("metadata").get("total_size").asLong())
                    .isEqualTo(a.entries().values().stream().mapToLong(SafeTensors.Entry::byteLength).sum());
            String name = "transformer.h.1.mlp.c_fc.weight";
            assertThat(b.fileOf(name).getFileName().toString()).isEqualTo(index.get("weight_map").get(name).asText());
            assertThat(b.load(name, m).toFloatArray()).containsExactly(a.load(name, m).toFloatArray());
            assertThatThrownBy(() -> b.load("nope", m)).hasMessageContaining(ModelTensors.INDEX_FILE)
                    .hasMessageContaining("missing tensor 'nope'");
        }
    }

    @Test
    void writesShardsAndIndexAsTransformersAndReadsThemBack(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = tensors(m, 6, 6, 2, 6, 2, 2);
            t.put("ids", m.create(new long[] {3, 1, 4}));
            // bf16 sizes 12, 12, 4, 12, 4, 4 and the 24-byte int64 'ids' (over the limit: alone, before the open shard)
            List<Path> files = ModelTensors.write(dir, t, new SaveOptions(SaveDtype.BF16, 20));
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly(
                    "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                    "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                    "model.safetensors.index.json");
            String text = Files.readString(dir.resolve(ModelTensors.INDEX_FILE));
            // json.dumps(index, indent=2, sort_keys=True) + "\n"
            assertThat(text).startsWith("{\n  \"metadata\": {\n    \"total_parameters\": 27,\n    \"total_size\": 72\n  },"
                    + "\n  \"weight_map\": {\n    \"ids\": \"model-00003-of-00004.safetensors\",\n").endsWith("}\n");
            JsonNode index = Json.MAPPER.readTree(text);
            List<String> keys = new ArrayList<>();
            index.get("weight_map").fieldNames().forEachRemaining(keys::add);
            assertThat(keys).isSorted().hasSize(7);
            try (ModelTensors back = ModelTensors.open(dir)) {
                assertThat(back.totalSize().getAsLong()).isEqualTo(24 * 2 + 3 * 8);
                for (Map.Entry<String, NDArray> e : t.entrySet()) {
                    String shard = index.get("weight_map").get(e.getKey()).asText();
                    assertThat(back.fileOf(e.getKey()).getFileName().toString()).isEqualTo(shard);
                    NDArray got = back.load(e.getKey(), m);
                    if (e.getKey().equals("ids")) {
                        assertThat(back.entries().get("ids").dtype()).isEqualTo(TensorDType.I64);
                        assertThat(got.toLongArray()).containsExactly(3, 1, 4);
                        continue;
                    }
                    assertThat(back.entries().get(e.getKey()).dtype()).isEqualTo(TensorDType.BF16);
                    float[] want = e.getValue().toFloatArray();
                    for (int i = 0; i < want.length; i++) {
                        want[i] = HalfFloats.fromBf16(HalfFloats.toBf16(want[i]));
                    }
                    assertThat(got.toFloatArray()).containsExactly(want);
                }
                try (SafeTensors st = SafeTensors.open(back.files().get(0))) {
                    assertThat(st.metadata()).containsEntry("format", "pt");
                }
            }
            // saving unsharded into the same directory removes the shards and the index, and back
            ModelTensors.write(dir, t, SaveOptions.DEFAULTS);
            assertThat(listing(dir)).containsExactly("model.safetensors");
            ModelTensors.write(dir, t, new SaveOptions(SaveDtype.FP16, 30));
            assertThat(listing(dir)).doesNotContain("model.safetensors").contains(ModelTensors.INDEX_FILE);
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void refusesWeightsThatOverflowTheDtypeAndWritesNothing(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = tensors(m, 4, 4);
            t.put("big", m.create(new float[] {1f, -70000f}));
            assertThatThrownBy(() -> ModelTensors.write(dir, t, new SaveOptions(SaveDtype.FP16, 8)))
                    .isInstanceOf(NonFiniteTensorException.class).hasMessageContaining("'big'")
                    .hasMessageContaining("70000").hasMessageContaining("65504");
            assertThat(listing(dir)).isEmpty();
            // bf16 has float32's range: the same weights are fine
            ModelTensors.write(dir, t, new SaveOptions(SaveDtype.BF16, 8));
            assertThat(listing(dir)).hasSize(4);
        }
    }

    /** A directory of two hand-made shards and an index; each case breaks one thing. */
    private static Path shardedDir(Path dir, String index) throws Exception {
        Files.createDirectories(dir);
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> a = new LinkedHashMap<>();
            a.put("x", m.create(new float[] {1, 2}));
            a.put("y", m.create(new float[] {3}));
            SafeTensors.write(dir.resolve("model-00001-of-00002.safetensors"), a, Map.of());
            Map<String, NDArray> b = new LinkedHashMap<>();
            b.put("z", m.create(new float[] {4, 5, 6}));
            SafeTensors.write(dir.resolve("model-00002-of-00002.safetensors"), b, Map.of());
        }
        Files.writeString(dir.resolve(ModelTensors.INDEX_FILE), index);
        return dir;
    }

    private static final String GOOD = "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {"
            + "\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"model-00001-of-00002.safetensors\", "
            + "\"z\": \"model-00002-of-00002.safetensors\"}}";

    @Test
    void errorsNameTheIndexFileAndTheField(@TempDir Path tmp) throws Exception {
        Path ok = shardedDir(tmp.resolve("ok"), GOOD);
        try (NDManager m = NDManager.newBaseManager(); ModelTensors mt = ModelTensors.open(ok)) {
            assertThat(mt.load("z", m).toFloatArray()).containsExactly(4, 5, 6);
        }
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> ModelTensors.open(empty)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(empty.toString()).hasMessageContaining("model.safetensors")
                .hasMessageContaining("model.safetensors.index.json");
        expect(tmp, "notjson", "{\"weight_map\": ", "not valid JSON");
        expect(tmp, "nomap", "{\"metadata\": {}}", "missing field 'weight_map'");
        expect(tmp, "emptymap", "{\"weight_map\": {}}", "field 'weight_map' lists no tensors");
        expect(tmp, "badvalue", GOOD.replace("\"model-00002-of-00002.safetensors\"}", "2}"),
                "field 'weight_map.\"z\"' must be a shard file name");
        expect(tmp, "escape", GOOD.replace("\"z\": \"model-00002", "\"z\": \"../model-00002"),
                "field 'weight_map.\"z\"': shard '../model-00002-of-00002.safetensors' is not a file name");
        expect(tmp, "badsize", GOOD.replace("24", "-1"), "field 'metadata.total_size' must be a non-negative integer");
        expect(tmp, "badsize2", GOOD.replace("24", "\"24\""), "field 'metadata.total_size'");
        expect(tmp, "badmeta", GOOD.replace("{\"total_size\": 24}", "[]"), "field 'metadata' must be an object");
        expect(tmp, "missingshard", GOOD.replace("\"z\": \"model-00002-of-00002", "\"z\": \"model-00003-of-00003"),
                "shard file 'model-00003-of-00003.safetensors' (field 'weight_map', e.g. tensor 'z') not found");
        expect(tmp, "misplaced", GOOD.replace("\"y\": \"model-00001", "\"y\": \"model-00002"),
                "field 'weight_map' places tensor 'y' in shard 'model-00002-of-00002.safetensors', which lacks it"
                        + " (it is in 'model-00001-of-00002.safetensors')");
        expect(tmp, "absent", GOOD.replace("{\"x\"", "{\"w\": \"model-00001-of-00002.safetensors\", \"x\""),
                "places tensor 'w' in shard 'model-00001-of-00002.safetensors', which lacks it");
        // the same tensor in two shard files
        Path twice = shardedDir(tmp.resolve("twice"), GOOD);
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> b = new LinkedHashMap<>();
            b.put("z", m.create(new float[] {4, 5, 6}));
            b.put("x", m.create(new float[] {1, 2}));
            SafeTensors.write(twice.resolve("model-00002-of-00002.safetensors"), b, Map.of());
        }
        assertThatThrownBy(() -> ModelTensors.open(twice)).hasMessageContaining(twice.resolve(ModelTensors.INDEX_FILE).toString())
                .hasMessageContaining("tensor 'x' is in two shards, 'model-00001-of-00002.safetensors' and "
                        + "'model-00002-of-00002.safetensors'");
        // a damaged shard is reported by the safetensors reader, naming the shard
        Path damaged = shardedDir(tmp.resolve("damaged"), GOOD);
        Files.write(damaged.resolve("model-00002-of-00002.safetensors"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> ModelTensors.open(damaged))
                .hasMessageContaining("model-00002-of-00002.safetensors").hasMessageContaining("truncated");
    }

    private static void expect(Path tmp, String name, String index, String message) throws Exception {
        Path dir = shardedDir(tmp.resolve(name), index);
        assertThatThrownBy(() -> ModelTensors.open(dir)).as(name).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(dir.resolve(ModelTensors.INDEX_FILE).toString())
                .hasMessageContaining(message);
    }
}
