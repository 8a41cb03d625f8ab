package org.rlhf4j.core.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Converts ggml tensor data to float32, bit-exact with gguf-py's numpy {@code gguf.quants.dequantize}.
 *
 * <p>Every formula is evaluated in float32 in the same order as gguf-py ({@code quants.py}, the
 * {@code dequantize_blocks} of each class), so results are identical bit for bit; Java never fuses a multiply and an
 * add. Block layouts (little-endian):
 * <ul>
 *   <li>Q8_0: {@code d:f16, q[32]:i8}; {@code w = q * d}.</li>
 *   <li>Q4_0: {@code d:f16, qs[16]}; weight {@code j < 16} is the low nibble of {@code qs[j]}, {@code j >= 16} the
 *       high nibble of {@code qs[j-16]}; {@code w = d * (nibble - 8)}.</li>
 *   <li>Q4_1: {@code d:f16, m:f16, qs[16]}; {@code w = d * nibble + m}.</li>
 *   <li>Q4_K: {@code d:f16, dmin:f16, scales[12], qs[128]}; 8 sub-blocks of 32 with 6-bit scale {@code sc} and min
 *       {@code m} unpacked as {@code Q4_K.get_scale_min}; sub-block {@code j} reads nibble {@code j % 2} of
 *       {@code qs[32 (j / 2) + l]}; {@code w = (d sc) q - (dmin m)}.</li>
 *   <li>Q5_K: {@code d, dmin, scales[12], qh[32], qs[128]}; as Q4_K plus bit {@code j} of {@code qh[l]} as the fifth
 *       bit of sub-block {@code j}.</li>
 *   <li>Q6_K: {@code ql[128], qh[64], scales[16]:i8, d:f16}; weight {@code e} has low nibble
 *       {@code ql[64 h + p] >> 4 s} ({@code h = e / 128}, {@code s = (e % 128) / 64}, {@code p = e % 64}) and high
 *       two bits {@code qh[32 h + l] >> 2 t} ({@code t = (e % 128) / 32}, {@code l = e % 32});
 *       {@code w = (d scales[e / 16]) (q - 32)}.</li>
 * </ul>
 */
public final class GgmlDequantizer {

    /** float32 value of every binary16 bit pattern (exact: every half is a float). */
    private static final float[] HALF = new float[65536];

    static {
        for (int i = 0; i < 65536; i++) {
            HALF[i] = halfToFloat(i);
        }
    }

    private GgmlDequantizer() {}

    /**
     * Dequantizes {@code elements} weights of {@code type} from {@code src} (read from its position, which is not
     * moved) into {@code dst} (written from its position, which advances).
     *
     * @param type the ggml type
     * @param src the raw tensor bytes, at least {@code type.byteSize(elements)} remaining
     * @param elements number of weights, a multiple of the block size
     * @param dst destination with at least {@code elements} remaining
     * @throws UnsupportedOperationException when the type is not in {@link GgmlType#SUPPORTED}
     * @throws IllegalArgumentException when the buffers are too small or {@code elements} is not a whole number of
     *     blocks
     */
    public static void dequantize(GgmlType type, ByteBuffer src, long elements, FloatBuffer dst) {
        if (!type.supported()) {
            throw new UnsupportedOperationException(
                    "ggml type " + type + " is not supported; supported: " + GgmlType.supportedNames());
        }
        long bytes = type.byteSize(elements);
        if (src.remaining() < bytes) {
            throw new IllegalArgumentException(
                    type + ": " + elements + " weights need " + bytes + " bytes, the source has " + src.remaining());
        }
        if (dst.remaining() < elements) {
            throw new IllegalArgumentException(
                    "destination has room for " + dst.remaining() + " floats, " + elements + " needed");
        }
        ByteBuffer in = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.toIntExact(elements);
        int blocks = n / type.blockSize();
        switch (type) {
            case F32 -> dst.put(in.asFloatBuffer().limit(n));
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(HALF[in.getShort(2 * i) & 0xFFFF]);
                }
            }
            case BF16 -> {
                // quants.py BF16.dequantize_blocks: int16 widened and shifted into the high half
                for (int i = 0; i < n; i++) {
                    dst.put(Float.intBitsToFloat((in.getShort(2 * i) & 0xFFFF) << 16));
                }
            }
            case Q8_0 -> q80(in, blocks, dst);
            case Q4_0 -> q40(in, blocks, dst);
            case Q4_1 -> q41(in, blocks, dst);
            case Q4_K -> qk(in, blocks, dst, false);
            case Q5_K -> qk(in, blocks, dst, true);
            case Q6_K -> q6k(in, blocks, dst);
            default -> throw new AssertionError(type);
        }
    }

    /**
     * Dequantizes a whole tensor into a new array.
     *
     * @param type the ggml type
     * @param src the raw bytes
     * @param elements number of weights
     * @return the float32 values
     */
    public static float[] dequantize(GgmlType type, ByteBuffer src, int elements) {
        float[] out = new float[elements];
        dequantize(type, src, elements, FloatBuffer.wrap(out));
        return out;
    }

    private static float half(ByteBuffer in, int pos) {
        return HALF[in.getShort(pos) & 0xFFFF];
    }

    // quants.py Q8_0.dequantize_blocks: x * d
    private static void q80(ByteBuffer in, int blocks, FloatBuffer dst) {
        float[] row = new float[32];
        for (int b = 0; b < blocks; b++) {
            int p = b * 34;
            float d = half(in, p);
            for (int j = 0; j < 32; j++) {
                row[j] = in.get(p + 2 + j) * d;
            }
            dst.put(row);
        }
    }

    // quants.py Q4_0.dequantize_blocks: d * (q - 8), low nibbles first
    private static void q40(ByteBuffer in, int blocks, FloatBuffer dst) {
        float[] row = new float[32];
        for (int b = 0; b < blocks; b++) {
            int p = b * 18;
            float d = half(in, p);
            for (int j = 0; j < 16; j++) {
                int q = in.get(p + 2 + j) & 0xFF;
                row[j] = d * (float) ((q & 0x0F) - 8);
                row[j + 16] = d * (float) ((q >>> 4) - 8);
            }
            dst.put(row);
        }
    }

    // quants.py Q4_1.dequantize_blocks: (d * q) + m
    private static void q41(ByteBuffer in, int blocks, FloatBuffer dst) {
        float[] row = new float[32];
        for (int b = 0; b < blocks; b++) {
            int p = b * 20;
            float d = half(in, p);
            float m = half(in, p + 2);
            for (int j = 0; j < 16; j++) {
                int q = in.get(p + 4 + j) & 0xFF;
                row[j] = d * (float) (q & 0x0F) + m;
                row[j + 16] = d * (float) (q >>> 4) + m;
            }
            dst.put(row);
        }
    }

    // Q4_K / Q5_K (quants.py Q4_K.get_scale_min, Q4_K and Q5_K dequantize_blocks)
    private static void qk(ByteBuffer in, int blocks, FloatBuffer dst, boolean fifthBit) {
        int typeSize = fifthBit ? 176 : 144;
        float[] row = new float[256];
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int b = 0; b < blocks; b++) {
            int p = b * typeSize;
            float d = half(in, p);
            float dmin = half(in, p + 2);
            int s = p + 4;
            for (int k = 0; k < 4; k++) {
                int dk = in.get(s + k) & 0xFF;
                int mk = in.get(s + 4 + k) & 0xFF;
                int mdk = in.get(s + 8 + k) & 0xFF;
                sc[k] = dk & 0x3F;
                mn[k] = mk & 0x3F;
                sc[k + 4] = (mdk & 0x0F) | ((dk >>> 2) & 0x30);
                mn[k + 4] = (mdk >>> 4) | ((mk >>> 2) & 0x30);
            }
            int qh = p + 16;
            int qs = fifthBit ? p + 48 : p + 16;
            for (int j = 0; j < 8; j++) {
                float dj = d * (float) sc[j];
                float mj = dmin * (float) mn[j];
                int base = qs + 32 * (j >>> 1);
                int shift = 4 * (j & 1);
                for (int l = 0; l < 32; l++) {
                    int q = ((in.get(base + l) & 0xFF) >>> shift) & 0x0F;
                    if (fifthBit) {
                        q |= (((in.get(qh + l) & 0xFF) >>> j) & 1) << 4;
                    }
                    row[32 * j + l] = dj * (float) q - mj;
                }
            }
            dst.put(row);
        }
    }

    // quants.py Q6_K.dequantize_blocks
    private static void q6k(ByteBuffer in, int blocks, FloatBuffer dst) {
        float[] row = new float[256];
        float[] ds = new float[16];
        for (int b = 0; b < blocks; b++) {
            int p = b * 210;
            int ql = p;
            int qh = p + 128;
            int scales = p + 192;
            float d = half(in, p + 208);
            for (int i = 0; i < 16; i++) {
                ds[i] = d * (float) in.get(scales + i);
            }
            for (int e = 0; e < 256; e++) {
                int h = e >>> 7;
                int r = e & 127;
                int lo = ((in.get(ql + 64 * h + (r & 63)) & 0xFF) >>> (4 * (r >>> 6))) & 0x0F;
                int hi = ((in.get(qh + 32 * h + (r & 31)) & 0xFF) >>> (2 * (r >>> 5))) & 0x03;
                row[e] = ds[e >>> 4] * (float) ((lo | (hi << 4)) - 32);
            }
            dst.put(row);
        }
    }

    /**
     * Converts one IEEE 754 binary16 value to float32 (exact, including subnormals, infinities and NaN payloads).
     *
     * @param bits the half bits in the low 16 bits
     * @return the float value
     */
    static float halfToFloat(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): mant * 2^-24, exact
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
