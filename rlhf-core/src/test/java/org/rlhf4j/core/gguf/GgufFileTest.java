package org.rlhf4j.core.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.ModelFormatException;

/** The GGUF reader on hand-written files: every metadata type, alignment, and the named errors. */
class GgufFileTest {

    @TempDir Path tmp;

    /** Minimal GGUF writer for tests. */
    static final class W {
        final ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        W str(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(x.length);
            b.put(x);
            return this;
        }

        W header(int version, long tensors, long kvs) {
            b.put("GGUF".getBytes(StandardCharsets.US_ASCII));
            b.putInt(version);
            b.putLong(tensors);
            b.putLong(kvs);
            return this;
        }

        W tensor(String name, GgmlType type, long offset, long... dims) {
            str(name);
            b.putInt(dims.length);
            for (long d : dims) {
                b.putLong(d);
            }
            b.putInt(type.id());
            b.putLong(offset);
            return this;
        }

        W align(int a) {
            while (b.position() % a != 0) {
                b.put((byte) 0);
            }
            return this;
        }

        Path write(Path file) throws Exception {
            Files.write(file, Arrays.copyOf(b.array(), b.position()));
            return file;
        }
    }

    @Test
    void readsEveryMetadataTypeAndTensorData() throws Exception {
        W w = new W().header(3, 1, 15);
        w.str("u8").b.putInt(0).put((byte) 200);
        w.str("i8").b.putInt(1).put((byte) -3);
        w.str("u16").b.putInt(2).putShort((short) 60000);
        w.str("i16").b.putInt(3).putShort((short) -300);
        w.str("u32").b.putInt(4).putInt(-1);
        w.str("i32").b.putInt(5).putInt(-70000);
        w.str("f32").b.putInt(6).putFloat(1e-5f);
        w.str("bool").b.putInt(7).put((byte) 1);
        w.str("str").b.putInt(8);
        w.str("h\u00e9llo");
        w.str("arr").b.putInt(9).putInt(5).putLong(3).putInt(1).putInt(-2).putInt(3);
        w.str("sarr").b.putInt(9).putInt(8).putLong(2);
        w.str("a").str("bc");
        w.str("u64").b.putInt(10).putLong(1L << 40);
        w.str("i64").b.putInt(11).putLong(-5);
        w.str("f64").b.putInt(12).putDouble(0.1);
        w.str("general.alignment").b.putInt(4).putInt(64);
        w.tensor("t", GgmlType.F32, 0, 2, 3);
        w.align(64);
        for (int i = 0; i < 6; i++) {
            w.b.putFloat(i + 0.5f);
        }
        try (GgufFile f = GgufFile.open(w.write(tmp.resolve("all.gguf")))) {
            assertEquals(3, f.version());
            assertEquals(200L, f.metadata().get("u8"));
            assertEquals(-3L, f.metadata().get("i8"));
            assertEquals(60000L, f.metadata().get("u16"));
            assertEquals(-300L, f.metadata().get("i16"));
            assertEquals(4294967295L, f.integer("u32"));
            assertEquals(-70000L, f.integer("i32"));
            assertEquals(1e-5f, f.metadata().get("f32"));
            assertEquals(true, f.metadata().get("bool"));
            assertEquals("h\u00e9llo", f.string("str"));
            assertEquals(List.of(1L, -2L, 3L), f.array("arr"));
            assertEquals(List.of("a", "bc"), f.strings("sarr"));
            assertEquals(1L << 40, f.integer("u64"));
            assertEquals(-5L, f.integer("i64"));
            assertEquals(0.1, f.number("f64"));
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataStart() % 64);
            GgufFile.TensorInfo t = f.tensor("t");
            assertEquals(List.of(3L, 2L), Arrays.stream(t.torchShape()).boxed().toList());
            FloatBuffer v = f.dequantize("t");
            assertEquals(6, v.remaining());
            assertEquals(5.5f, v.get(5));
        }
    }

    private String error(W w, String name) throws Exception {
        Path p = w.write(tmp.resolve(name));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badMagic() throws Exception {
        W w = new W();
        w.b.put("GGML".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(0);
        String m = error(w, "magic.gguf");
        assertTrue(m.contains("bad magic 47 47 4d 4c at offset 0"), m);
    }

    @Test
    void unsupportedVersionAndBigEndian() throws Exception {
        String m = error(new W().header(1, 0, 0), "v1.gguf");
        assertTrue(m.contains("unsupported GGUF version 1") && m.contains("offset 4"), m);
        String be = error(new W().header(Integer.reverseBytes(3), 0, 0), "be.gguf");
        assertTrue(be.contains("big-endian"), be);
    }

    @Test
    void truncatedHeaderNamesTheField() throws Exception {
        W w = new W().header(3, 0, 1).str("general.architecture");
        w.b.putInt(8).putLong(100).put("ll".getBytes(StandardCharsets.US_ASCII));
        String m = error(w, "trunc.gguf");
        assertTrue(m.contains("general.architecture") && m.contains("runs past the end"), m);
        W w2 = new W().header(3, 0, 1).str("general.architecture");
        w2.b.put((byte) 8);
        String m2 = error(w2, "trunc2.gguf");
        assertTrue(m2.contains("truncated header") && m2.contains("general.architecture"), m2);
    }

    @Test
    void truncatedTensorData() throws Exception {
        W w = new W().header(3, 1, 0).tensor("blk.0.attn_q.weight", GgmlType.F32, 0, 32, 4).align(32);
        w.b.put(new byte[100]);
        String m = error(w, "data.gguf");
        assertTrue(m.contains("truncated: tensor 'blk.0.attn_q.weight'") && m.contains("96..608"), m);
    }

    @Test
    void overlappingTensors() throws Exception {
        W w = new W().header(3, 2, 0).tensor("a", GgmlType.F32, 0, 16).tensor("b", GgmlType.F32, 32, 16).align(32);
        w.b.put(new byte[128]);
        String m = error(w, "overlap.gguf");
        assertTrue(m.contains("'a'") && m.contains("'b'") && m.contains("overlap"), m);
    }

    @Test
    void misalignedOffsetAndBadShape() throws Exception {
        W w = new W().header(3, 1, 0).tensor("a", GgmlType.F32, 4, 16).align(32);
        w.b.put(new byte[128]);
        assertTrue(error(w, "align.gguf").contains("not a multiple of the alignment 32"));
        W q = new W().header(3, 1, 0).tensor("q", GgmlType.Q8_0, 0, 16).align(32);
        q.b.put(new byte[64]);
        assertTrue(error(q, "block.gguf").contains("not a multiple of the block size 32"));
    }

    @Test
    void unsupportedQuantTypeIsNamed() throws Exception {
        W w = new W().header(3, 1, 0).tensor("blk.0.attn_q.weight", GgmlType.IQ2_XXS, 0, 256).align(32);
        w.b.put(new byte[66]);
        try (GgufFile f = GgufFile.open(w.write(tmp.resolve("iq.gguf")))) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> f.dequantize("blk.0.attn_q.weight"));
            assertTrue(e.getMessage().contains("tensor blk.0.attn_q.weight has type IQ2_XXS; supported: F32, F16,"),
                    e.getMessage());
        }
    }

    @Test
    void missingKeyAndWrongType() throws Exception {
        W w = new W().header(2, 0, 1).str("k");
        w.b.putInt(4).putInt(7);
        try (GgufFile f = GgufFile.open(w.write(tmp.resolve("v2.gguf")))) {
            assertEquals(2, f.version());
            assertTrue(assertThrows(ModelFormatException.class, () -> f.string("k")).getMessage()
                    .contains("metadata 'k' is '7' (Long), expected a string"));
            assertTrue(assertThrows(ModelFormatException.class, () -> f.integer("nope")).getMessage()
                    .contains("missing metadata key 'nope'"));
        }
    }
}
