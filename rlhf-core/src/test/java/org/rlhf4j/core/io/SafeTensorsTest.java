package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.model.Gpt2;

class SafeTensorsTest {

    /** Writes a safetensors file by hand: header JSON, then raw little-endian bytes. */
    static Path handWritten(Path file, String headerJson, byte[] data) throws IOException {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(file, b.array());
        return file;
    }

    static byte[] le(short... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : v) {
            b.putShort(s);
        }
        return b.array();
    }

    @Test
    void roundTripKeepsValuesNamesAndShapes(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("a.weight", m.create(new float[] {1.5f, -2f, 3.25f, 0f, 1e-8f, -7f}, new Shape(2, 3)));
            t.put("b", m.create(new long[] {1, 2, 3}));
            t.put("scalarish", m.create(new float[] {42f}, new Shape(1)));
            Path f = dir.resolve("x.safetensors");
            SafeTensors.write(f, t, Map.of("note", "hi"));
            ByteBuffer len = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(len.getLong() % 8).isZero(); // header padded to 8 bytes, so the data buffer is aligned
            try (SafeTensors st = SafeTensors.open(f)) {
                assertThat(st.entries().keySet()).containsExactly("a.weight", "b", "scalarish");
                assertThat(st.metadata()).containsEntry("format", "pt").containsEntry("note", "hi");
                NDArray a = st.load("a.weight", m);
                assertThat(a.getShape()).isEqualTo(new Shape(2, 3));
                assertThat(a.toFloatArray()).containsExactly(1.5f, -2f, 3.25f, 0f, 1e-8f, -7f);
                assertThat(st.load("b", m).toLongArray()).containsExactly(1, 2, 3);
            }
        }
    }

    @Test
    void bf16AndF16AreWidenedToF32(@TempDir Path dir) throws Exception {
        // bf16: 1.0 = 0x3F80, -2.5 = 0xC020, 0.15625 = 0x3E20 ; f16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF,
        // smallest subnormal 2^-24 = 0x0001
        String header = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[6,14]}}";
        byte[] bf = le((short) 0x3F80, (short) 0xC020, (short) 0x3E20);
        byte[] hf = le((short) 0x3C00, (short) 0xC100, (short) 0x7BFF, (short) 0x0001);
        byte[] data = new byte[14];
        System.arraycopy(bf, 0, data, 0, 6);
        System.arraycopy(hf, 0, data, 6, 8);
        Path f = handWritten(dir.resolve("bf.safetensors"), header, data);
        try (NDManager m = NDManager.newBaseManager();
                SafeTensors st = SafeTensors.open(f)) {
            NDArray w = st.load("w", m);
            assertThat(w.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(w.toFloatArray()).containsExactly(1.0f, -2.5f, 0.15625f);
            NDArray h = st.load("h", m);
            assertThat(h.getShape()).isEqualTo(new Shape(2, 2));
            assertThat(h.toFloatArray()).containsExactly(1.0f, -2.5f, 65504f, (float) Math.pow(2, -24));
            // and it writes back as F32 that reads the same
            Path out = dir.resolve("f32.safetensors");
            SafeTensors.write(out, Map.of("w", w), Map.of());
            try (SafeTensors back = SafeTensors.open(out)) {
                assertThat(back.entries().get("w").dtype()).isEqualTo(TensorDType.F32);
                assertThat(back.load("w", m).toFloatArray()).containsExactly(1.0f, -2.5f, 0.15625f);
            }
        }
    }

    @Test
    void halfConversionCoversSpecialValues() {
        assertThat(SafeTensors.halfToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(SafeTensors.halfToFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(SafeTensors.halfToFloat((short) 0x7E00)).isNaN();
        assertThat(SafeTensors.halfToFloat((short) 0x8000)).isEqualTo(-0.0f);
        assertThat(SafeTensors.halfToFloat((short) 0x3555)).isEqualTo(0.333251953125f);
    }

    @Test
    void bf16GptCheckpointLoadsThroughTheModelLoader(@TempDir Path dir) throws Exception {
        // convert the parity fixture to BF16 by hand (truncate mantissas), load it, compare with truncated F32
        Path src = TestSupport.resource("parity/gpt2-tiny");
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        try (NDManager m = NDManager.newBaseManager();
                SafeTensors st = SafeTensors.open(src.resolve("model.safetensors"))) {
            StringBuilder header = new StringBuilder("{");
            java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
            long off = 0;
            Map<String, float[]> truncated = new LinkedHashMap<>();
            for (SafeTensors.Entry e : st.entries().values()) {
                float[] v = st.load(e.name(), m).toFloatArray();
                ByteBuffer bb = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                float[] tr = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    int bits = Float.floatToRawIntBits(v[i]);
                    bb.putShort((short) (bits >>> 16));
                    tr[i] = Float.intBitsToFloat(bits & 0xFFFF0000);
                }
                truncated.put(e.name(), tr);
                data.write(bb.array());
                if (header.length() > 1) {
                    header.append(',');
                }
                header.append('"').append(e.name()).append("\":{\"dtype\":\"BF16\",\"shape\":")
                        .append(java.util.Arrays.toString(e.shape().getShape()).replace(" ", ""))
                        .append(",\"data_offsets\":[").append(off).append(',').append(off + v.length * 2L).append("]}");
                off += v.length * 2L;
            }
            header.append('}');
            handWritten(dir.resolve("model.safetensors"), header.toString(), data.toByteArray());
            try (Gpt2 g = Gpt2.load(dir, m)) {
                for (Map.Entry<String, float[]> e : truncated.entrySet()) {
                    assertThat(g.weights().get(e.getKey()).toFloatArray()).as(e.getKey()).containsExactly(e.getValue());
                }
            }
        }
    }

    @Test
    void badFilesGiveErrorsNamingFileAndTensor(@TempDir Path dir) throws Exception {
        byte[] four = new byte[16];
        Path missing = dir.resolve("nope.safetensors");
        assertThatThrownBy(() -> SafeTensors.open(missing)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("nope.safetensors").hasMessageContaining("not found");

        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SafeTensors.open(tiny)).hasMessageContaining("tiny.safetensors").hasMessageContaining("truncated");

        Path bigHeader = dir.resolve("bighdr.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
        Files.write(bigHeader, b.array());
        assertThatThrownBy(() -> SafeTensors.open(bigHeader)).hasMessageContaining("header claims 1000 bytes");

        Path notJson = handWritten(dir.resolve("nj.safetensors"), "{\"a\": ", four);
        assertThatThrownBy(() -> SafeTensors.open(notJson)).hasMessageContaining("not valid JSON");

        Path lies = handWritten(dir.resolve("lies.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", four);
        assertThatThrownBy(() -> SafeTensors.open(lies)).hasMessageContaining("lies.safetensors")
                .hasMessageContaining("'w'").hasMessageContaining("needs 24");

        Path past = handWritten(dir.resolve("past.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", four);
        assertThatThrownBy(() -> SafeTensors.open(past)).hasMessageContaining("'w'").hasMessageContaining("truncated");

        Path dtype = handWritten(dir.resolve("dt.safetensors"),
                "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", four);
        assertThatThrownBy(() -> SafeTensors.open(dtype)).hasMessageContaining("'w'").hasMessageContaining("unsupported dtype 'F8_E4M3'");

        Path overlap = handWritten(dir.resolve("ov.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", four);
        assertThatThrownBy(() -> SafeTensors.open(overlap)).hasMessageContaining("overlap");

        Path noShape = handWritten(dir.resolve("ns.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", four);
        assertThatThrownBy(() -> SafeTensors.open(noShape)).hasMessageContaining("'a'").hasMessageContaining("'shape'");
    }

    @Test
    void bytesAfterTheLastTensorAreAnErrorNamingTheFile(@TempDir Path dir) throws Exception {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Path exact = handWritten(dir.resolve("exact.safetensors"), header, new byte[8]);
        try (SafeTensors st = SafeTensors.open(exact)) {
            assertThat(st.entries()).containsOnlyKeys("w");
        }
        Path trailing = handWritten(dir.resolve("trailing.safetensors"), header, new byte[11]);
        assertThatThrownBy(() -> SafeTensors.open(trailing)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("trailing.safetensors").hasMessageContaining("3 trailing bytes");
        // a file written by SafeTensors.write with something appended
        Path written = dir.resolve("written.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            SafeTensors.write(written, Map.of("x", m.create(new float[] {1, 2, 3})), Map.of());
        }
        Files.write(written, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
        assertThatThrownBy(() -> SafeTensors.open(written)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("written.safetensors").hasMessageContaining("1 trailing byte after");
        // no tensors at all, but data bytes
        Path empty = handWritten(dir.resolve("none.safetensors"), "{}", new byte[4]);
        assertThatThrownBy(() -> SafeTensors.open(empty)).hasMessageContaining("none.safetensors")
                .hasMessageContaining("4 trailing bytes");
    }

    @Test
    void modelLoaderRejectsMissingAndMisshapenTensors(@TempDir Path dir) throws Exception {
        Path src = TestSupport.resource("parity/gpt2-tiny");
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 g = Gpt2.load(src, m)) {
            // a missing tensor
            Path d1 = Files.createDirectories(dir.resolve("missing"));
            Files.copy(src.resolve("config.json"), d1.resolve("config.json"));
            Map<String, NDArray> w = new LinkedHashMap<>(g.weights().asMap());
            w.remove("transformer.h.1.mlp.c_fc.bias");
            SafeTensors.write(d1.resolve("model.safetensors"), w, Map.of());
            assertThatThrownBy(() -> Gpt2.load(d1, m)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("model.safetensors").hasMessageContaining("transformer.h.1.mlp.c_fc.bias");
            // a shape that disagrees with config.json
            Path d2 = Files.createDirectories(dir.resolve("shape"));
            Files.writeString(d2.resolve("config.json"),
                    Files.readString(src.resolve("config.json")).replace("\"n_embd\": 64", "\"n_embd\": 32"));
            Files.copy(src.resolve("model.safetensors"), d2.resolve("model.safetensors"));
            assertThatThrownBy(() -> Gpt2.load(d2, m)).hasMessageContaining("transformer.wte.weight")
                    .hasMessageContaining("config.json implies");
            // a truncated model file
            Path d3 = Files.createDirectories(dir.resolve("trunc"));
            Files.copy(src.resolve("config.json"), d3.resolve("config.json"));
            byte[] all = Files.readAllBytes(src.resolve("model.safetensors"));
            Files.write(d3.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length - 100));
            assertThatThrownBy(() -> Gpt2.load(d3, m)).hasMessageContaining("model.safetensors").hasMessageContaining("truncated");
            // no model file, bad config
            Path d4 = Files.createDirectories(dir.resolve("nofile"));
            Files.copy(src.resolve("config.json"), d4.resolve("config.json"));
            assertThatThrownBy(() -> Gpt2.load(d4, m)).hasMessageContaining("model.safetensors").hasMessageContaining("not found");
            Files.writeString(d4.resolve("config.json"), "{\"n_embd\": \"big\"}");
            assertThatThrownBy(() -> Gpt2.load(d4, m)).hasMessageContaining("config.json").hasMessageContaining("n_embd");
        }
    }
}
