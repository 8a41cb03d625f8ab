package org.rlhf4j.core.io;

import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/** The element types of the safetensors format, with their size and the DJL type they load as. */
public enum TensorDType {
    /** IEEE float64. */
    F64(8, DataType.FLOAT64),
    /** IEEE float32. */
    F32(4, DataType.FLOAT32),
    /** IEEE float16; widened to float32 on load. */
    F16(2, DataType.FLOAT32),
    /** bfloat16; widened to float32 in Java on load (a BF16 NDArray aborts the JVM on CPU in DJL 0.36). */
    BF16(2, DataType.FLOAT32),
    /** int64. */
    I64(8, DataType.INT64),
    /** int32. */
    I32(4, DataType.INT32),
    /** int8. */
    I8(1, DataType.INT8),
    /** uint8. */
    U8(1, DataType.UINT8),
    /** boolean, one byte each. */
    BOOL(1, DataType.BOOLEAN);

    private final int bytes;
    private final DataType loadedAs;

    TensorDType(int bytes, DataType loadedAs) {
        this.bytes = bytes;
        this.loadedAs = loadedAs;
    }

    /**
     * Returns the size of one element in the file.
     *
     * @return bytes per element
     */
    public int bytes() {
        return bytes;
    }

    /**
     * Returns the DJL data type that a tensor of this type is loaded as.
     *
     * @return the loaded data type
     */
    public DataType loadedAs() {
        return loadedAs;
    }

    /**
     * Parses the dtype string of a safetensors header.
     *
     * @param s the header value, e.g. {@code "F32"}
     * @return the dtype, or {@code null} when the format has it but rlhf4j does not load it (I16, U16, F8...)
     */
    public static TensorDType parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Returns the safetensors dtype that stores a DJL data type.
     *
     * @param type the DJL type
     * @return the dtype
     * @throws IllegalArgumentException when safetensors writing of that type is not supported
     */
    public static TensorDType of(DataType type) {
        return switch (type) {
            case FLOAT64 -> F64;
            case FLOAT32 -> F32;
            case INT64 -> I64;
            case INT32 -> I32;
            case INT8 -> I8;
            case UINT8 -> U8;
            case BOOLEAN -> BOOL;
            default -> throw new IllegalArgumentException("cannot write data type " + type + " to safetensors");
        };
    }
}
