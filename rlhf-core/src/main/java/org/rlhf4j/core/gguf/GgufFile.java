package org.rlhf4j.core.gguf;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * A validating, memory-mapped reader of llama.cpp's GGUF files (versions 2 and 3, little-endian).
 *
 * <p>Layout (ggml {@code docs/gguf.md}; gguf-py {@code gguf_reader.py}): magic {@code "GGUF"}, {@code u32} version,
 * {@code u64} tensor count, {@code u64} metadata count; the metadata key/value pairs (key: {@code u64} length + UTF-8
 * bytes; {@code u32} value type; value); the tensor infos (name, {@code u32} number of dimensions, {@code u64} per
 * dimension with {@code ne[0]} the fastest-varying, {@code u32} ggml type, {@code u64} offset into the data section);
 * padding to {@code general.alignment} (default 32); the data section. Metadata values are exposed as Java objects:
 * integers of any width as {@link Long}, {@code f32} as {@link Float}, {@code f64} as {@link Double}, booleans,
 * strings, and arrays as {@link List}s of those.
 *
 * <p>Every claim of the header is checked before any tensor is read: magic, version, byte order, the counts against
 * the file size, tensor types and shapes, the alignment of every offset, tensors that overlap or run past the end of
 * the file. Errors are {@link ModelFormatException}s naming the file and the field and byte offset.
 */
public final class GgufFile implements AutoCloseable {

    /** Default {@code general.alignment}. */
    public static final int DEFAULT_ALIGNMENT = 32;

    /**
     * One tensor of the file.
     *
     * @param name GGUF tensor name, e.g. {@code blk.0.attn_q.weight}
     * @param dims dimensions in GGUF order ({@code dims[0]} is the fastest-varying; PyTorch's shape is the reverse)
     * @param type ggml type
     * @param offset byte offset relative to the data section
     * @param byteSize bytes in the file
     */
    public record TensorInfo(String name, long[] dims, GgmlType type, long offset, long byteSize) {
        /**
         * Returns the number of weights.
         *
         * @return the product of the dimensions
         */
        public long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }

        /**
         * Returns the PyTorch shape: the GGUF dimensions reversed.
         *
         * @return row-major shape
         */
        public long[] torchShape() {
            long[] s = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                s[i] = dims[dims.length - 1 - i];
            }
            return s;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;
    private final int alignment;
    private final long dataStart;

    private GgufFile(Path file, FileChannel channel, int version, Map<String, Object> metadata,
            Map<String, TensorInfo> tensors, int alignment, long dataStart) {
        this.file = file;
        this.channel = channel;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataStart = dataStart;
    }

    /**
     * Opens and validates a GGUF file.
     *
     * @param file the file
     * @return the reader (close it to release the file)
     * @throws ModelFormatException when the file is missing, not GGUF, of an unsupported version or byte order,
     *     truncated, or inconsistent
     */
    public static GgufFile open(Path file) throws ModelFormatException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot open: " + e.getMessage(), e);
        }
        try {
            return new Parser(file, ch).parse();
        } catch (ModelFormatException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            throw e;
        }
    }

    /** Header parser over a mapping of the file's first bytes. */
    private static final class Parser {
        private final Path file;
        private final FileChannel ch;
        private ByteBuffer buf;
        private long size;
        private String field = "magic";

        Parser(Path file, FileChannel ch) {
            this.file = file;
            this.ch = ch;
        }

        GgufFile parse() throws ModelFormatException {
            try {
                size = ch.size();
                buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, Integer.MAX_VALUE - 8))
                        .order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException e) {
                throw new ModelFormatException(file, "cannot map: " + e.getMessage(), e);
            }
            try {
                return parseHeader();
            } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
                throw new ModelFormatException(file, "truncated header: the file ends (" + size
                        + " bytes) inside field '" + field + "' at offset " + buf.position());
            }
        }

        private ModelFormatException error(long offset, String message) {
            return new ModelFormatException(file, "at offset " + offset + " (" + field + "): " + message);
        }

        private GgufFile parseHeader() throws ModelFormatException {
            if (size < 4) {
                throw new ModelFormatException(file, "truncated: " + size + " bytes, shorter than the GGUF magic");
            }
            byte[] magic = new byte[4];
            buf.get(magic);
            if (magic[0] != 'G' || magic[1] != 'G' || magic[2] != 'U' || magic[3] != 'F') {
                throw new ModelFormatException(file, "bad magic " + hex(magic) + " at offset 0: not a GGUF file"
                        + " (expected 47 47 55 46, \"GGUF\")");
            }
            field = "version";
            int version = buf.getInt();
            if (version != 2 && version != 3) {
                if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                    throw error(4, "big-endian GGUF (version " + Integer.reverseBytes(version)
                            + " stored big-endian) is not supported; convert the file to little-endian");
                }
                throw error(4, "unsupported GGUF version " + Integer.toUnsignedString(version)
                        + " (supported: 2, 3)");
            }
            field = "tensor_count";
            long tensorCount = buf.getLong();
            field = "metadata_kv_count";
            long kvCount = buf.getLong();
            // each tensor info takes at least 8+4+8+4+8 bytes, each kv at least 8+4+1
            if (tensorCount < 0 || tensorCount > size / 32) {
                throw error(8, "tensor_count " + Long.toUnsignedString(tensorCount) + " does not fit in a file of "
                        + size + " bytes");
            }
            if (kvCount < 0 || kvCount > size / 13) {
                throw error(16, "metadata_kv_count " + Long.toUnsignedString(kvCount)
                        + " does not fit in a file of " + size + " bytes");
            }
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                field = "metadata key #" + i;
                long at = buf.position();
                String key = readString();
                field = key;
                int type = buf.getInt();
                Object value = readValue(type);
                if (metadata.put(key, value) != null) {
                    throw error(at, "duplicate metadata key '" + key + "'");
                }
            }
            int alignment = DEFAULT_ALIGNMENT;
            Object a = metadata.get("general.alignment");
            if (a != null) {
                if (!(a instanceof Long l) || l <= 0 || l > (1 << 20) || Long.bitCount(l) != 1) {
                    throw new ModelFormatException(file, "metadata 'general.alignment' = " + a
                            + " is not a power-of-two integer");
                }
                alignment = (int) (long) (Long) a;
            }
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                field = "tensor info #" + i;
                long at = buf.position();
                String name = readString();
                field = "tensor '" + name + "'";
                int nDims = buf.getInt();
                if (nDims < 1 || nDims > 4) {
                    throw error(at, "tensor '" + name + "' has " + Integer.toUnsignedString(nDims)
                            + " dimensions (ggml allows 1 to 4)");
                }
                long[] dims = new long[nDims];
                long elements = 1;
                for (int d = 0; d < nDims; d++) {
                    dims[d] = buf.getLong();
                    if (dims[d] < 0) {
                        throw error(at, "tensor '" + name + "' has a negative dimension");
                    }
                    try {
                        elements = Math.multiplyExact(elements, dims[d]);
                    } catch (ArithmeticException e) {
                        throw error(at, "tensor '" + name + "' has more than 2^63 elements");
                    }
                }
                long typeId = Integer.toUnsignedLong(buf.getInt());
                GgmlType type = GgmlType.byId(typeId);
                if (type == null) {
                    throw error(at, "tensor '" + name + "' has unknown ggml type id " + typeId);
                }
                if (dims[0] % type.blockSize() != 0) {
                    throw error(at, "tensor '" + name + "' of type " + type + ": first dimension " + dims[0]
                            + " is not a multiple of the block size " + type.blockSize());
                }
                long offset = buf.getLong();
                if (offset < 0 || offset % alignment != 0) {
                    throw error(at, "tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                            + " is not a multiple of the alignment " + alignment);
                }
                TensorInfo t = new TensorInfo(name, dims, type, offset, type.byteSize(elements));
                if (tensors.put(name, t) != null) {
                    throw error(at, "duplicate tensor name '" + name + "'");
                }
            }
            long headerEnd = buf.position();
            long dataStart = (headerEnd + alignment - 1) / alignment * alignment;
            field = "tensor data";
            List<TensorInfo> sorted = new ArrayList<>(tensors.values());
            sorted.sort(Comparator.comparingLong(TensorInfo::offset));
            for (int i = 0; i < sorted.size(); i++) {
                TensorInfo t = sorted.get(i);
                long end = dataStart + t.offset() + t.byteSize();
                if (end > size) {
                    throw new ModelFormatException(file, "truncated: tensor '" + t.name() + "' occupies bytes "
                            + (dataStart + t.offset()) + ".." + end + " but the file has only " + size + " bytes");
                }
                if (i > 0) {
                    TensorInfo prev = sorted.get(i - 1);
                    if (t.offset() < prev.offset() + prev.byteSize() && t.byteSize() > 0 && prev.byteSize() > 0) {
                        throw new ModelFormatException(file, "tensors '" + prev.name() + "' (data bytes "
                                + prev.offset() + ".." + (prev.offset() + prev.byteSize()) + ") and '" + t.name()
                                + "' (from " + t.offset() + ") overlap in the data section");
                    }
                }
            }
            return new GgufFile(file, ch, version, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors), alignment, dataStart);
        }

        private String readString() throws ModelFormatException {
            long at = buf.position();
            long len = buf.getLong();
            if (len < 0 || len > buf.remaining()) {
                throw error(at, "string length " + Long.toUnsignedString(len) + " runs past the end of the file ("
                        + size + " bytes)");
            }
            byte[] b = new byte[(int) len];
            buf.get(b);
            return new String(b, StandardCharsets.UTF_8);
        }

        private Object readValue(int type) throws ModelFormatException {
            return switch (type) {
                case 0 -> (long) (buf.get() & 0xFF);
                case 1 -> (long) buf.get();
                case 2 -> (long) (buf.getShort() & 0xFFFF);
                case 3 -> (long) buf.getShort();
                case 4 -> Integer.toUnsignedLong(buf.getInt());
                case 5 -> (long) buf.getInt();
                case 6 -> buf.getFloat();
                case 7 -> {
                    long at = buf.position();
                    byte b = buf.get();
                    if (b != 0 && b != 1) {
                        throw error(at, "bool value " + b + " is neither 0 nor 1");
                    }
                    yield b == 1;
                }
                case 8 -> readString();
                case 9 -> {
                    long at = buf.position();
                    int elemType = buf.getInt();
                    long count = buf.getLong();
                    if (elemType == 9) {
                        // nested arrays are legal in the spec; llama.cpp never writes them, sizes are unbounded
                        List<Object> out = new ArrayList<>();
                        checkCount(at, count, 12);
                        for (long i = 0; i < count; i++) {
                            out.add(readValue(9));
                        }
                        yield Collections.unmodifiableList(out);
                    }
                    checkCount(at, count, minSize(at, elemType));
                    List<Object> out = new ArrayList<>((int) count);
                    for (long i = 0; i < count; i++) {
                        out.add(readValue(elemType));
                    }
                    yield Collections.unmodifiableList(out);
                }
                case 10, 11 -> buf.getLong();
                case 12 -> buf.getDouble();
                default -> throw error(buf.position() - 4, "unknown metadata value type "
                        + Integer.toUnsignedString(type));
            };
        }

        private int minSize(long at, int type) throws ModelFormatException {
            return switch (type) {
                case 0, 1, 7 -> 1;
                case 2, 3 -> 2;
                case 4, 5, 6 -> 4;
                case 8, 10, 11, 12 -> 8;
                default -> throw error(at, "unknown array element type " + Integer.toUnsignedString(type));
            };
        }

        private void checkCount(long at, long count, int minSize) throws ModelFormatException {
            if (count < 0 || count > buf.remaining() / minSize) {
                throw error(at, "array of " + Long.toUnsignedString(count) + " elements runs past the end of the file ("
                        + size + " bytes)");
            }
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", x & 0xFF));
        }
        return sb.toString();
    }

    /**
     * Returns the file this reader reads.
     *
     * @return the path
     */
    public Path file() {
        return file;
    }

    /**
     * Returns the GGUF version (2 or 3).
     *
     * @return the version
     */
    public int version() {
        return version;
    }

    /**
     * Returns the data alignment ({@code general.alignment}, default 32).
     *
     * @return the alignment in bytes
     */
    public int alignment() {
        return alignment;
    }

    /**
     * Returns the absolute byte offset where the data section starts.
     *
     * @return the offset
     */
    public long dataStart() {
        return dataStart;
    }

    /**
     * Returns all metadata in file order.
     *
     * @return key to value
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /**
     * Returns all tensors in file order.
     *
     * @return name to tensor info
     */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /**
     * Returns whether a metadata key is present.
     *
     * @param key the key
     * @return true when present
     */
    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /**
     * Returns a required string value.
     *
     * @param key the key
     * @return the value
     * @throws ModelFormatException when missing or not a string
     */
    public String string(String key) throws ModelFormatException {
        Object v = require(key);
        if (!(v instanceof String s)) {
            throw new ModelFormatException(file, "metadata '" + key + "' is " + describe(v) + ", expected a string");
        }
        return s;
    }

    /**
     * Returns a required integer value (any integer width).
     *
     * @param key the key
     * @return the value
     * @throws ModelFormatException when missing or not an integer
     */
    public long integer(String key) throws ModelFormatException {
        Object v = require(key);
        if (!(v instanceof Long l)) {
            throw new ModelFormatException(file, "metadata '" + key + "' is " + describe(v) + ", expected an integer");
        }
        return l;
    }

    /**
     * Returns a required number (integer or float) as double; a {@code f32} value is widened exactly.
     *
     * @param key the key
     * @return the value
     * @throws ModelFormatException when missing or not a number
     */
    public double number(String key) throws ModelFormatException {
        Object v = require(key);
        if (v instanceof Boolean || !(v instanceof Number n)) {
            throw new ModelFormatException(file, "metadata '" + key + "' is " + describe(v) + ", expected a number");
        }
        return n.doubleValue();
    }

    /**
     * Returns a required array value.
     *
     * @param key the key
     * @return the elements
     * @throws ModelFormatException when missing or not an array
     */
    public List<Object> array(String key) throws ModelFormatException {
        Object v = require(key);
        if (!(v instanceof List<?> l)) {
            throw new ModelFormatException(file, "metadata '" + key + "' is " + describe(v) + ", expected an array");
        }
        @SuppressWarnings("unchecked")
        List<Object> out = (List<Object>) l;
        return out;
    }

    /**
     * Returns a required array of strings.
     *
     * @param key the key
     * @return the strings
     * @throws ModelFormatException when missing or not an array of strings
     */
    public List<String> strings(String key) throws ModelFormatException {
        List<Object> a = array(key);
        List<String> out = new ArrayList<>(a.size());
        for (Object o : a) {
            if (!(o instanceof String s)) {
                throw new ModelFormatException(file, "metadata '" + key + "' holds " + describe(o)
                        + ", expected strings");
            }
            out.add(s);
        }
        return out;
    }

    private Object require(String key) throws ModelFormatException {
        Object v = metadata.get(key);
        if (v == null) {
            throw new ModelFormatException(file, "missing metadata key '" + key + "'");
        }
        return v;
    }

    private static String describe(Object v) {
        if (v instanceof List<?> l) {
            return "an array of " + l.size();
        }
        return "'" + v + "' (" + v.getClass().getSimpleName() + ")";
    }

    /**
     * Returns a tensor's info.
     *
     * @param name the GGUF name
     * @return the info
     * @throws ModelFormatException when the file has no such tensor
     */
    public TensorInfo tensor(String name) throws ModelFormatException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(file, "missing tensor '" + name + "'");
        }
        return t;
    }

    /**
     * Maps one tensor's raw bytes (read-only, little-endian, zero-copy).
     *
     * @param name the GGUF name
     * @return the bytes
     * @throws ModelFormatException when the tensor is missing, over 2 GiB, or cannot be mapped
     */
    public ByteBuffer map(String name) throws ModelFormatException {
        TensorInfo t = tensor(name);
        if (t.byteSize() > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, "tensor '" + name + "' is larger than 2 GiB, not supported");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.offset(), t.byteSize())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFormatException(file, "tensor '" + name + "': cannot map: " + e.getMessage(), e);
        }
    }

    /**
     * Dequantizes one tensor to float32 (row-major in PyTorch order, i.e. GGUF {@code ne[0]} fastest).
     *
     * @param name the GGUF name
     * @return a direct native-order buffer of {@code elements} floats
     * @throws ModelFormatException when the tensor is missing or of a type that cannot be dequantized (the message
     *     names the tensor, its type and the supported types)
     */
    public FloatBuffer dequantize(String name) throws ModelFormatException {
        TensorInfo t = checkDequantizable(name);
        FloatBuffer out = ByteBuffer.allocateDirect((int) t.elements() * 4).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        return dequantize(name, out);
    }

    /**
     * Dequantizes one tensor into a caller's buffer (reused across tensors to keep memory flat).
     *
     * @param name the GGUF name
     * @param scratch a buffer with capacity for at least the tensor's elements; it is cleared first
     * @return {@code scratch}, flipped: position 0, limit the number of elements
     * @throws ModelFormatException when the tensor is missing or of a type that cannot be dequantized
     * @throws IllegalArgumentException when {@code scratch} is too small
     */
    public FloatBuffer dequantize(String name, FloatBuffer scratch) throws ModelFormatException {
        TensorInfo t = checkDequantizable(name);
        scratch.clear();
        GgmlDequantizer.dequantize(t.type(), map(name), t.elements(), scratch);
        scratch.flip();
        return scratch;
    }

    private TensorInfo checkDequantizable(String name) throws ModelFormatException {
        TensorInfo t = tensor(name);
        if (!t.type().supported()) {
            throw new ModelFormatException(file, "tensor " + name + " has type " + t.type() + "; supported: "
                    + GgmlType.supportedNames());
        }
        if (t.elements() > Integer.MAX_VALUE / 4) {
            throw new ModelFormatException(file, "tensor '" + name + "' has " + t.elements()
                    + " elements; over 2 GiB as float32, not supported");
        }
        return t;
    }

    /** Closes the file. Buffers already mapped stay valid. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + file + ", v" + version + ", " + tensors.size() + " tensors, " + metadata.size()
                + " metadata keys]";
    }
}
