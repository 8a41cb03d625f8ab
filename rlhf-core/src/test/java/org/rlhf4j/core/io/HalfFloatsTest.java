package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.TestSupport;

/**
 * bf16/fp16 narrowing equals torch's {@code .to(torch.bfloat16)} / {@code .to(torch.float16)} bit for bit on the
 * edge vector of {@code checkpoint-fixtures/edge-values.json} (scripts/checkpoint_fixture.py, torch 2.13), and
 * widening is exact.
 */
class HalfFloatsTest {

    @Test
    void narrowingEqualsTorchBitsOnTheEdgeVector() throws Exception {
        JsonNode ref = Json.MAPPER.readTree(Files.readString(TestSupport.resource("checkpoint-fixtures/edge-values.json")));
        JsonNode f32 = ref.get("f32");
        int nans = 0;
        for (int i = 0; i < f32.size(); i++) {
            float x = Float.intBitsToFloat((int) f32.get(i).asLong());
            short bf = HalfFloats.toBf16(x);
            short hf = HalfFloats.toF16(x);
            if (Float.isNaN(x)) {
                // torch's own NaN bits depend on the code path (0x7FC0 scalar, 0xFFFF vectorised): NaN must stay NaN
                assertThat(HalfFloats.fromBf16(bf)).isNaN();
                assertThat(HalfFloats.fromF16(hf)).isNaN();
                assertThat(Float.isNaN(HalfFloats.fromBf16((short) ref.get("bf16").get(i).asInt()))).isTrue();
                nans++;
                continue;
            }
            assertThat(bf & 0xFFFF).as("bf16 of %s (0x%08x)", x, f32.get(i).asLong())
                    .isEqualTo(ref.get("bf16").get(i).asInt());
            assertThat(hf & 0xFFFF).as("fp16 of %s (0x%08x)", x, f32.get(i).asLong())
                    .isEqualTo(ref.get("f16").get(i).asInt());
            if (i < 64) {
                assertThat(bf & 0xFFFF).isEqualTo(ref.get("bf16_scalar_first64").get(i).asInt());
                assertThat(hf & 0xFFFF).isEqualTo(ref.get("f16_scalar_first64").get(i).asInt());
            }
        }
        assertThat(f32.size()).isGreaterThan(700);
        assertThat(nans).isGreaterThanOrEqualTo(5);
    }

    @Test
    void handComputedRoundingCases() {
        // bf16 keeps 7 mantissa bits: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 -> even (1); 1 + 3·2^-8 -> 1 + 2^-6
        assertThat(HalfFloats.toBf16(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.toBf16(1f + 3 * 0x1p-8f)).isEqualTo((short) 0x3F82);
        assertThat(HalfFloats.toBf16(-0f)).isEqualTo((short) 0x8000);
        assertThat(HalfFloats.toBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // rounds up to infinity
        assertThat(HalfFloats.toBf16(Float.MIN_VALUE)).isEqualTo((short) 0x0000); // 2^-149: below half a bf16 ulp
        assertThat(HalfFloats.toBf16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
        assertThat(HalfFloats.toBf16(Float.intBitsToFloat(0xFFC00001))).isEqualTo((short) 0xFFC0);
        // fp16: largest finite 65504; 65520 is the tie between 65504 (odd mantissa) and 65536 = infinity
        assertThat(HalfFloats.toF16(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.toF16(65519.996f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.toF16(65520f)).isEqualTo((short) 0x7C00);
        assertThat(HalfFloats.toF16(-1e6f)).isEqualTo((short) 0xFC00);
        // subnormals: 2^-24 is the smallest; 2^-25 ties to 0 (even), 3·2^-25 ties to 2·2^-24
        assertThat(HalfFloats.toF16(0x1p-24f)).isEqualTo((short) 0x0001);
        assertThat(HalfFloats.toF16(0x1p-25f)).isEqualTo((short) 0x0000);
        assertThat(HalfFloats.toF16(3 * 0x1p-25f)).isEqualTo((short) 0x0002);
        assertThat(HalfFloats.toF16(-0x1p-26f)).isEqualTo((short) 0x8000);
        // just under 2^-14 rounds up to the smallest normal
        assertThat(HalfFloats.toF16(0x1p-14f * (1 - 0x1p-12f))).isEqualTo((short) 0x0400);
        assertThat(HalfFloats.toF16(1f / 3)).isEqualTo((short) 0x3555);
        assertThat(HalfFloats.toF16(Float.NaN)).isEqualTo((short) 0x7E00);
    }

    @Test
    void everyHalfValueSurvivesWideningAndNarrowing() {
        for (int h = 0; h < 0x10000; h++) {
            float b = HalfFloats.fromBf16((short) h);
            float f = HalfFloats.fromF16((short) h);
            if (Float.isNaN(b)) {
                assertThat(HalfFloats.toBf16(b) & 0x7FC0).isEqualTo(0x7FC0);
            } else {
                assertThat(HalfFloats.toBf16(b) & 0xFFFF).as("bf16 0x%04x", h).isEqualTo(h);
            }
            if (Float.isNaN(f)) {
                assertThat(HalfFloats.fromF16(HalfFloats.toF16(f))).isNaN();
            } else {
                assertThat(HalfFloats.toF16(f) & 0xFFFF).as("fp16 0x%04x", h).isEqualTo(h);
            }
        }
    }

    @Test
    void bufferConversionsRoundTrip() {
        float[] v = {1.5f, -2.25f, 0.1f, 65504f, 0x1p-24f};
        ByteBuffer bf = HalfFloats.narrow(FloatBuffer.wrap(v), TensorDType.BF16);
        ByteBuffer hf = HalfFloats.narrow(FloatBuffer.wrap(v), TensorDType.F16);
        assertThat(bf.remaining()).isEqualTo(10);
        assertThat(bf.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer wb = HalfFloats.widen(bf, TensorDType.BF16).asFloatBuffer();
        FloatBuffer wh = HalfFloats.widen(hf, TensorDType.F16).asFloatBuffer();
        for (int i = 0; i < v.length; i++) {
            assertThat(wb.get(i)).isEqualTo(HalfFloats.fromBf16(HalfFloats.toBf16(v[i])));
            assertThat(wh.get(i)).isEqualTo(HalfFloats.fromF16(HalfFloats.toF16(v[i])));
        }
        assertThat(wh.get(0)).isEqualTo(1.5f);
        assertThat(wb.get(2)).isEqualTo(0.10009765625f);
        assertThatThrownBy(() -> HalfFloats.narrow(FloatBuffer.wrap(v), TensorDType.F32))
                .hasMessageContaining("BF16 or F16").hasMessageContaining("F32");
    }
}
