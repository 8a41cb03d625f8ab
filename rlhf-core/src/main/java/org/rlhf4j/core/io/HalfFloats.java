package org.rlhf4j.core.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Conversions between float32 and the two 16-bit float formats of checkpoints, done in Java on bits (DJL 0.36 aborts
 * the JVM on any bfloat16 NDArray, so bf16 never enters the engine).
 *
 * <ul>
 *   <li>bfloat16 is the high half of a float32 (1 sign, 8 exponent, 7 mantissa bits). Narrowing rounds to the
 *       nearest bf16, ties to the even mantissa, like torch's {@code .to(torch.bfloat16)}
 *       (c10/util/BFloat16.h {@code round_to_nearest_even}): finite values too large round to ±∞, subnormals stay
 *       subnormal (or become ±0), signed zeros and infinities are kept.</li>
 *   <li>float16 is IEEE binary16 (1, 5, 10 bits; largest finite 65504, smallest subnormal 2⁻²⁴). Narrowing rounds
 *       to nearest, ties to even, like torch's {@code .to(torch.float16)} (c10/util/Half.h
 *       {@code fp16_ieee_from_fp32_value}, F16C {@code vcvtps2ph} in the vectorised loop): |x| ≥ 65520 becomes ±∞,
 *       |x| below 2⁻¹⁴ becomes a subnormal or ±0.</li>
 *   <li>NaN stays NaN, with its sign: bf16 {@code 0x7FC0 | sign}, fp16 {@code 0x7E00 | sign} (torch itself is not
 *       consistent about NaN bits: its scalar bf16 path gives {@code 0x7FC0}, its vectorised one {@code 0xFFFF}).</li>
 * </ul>
 * Widening (bf16 or fp16 to float32) is exact.
 */
public final class HalfFloats {

    /** Smallest float32 magnitude (bits) that rounds to fp16 infinity: 65520 = 65504 + half an ulp (tie to even). */
    private static final int F16_OVERFLOW_BITS = 0x477FF000;

    /** Bits of 2⁻¹⁴, the smallest normal fp16. */
    private static final int F16_MIN_NORMAL_BITS = 0x38800000;

    private HalfFloats() {}

    /**
     * Narrows a float32 to bfloat16 bits, rounding to nearest, ties to even.
     *
     * <p>With u the float32 bits: bf16 = (u + 0x7FFF + ((u ≫ 16) &amp; 1)) ≫ 16, which adds just under half an ulp
     * of bf16 (2¹⁵ − 1), plus one when the kept lowest bit is odd, so exact ties go to the even neighbour and a carry
     * out of the mantissa moves to the next binade (the largest floats round to ∞).
     *
     * @param f the value
     * @return the bf16 bits
     */
    public static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((u >>> 16) & 0x8000 | 0x7FC0);
        }
        return (short) ((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16);
    }

    /**
     * Widens bfloat16 bits to float32 (exact).
     *
     * @param h the bf16 bits
     * @return the value
     */
    public static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /**
     * Narrows a float32 to IEEE binary16 bits, rounding to nearest, ties to even.
     *
     * <p>Normal results: rebias the exponent (127 → 15) and drop 13 mantissa bits with the same round-half-even
     * carry as {@link #toBf16}; subnormal results (|x| &lt; 2⁻¹⁴): the value is m·2⁻²⁴ with m = rint(|x|·2²⁴),
     * computed exactly in double (m = 1024 is the smallest normal, which the same bits encode).
     *
     * @param f the value
     * @return the fp16 bits
     */
    public static short toF16(float f) {
        int u = Float.floatToRawIntBits(f);
        int sign = (u >>> 16) & 0x8000;
        int abs = u & 0x7FFFFFFF;
        if (abs > 0x7F800000) {
            return (short) (sign | 0x7E00);
        }
        if (abs >= F16_OVERFLOW_BITS) {
            return (short) (sign | 0x7C00);
        }
        if (abs >= F16_MIN_NORMAL_BITS) {
            int rounded = (abs + 0xFFF + ((abs >>> 13) & 1)) >>> 13;
            return (short) (sign | (rounded - ((127 - 15) << 10)));
        }
        int m = (int) Math.rint((double) Float.intBitsToFloat(abs) * 0x1p24);
        return (short) (sign | m);
    }

    /**
     * Widens IEEE binary16 bits to float32 (exact, including subnormals, infinities and NaN).
     *
     * @param h the fp16 bits
     * @return the value
     */
    public static float fromF16(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            // zero or subnormal: mant · 2⁻²⁴
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * Narrows float32 values to bf16 or fp16.
     *
     * @param src float32 values (read from position to limit, native or any byte order set on the buffer)
     * @param target {@link TensorDType#BF16} or {@link TensorDType#F16}
     * @return a little-endian heap buffer of 2-byte values, positioned at 0
     * @throws IllegalArgumentException when the target is not a 16-bit float type
     */
    public static ByteBuffer narrow(FloatBuffer src, TensorDType target) {
        boolean bf16 = switch (target) {
            case BF16 -> true;
            case F16 -> false;
            default -> throw new IllegalArgumentException("narrowing target must be BF16 or F16, got " + target);
        };
        FloatBuffer in = src.duplicate();
        ByteBuffer out = ByteBuffer.allocate(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            float f = in.get();
            out.putShort(bf16 ? toBf16(f) : toF16(f));
        }
        out.flip();
        return out;
    }

    /**
     * Widens bf16 or fp16 values to float32.
     *
     * @param src little-endian 16-bit values (position to limit)
     * @param source {@link TensorDType#BF16} or {@link TensorDType#F16}
     * @return a direct native-order buffer of float32, positioned at 0
     * @throws IllegalArgumentException when the source is not a 16-bit float type
     */
    public static ByteBuffer widen(ByteBuffer src, TensorDType source) {
        boolean bf16 = switch (source) {
            case BF16 -> true;
            case F16 -> false;
            default -> throw new IllegalArgumentException("widening source must be BF16 or F16, got " + source);
        };
        int n = src.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        FloatBuffer fb = out.asFloatBuffer();
        ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            short h = in.getShort();
            fb.put(bf16 ? fromBf16(h) : fromF16(h));
        }
        return out;
    }
}
