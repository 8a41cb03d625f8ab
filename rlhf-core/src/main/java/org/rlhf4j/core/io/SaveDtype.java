package org.rlhf4j.core.io;

import java.util.Locale;

/**
 * The floating-point type in which model weights are written. Training always runs in float32; only the files
 * change. Loading widens every type back to float32 ({@link SafeTensors#load}).
 */
public enum SaveDtype {
    /** IEEE float32, lossless (the default). */
    FP32("fp32", "float32", TensorDType.F32),
    /** bfloat16: float32's range with 8 significant bits, rounded to nearest even ({@link HalfFloats#toBf16}). */
    BF16("bf16", "bfloat16", TensorDType.BF16),
    /**
     * IEEE float16: 11 significant bits but largest finite value 65504, rounded to nearest even
     * ({@link HalfFloats#toF16}); a weight of magnitude 65520 or more is refused rather than written as infinity.
     */
    FP16("fp16", "float16", TensorDType.F16);

    private final String shortName;
    private final String torchName;
    private final TensorDType tensorDType;

    SaveDtype(String shortName, String torchName, TensorDType tensorDType) {
        this.shortName = shortName;
        this.torchName = torchName;
        this.tensorDType = tensorDType;
    }

    /**
     * Returns the short name ({@code fp32}, {@code bf16}, {@code fp16}), as a CLI flag takes it.
     *
     * @return the short name
     */
    public String shortName() {
        return shortName;
    }

    /**
     * Returns torch's name of the type ({@code float32}, {@code bfloat16}, {@code float16}), which transformers
     * writes as {@code dtype} in {@code config.json}.
     *
     * @return the torch name
     */
    public String torchName() {
        return torchName;
    }

    /**
     * Returns the safetensors type that float32 weights are stored as.
     *
     * @return F32, BF16 or F16
     */
    public TensorDType tensorDType() {
        return tensorDType;
    }

    /**
     * Parses a dtype name: the short name ({@code fp32}, {@code bf16}, {@code fp16}) or torch's
     * ({@code float32}, {@code bfloat16}, {@code float16}), case-insensitive.
     *
     * @param s the name
     * @return the dtype
     * @throws IllegalArgumentException naming the value and listing the valid ones
     */
    public static SaveDtype parse(String s) {
        if (s != null) {
            String v = s.trim().toLowerCase(Locale.ROOT);
            for (SaveDtype d : values()) {
                if (d.shortName.equals(v) || d.torchName.equals(v)) {
                    return d;
                }
            }
        }
        throw new IllegalArgumentException("unknown save dtype '" + s
                + "'; valid: fp32, bf16, fp16 (or float32, bfloat16, float16)");
    }

    /**
     * Returns the short name.
     *
     * @return e.g. {@code bf16}
     */
    @Override
    public String toString() {
        return shortName;
    }
}
