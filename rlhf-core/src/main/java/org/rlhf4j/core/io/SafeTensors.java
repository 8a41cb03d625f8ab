package org.rlhf4j.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * Hugging Face safetensors files: a validating, memory-mapped reader and a streaming writer.
 *
 * <p>Layout (https://github.com/huggingface/safetensors): 8 bytes little-endian header length {@code N}, {@code N}
 * bytes of JSON {@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}}, then the
 * data buffer; offsets are relative to the data buffer. Every claim of the header is checked against the file before
 * any tensor is read, so a truncated file or a header that lies about sizes is an error naming the file and tensor,
 * never a JVM abort; so are bytes after the last tensor's data (the reference implementation rejects them too). Each tensor is mapped separately, so files over 2 GiB work (a single tensor must be under
 * 2 GiB, which holds for every model rlhf4j supports).
 */
public final class SafeTensors implements AutoCloseable {

    /** Largest header accepted (the reference implementation uses the same 100 MB bound). */
    static final long MAX_HEADER = 100L * 1024 * 1024;

    /**
     * One tensor described by the header.
     *
     * @param name tensor name
     * @param dtype element type in the file
     * @param shape shape
     * @param begin start offset in the data buffer (bytes)
     * @param end end offset in the data buffer (bytes, exclusive)
     */
    public record Entry(String name, TensorDType dtype, Shape shape, long begin, long end) {
        /**
         * Returns the byte length of the tensor in the file.
         *
         * @return {@code end - begin}
         */
        public long byteLength() {
            return end - begin;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensors(
            Path file,
            FileChannel channel,
            long dataStart,
            Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @param file the file
     * @return the reader (close it to release the file)
     * @throws ModelFormatException when the file is missing, truncated, or its header is malformed or inconsistent
     */
    public static SafeTensors open(Path file) throws ModelFormatException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot open: " + e.getMessage(), e);
        }
        try {
            SafeTensors st = parse(file, ch);
            return st;
        } catch (ModelFormatException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SafeTensors parse(Path file, FileChannel ch) throws ModelFormatException {
        try {
            long size = ch.size();
            if (size < 8) {
                throw new ModelFormatException(file, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER) {
                throw new ModelFormatException(file, "header length " + headerLen + " is not in (0, " + MAX_HEADER + "]");
            }
            if (8 + headerLen > size) {
                throw new ModelFormatException(
                        file, "truncated: header claims " + headerLen + " bytes but the file has " + size);
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new ModelFormatException(file, "header is not valid JSON: " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new ModelFormatException(file, "header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String name = f.getKey();
                JsonNode v = f.getValue();
                if ("__metadata__".equals(name)) {
                    if (!v.isObject()) {
                        throw new ModelFormatException(file, "__metadata__ is not an object");
                    }
                    v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.put(name, parseEntry(file, name, v, dataSize));
            }
            checkNoOverlap(file, entries);
            long used = entries.values().stream().mapToLong(Entry::end).max().orElse(0);
            if (used != dataSize) {
                long extra = dataSize - used;
                throw new ModelFormatException(file, extra + (extra == 1 ? " trailing byte" : " trailing bytes")
                        + " after the last tensor's data:"
                        + " the data buffer has " + dataSize + " bytes but the tensors end at byte " + used
                        + " (a damaged or concatenated file?)");
            }
            return new SafeTensors(
                    file, ch, dataStart, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
        } catch (ModelFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFormatException(file, "read failed: " + e.getMessage(), e);
        }
    }

    private static Entry parseEntry(Path file, String name, JsonNode v, long dataSize) throws ModelFormatException {
        if (!v.isObject()) {
            throw new ModelFormatException(file, "tensor '" + name + "': header entry is not an object");
        }
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new ModelFormatException(file, "tensor '" + name + "': missing field 'dtype'");
        }
        TensorDType dtype = TensorDType.parse(dt.asText());
        if (dtype == null) {
            throw new ModelFormatException(
                    file,
                    "tensor '" + name + "': unsupported dtype '" + dt.asText() + "' (supported: "
                            + Arrays.toString(TensorDType.values()) + ")");
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new ModelFormatException(file, "tensor '" + name + "': missing field 'shape'");
        }
        long[] dims = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new ModelFormatException(file, "tensor '" + name + "': bad shape " + sh);
            }
            dims[i] = d.asLong();
            numel = Math.multiplyExact(numel, dims[i]);
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                || !off.get(1).isIntegralNumber()) {
            throw new ModelFormatException(file, "tensor '" + name + "': missing or malformed field 'data_offsets'");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        long expected = Math.multiplyExact(numel, dtype.bytes());
        if (begin < 0 || end < begin) {
            throw new ModelFormatException(file, "tensor '" + name + "': bad data_offsets " + off);
        }
        if (end - begin != expected) {
            throw new ModelFormatException(
                    file,
                    "tensor '" + name + "': data_offsets " + off + " span " + (end - begin) + " bytes but shape "
                            + sh + " of " + dtype + " needs " + expected);
        }
        if (end > dataSize) {
            throw new ModelFormatException(
                    file,
                    "tensor '" + name + "': truncated file: tensor ends at byte " + end + " of the data buffer, which has only "
                            + dataSize + " bytes");
        }
        if (expected > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, "tensor '" + name + "': larger than 2 GiB, not supported");
        }
        return new Entry(name, dtype, new Shape(dims), begin, end);
    }

    private static void checkNoOverlap(Path file, Map<String, Entry> entries) throws ModelFormatException {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1);
            Entry b = sorted.get(i);
            if (b.begin() < a.end() && b.byteLength() > 0 && a.byteLength() > 0) {
                throw new ModelFormatException(
                        file, "tensors '" + a.name() + "' and '" + b.name() + "' overlap in the data buffer");
            }
        }
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
     * Returns the tensors of the header in file order.
     *
     * @return name to entry
     */
    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * Returns the {@code __metadata__} map of the header (empty when absent).
     *
     * @return metadata
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Maps one tensor's bytes (read-only, little-endian, zero-copy).
     *
     * @param name tensor name
     * @return the mapped bytes
     * @throws ModelFormatException when the tensor is not in the file or cannot be mapped
     */
    public ByteBuffer map(String name) throws ModelFormatException {
        Entry e = entry(name);
        try {
            MappedByteBuffer mb = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), e.byteLength());
            return mb.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException ex) {
            throw new ModelFormatException(file, "tensor '" + name + "': cannot map: " + ex.getMessage(), ex);
        }
    }

    /**
     * Loads one tensor. F32 (and integer types) are zero-copy views of the mapped file; F16 and BF16 are widened to
     * F32 in Java. The returned array is read-only memory when zero-copy: {@link NDArray#duplicate()} it before any
     * in-place update. A floating-point tensor holding NaN or an infinity is refused (a diverged or corrupt model
     * never loads); checking costs one sum over the tensor.
     *
     * @param name tensor name
     * @param manager the manager that owns the result
     * @return the tensor
     * @throws NonFiniteTensorException when the tensor holds NaN or an infinity
     * @throws ModelFormatException when the tensor is not in the file or cannot be read
     */
    public NDArray load(String name, NDManager manager) throws ModelFormatException {
        Entry e = entry(name);
        if (e.shape().size() == 0) {
            return manager.zeros(e.shape(), e.dtype().loadedAs());
        }
        ByteBuffer raw = map(name);
        NDArray a = switch (e.dtype()) {
            case BF16, F16 -> manager.create(HalfFloats.widen(raw, e.dtype()), e.shape(), DataType.FLOAT32);
            default -> manager.create(raw, e.shape(), e.dtype().loadedAs());
        };
        if (TensorOps.firstNonFinite(Map.of(name, a)) != null) {
            a.close();
            throw new NonFiniteTensorException(file, name, "tensor '" + name
                    + "' holds NaN or infinity (the model diverged or the file is corrupt); refusing to load it");
        }
        return a;
    }

    private Entry entry(String name) throws ModelFormatException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new ModelFormatException(file, "missing tensor '" + name + "'");
        }
        return e;
    }

    /**
     * Widens bfloat16 values (the high 16 bits of a float32) to float32.
     *
     * @param src little-endian BF16 bytes
     * @return a direct native-order buffer of float32
     */
    static ByteBuffer widenBf16(ByteBuffer src) {
        return HalfFloats.widen(src, TensorDType.BF16);
    }

    /**
     * Widens IEEE half-precision values to float32 (exact, including subnormals, infinities and NaN).
     *
     * @param src little-endian F16 bytes
     * @return a direct native-order buffer of float32
     */
    static ByteBuffer widenF16(ByteBuffer src) {
        return HalfFloats.widen(src, TensorDType.F16);
    }

    /**
     * Converts one IEEE 754 binary16 value to float.
     *
     * @param h the half bits
     * @return the float value
     */
    static float halfToFloat(short h) {
        return HalfFloats.fromF16(h);
    }

    /**
     * Writes tensors to a safetensors file, streaming one tensor at a time (files over 2 GiB work). Tensors are
     * written in the map's order; the header is padded with spaces to a multiple of 8 bytes as the reference
     * implementation does, and carries {@code __metadata__} ({@code "format": "pt"} plus the given entries).
     *
     * <p>Non-finite weights are never saved: when a floating-point tensor holds NaN or an infinity nothing is
     * written (checked first, with one sum per tensor and a single copy to Java).
     *
     * @param file the target file (overwritten)
     * @param tensors name to tensor (float32, float64 or integer types)
     * @param metadata extra metadata entries
     * @throws NonFiniteTensorException when a tensor holds NaN or an infinity; the file is then not touched
     * @throws IOException on write failure
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        write(file, tensors, metadata, TensorDType.F32);
    }

    /**
     * Writes tensors to a safetensors file, storing float32 tensors as {@code floatType}: F32 as they are, BF16 or
     * F16 narrowed in Java with round-to-nearest-even ({@link HalfFloats}); other types are stored as they are.
     * Nothing is written when {@link #checkWritable} refuses a tensor.
     *
     * @param file the target file (overwritten)
     * @param tensors name to tensor (float32, float64 or integer types)
     * @param metadata extra metadata entries
     * @param floatType how float32 tensors are stored: F32, BF16 or F16
     * @throws NonFiniteTensorException when a tensor holds NaN or an infinity, or a value that overflows
     *     {@code floatType}; the file is then not touched
     * @throws IOException on write failure
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata,
            TensorDType floatType) throws IOException {
        checkWritable(file, tensors, floatType);
        writeChecked(file, tensors, metadata, floatType);
    }

    /**
     * Returns the type a tensor is stored as when float32 tensors are written as {@code floatType}.
     *
     * @param type the tensor's DJL type
     * @param floatType F32, BF16 or F16
     * @return the stored type
     * @throws IllegalArgumentException when the type cannot be written or {@code floatType} is not a float32,
     *     bfloat16 or float16 type
     */
    public static TensorDType storedType(DataType type, TensorDType floatType) {
        if (floatType != TensorDType.F32 && floatType != TensorDType.BF16 && floatType != TensorDType.F16) {
            throw new IllegalArgumentException("float tensors can be stored as F32, BF16 or F16, not " + floatType);
        }
        TensorDType dt = TensorDType.of(type);
        return dt == TensorDType.F32 ? floatType : dt;
    }

    /**
     * Checks that tensors can be written with float32 stored as {@code floatType}: no NaN or infinity, and, when
     * narrowing, no finite value that rounds to infinity (|x| ≥ 65520 for F16, |x| ≥ 0x1.FFp127 ≈ 3.3961e38 for
     * BF16), which a later load would refuse. Costs one sum per tensor, plus one max |x| per tensor when narrowing,
     * each batch copied to Java once.
     *
     * @param file the file being written, for the message
     * @param tensors name to tensor
     * @param floatType F32, BF16 or F16
     * @throws NonFiniteTensorException naming the first offending tensor (and, for an overflow, its largest value)
     */
    public static void checkWritable(Path file, Map<String, NDArray> tensors, TensorDType floatType)
            throws NonFiniteTensorException {
        String bad = TensorOps.firstNonFinite(tensors);
        if (bad != null) {
            throw new NonFiniteTensorException(file, bad, "tensor '" + bad
                    + "' holds NaN or infinity; refusing to write non-finite weights");
        }
        if (floatType == TensorDType.F32) {
            return;
        }
        List<String> names = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            NDList maxima = new NDList();
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                NDArray a = e.getValue();
                if (a.getDataType() == DataType.FLOAT32 && a.getShape().size() > 0) {
                    names.add(e.getKey());
                    maxima.add(a.abs().max());
                }
            }
            if (names.isEmpty()) {
                return;
            }
            float[] v = NDArrays.stack(maxima).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                short narrowed = floatType == TensorDType.BF16 ? HalfFloats.toBf16(v[i]) : HalfFloats.toF16(v[i]);
                float back = floatType == TensorDType.BF16 ? HalfFloats.fromBf16(narrowed) : HalfFloats.fromF16(narrowed);
                if (Float.isInfinite(back)) {
                    throw new NonFiniteTensorException(file, names.get(i), "tensor '" + names.get(i)
                            + "' holds a value of magnitude " + v[i] + ", which becomes infinity in " + floatType
                            + (floatType == TensorDType.F16 ? " (largest finite: 65504)" : "")
                            + "; refusing to write it (save in " + (floatType == TensorDType.F16 ? "BF16 or " : "")
                            + "F32)");
                }
            }
        }
    }

    /** Writes without the checks of {@link #checkWritable} (the caller made them). */
    static void writeChecked(Path file, Map<String, NDArray> tensors, Map<String, String> metadata,
            TensorDType floatType) throws IOException {
        ObjectNode header = Json.MAPPER.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", "pt");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, NDArray> t : tensors.entrySet()) {
            NDArray a = t.getValue();
            TensorDType dt = storedType(a.getDataType(), floatType);
            long len = a.getShape().size() * dt.bytes();
            ObjectNode e = header.putObject(t.getKey());
            e.put("dtype", dt.name());
            var shape = e.putArray("shape");
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            var off = e.putArray("data_offsets");
            off.add(offset);
            off.add(offset + len);
            offset += len;
        }
        byte[] hj = Json.compact(header).getBytes(StandardCharsets.UTF_8);
        int padded = (hj.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded);
        head.put(hj);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        try (FileChannel ch =
                FileChannel.open(
                        file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            for (NDArray a : tensors.values()) {
                if (a.getShape().size() == 0) {
                    continue;
                }
                TensorDType dt = storedType(a.getDataType(), floatType);
                ByteBuffer bb = dt == TensorDType.BF16 || dt == TensorDType.F16
                        ? HalfFloats.narrow(FloatBuffer.wrap(a.toFloatArray()), dt)
                        : a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                writeFully(ch, bb);
            }
            ch.force(true);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        long p = pos;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + p);
            }
            p += n;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** Closes the file. Arrays already loaded stay valid (a mapping outlives its channel). */
    @Override
    public void close() {
        closeQuietly(channel);
    }

    /**
     * Returns the file name for messages.
     *
     * @return the path as text
     */
    @Override
    public String toString() {
        return "SafeTensors[" + file + ", " + entries.size() + " tensors]";
    }

}
