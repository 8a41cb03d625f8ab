package org.rlhf4j.core.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;

/** Every dequantizer against gguf-py's numpy {@code gguf.dequantize}, bit for bit (fixture dequant.gguf). */
class GgmlDequantizerTest {

    @Test
    void everySupportedTypeIsBitExactWithGgufPy() throws Exception {
        Path dir = TestSupport.resource("gguf-fixtures");
        JsonNode expected = Json.MAPPER.readTree(dir.resolve("dequant.expected.json").toFile());
        int checked = 0;
        try (GgufFile f = GgufFile.open(dir.resolve("dequant.gguf"))) {
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                GgufFile.TensorInfo t = f.tensor(e.getKey());
                assertEquals(e.getValue().get("type").asText(), t.type().name());
                FloatBuffer got = f.dequantize(e.getKey());
                JsonNode bits = e.getValue().get("bits");
                assertEquals(bits.size(), got.remaining(), e.getKey());
                for (int i = 0; i < bits.size(); i++) {
                    int g = Float.floatToRawIntBits(got.get(i));
                    if (g != bits.get(i).asInt()) {
                        throw new AssertionError(e.getKey() + " element " + i + ": got " + got.get(i) + " expected "
                                + Float.intBitsToFloat(bits.get(i).asInt()));
                    }
                }
                checked++;
            }
        }
        assertEquals(8, checked); // F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K
    }

    @Test
    void handComputedQ80AndQ40() {
        // Q8_0 block: d = 0.5 (f16 0x3800), q = 0..31 -> w = q * 0.5
        ByteBuffer b = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0x3800);
        for (int i = 0; i < 32; i++) {
            b.put((byte) (i - 16));
        }
        b.flip();
        float[] w = GgmlDequantizer.dequantize(GgmlType.Q8_0, b, 32);
        assertEquals(-8f, w[0]);
        assertEquals(7.5f, w[31]);
        // Q4_0 block: d = 2 (0x4000); byte 0x9F -> low nibble 15 (weight 0), high nibble 9 (weight 16)
        ByteBuffer c = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        c.putShort((short) 0x4000);
        c.put((byte) 0x9F);
        c.position(0);
        float[] v = GgmlDequantizer.dequantize(GgmlType.Q4_0, c, 32);
        assertEquals(2f * (15 - 8), v[0]);
        assertEquals(2f * (9 - 8), v[16]);
        assertEquals(2f * (0 - 8), v[1]);
    }

    @Test
    void halfConversionIsExact() {
        assertEquals(0x1p-24f, GgmlDequantizer.halfToFloat(0x0001));
        assertEquals(65504f, GgmlDequantizer.halfToFloat(0x7BFF));
        assertEquals(-2f, GgmlDequantizer.halfToFloat(0xC000));
        assertTrue(Float.isInfinite(GgmlDequantizer.halfToFloat(0x7C00)));
        assertEquals(0x80000000, Float.floatToRawIntBits(GgmlDequantizer.halfToFloat(0x8000)));
    }

    @Test
    void unsupportedTypeIsRejectedByName() {
        ByteBuffer b = ByteBuffer.allocate(66);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> GgmlDequantizer.dequantize(GgmlType.IQ2_XXS, b, 256));
        assertTrue(e.getMessage().contains("IQ2_XXS") && e.getMessage().contains("Q6_K"), e.getMessage());
    }
}
