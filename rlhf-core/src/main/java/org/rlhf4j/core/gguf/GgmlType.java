package org.rlhf4j.core.gguf;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The ggml tensor types a GGUF file can declare, with their block geometry.
 *
 * <p>Ids, block sizes and bytes per block follow gguf-py {@code constants.py} ({@code GGMLQuantizationType},
 * {@code GGML_QUANT_SIZES}); a tensor of {@code n} elements occupies {@code n / blockSize * typeSize} bytes. Only the
 * types in {@link #SUPPORTED} can be dequantized by {@link GgmlDequantizer}; the others are known by name so that an
 * error can say which type a file uses.
 */
public enum GgmlType {
    /** IEEE float32. */
    F32(0, 1, 4),
    /** IEEE float16. */
    F16(1, 1, 2),
    /** 32 weights: f16 scale d, 16 bytes of 4-bit q; w = d (q - 8). */
    Q4_0(2, 32, 18),
    /** 32 weights: f16 scale d, f16 min m, 16 bytes of 4-bit q; w = d q + m. */
    Q4_1(3, 32, 20),
    /** 5-bit legacy quant (not supported). */
    Q5_0(6, 32, 22),
    /** 5-bit legacy quant with min (not supported). */
    Q5_1(7, 32, 24),
    /** 32 weights: f16 scale d, 32 int8 q; w = q d. */
    Q8_0(8, 32, 34),
    /** Q8_1 (not supported). */
    Q8_1(9, 32, 40),
    /** Q2_K (not supported). */
    Q2_K(10, 256, 84),
    /** Q3_K (not supported). */
    Q3_K(11, 256, 110),
    /** 256 weights in 8 sub-blocks of 32 with 6-bit scales and mins; w = d sc q - dmin m. */
    Q4_K(12, 256, 144),
    /** As Q4_K with a fifth bit per weight. */
    Q5_K(13, 256, 176),
    /** 256 weights in 16 sub-blocks of 16 with int8 scales; w = d sc (q - 32), q 6-bit. */
    Q6_K(14, 256, 210),
    /** Q8_K (not supported). */
    Q8_K(15, 256, 292),
    /** IQ2_XXS (not supported). */
    IQ2_XXS(16, 256, 66),
    /** IQ2_XS (not supported). */
    IQ2_XS(17, 256, 74),
    /** IQ3_XXS (not supported). */
    IQ3_XXS(18, 256, 98),
    /** IQ1_S (not supported). */
    IQ1_S(19, 256, 50),
    /** IQ4_NL (not supported). */
    IQ4_NL(20, 32, 18),
    /** IQ3_S (not supported). */
    IQ3_S(21, 256, 110),
    /** IQ2_S (not supported). */
    IQ2_S(22, 256, 82),
    /** IQ4_XS (not supported). */
    IQ4_XS(23, 256, 136),
    /** int8 (not supported). */
    I8(24, 1, 1),
    /** int16 (not supported). */
    I16(25, 1, 2),
    /** int32 (not supported). */
    I32(26, 1, 4),
    /** int64 (not supported). */
    I64(27, 1, 8),
    /** float64 (not supported). */
    F64(28, 1, 8),
    /** IQ1_M (not supported). */
    IQ1_M(29, 256, 56),
    /** bfloat16: the high half of a float32. */
    BF16(30, 1, 2),
    /** TQ1_0 (not supported). */
    TQ1_0(34, 256, 54),
    /** TQ2_0 (not supported). */
    TQ2_0(35, 256, 66),
    /** MXFP4 (not supported). */
    MXFP4(39, 32, 17),
    /** NVFP4 (not supported). */
    NVFP4(40, 64, 36),
    /** Q1_0 (not supported). */
    Q1_0(41, 128, 18);

    /** The types {@link GgmlDequantizer} converts to float32. */
    public static final Set<GgmlType> SUPPORTED = EnumSet.of(F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K);

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /**
     * Returns the numeric id stored in a GGUF tensor info.
     *
     * @return the ggml type id
     */
    public int id() {
        return id;
    }

    /**
     * Returns the number of weights per block (1 for plain float types).
     *
     * @return weights per block
     */
    public int blockSize() {
        return blockSize;
    }

    /**
     * Returns the number of bytes per block.
     *
     * @return bytes per block
     */
    public int typeSize() {
        return typeSize;
    }

    /**
     * Returns whether {@link GgmlDequantizer} can convert this type.
     *
     * @return true for the types in {@link #SUPPORTED}
     */
    public boolean supported() {
        return SUPPORTED.contains(this);
    }

    /**
     * Returns the bytes a tensor of {@code elements} weights occupies: {@code elements / blockSize * typeSize}.
     *
     * @param elements number of weights, a multiple of {@link #blockSize()}
     * @return the byte count
     * @throws IllegalArgumentException when {@code elements} is not a multiple of the block size
     */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    elements + " elements is not a multiple of the " + name() + " block size " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) typeSize);
    }

    /**
     * Looks a type up by its GGUF id.
     *
     * @param id the stored id
     * @return the type, or {@code null} for an id ggml does not define
     */
    public static GgmlType byId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /**
     * Lists the supported type names for error messages.
     *
     * @return e.g. {@code "F32, F16, Q4_0, ..."}
     */
    public static String supportedNames() {
        return Arrays.stream(values()).filter(GgmlType::supported).map(Enum::name).collect(Collectors.joining(", "));
    }
}
