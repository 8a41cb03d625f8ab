package org.rlhf4j.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The weights of a Hugging Face model directory, in one file or in shards: a reader that opens
 * {@code model.safetensors} or, when there is none, {@code model.safetensors.index.json} and its shard files (the
 * order transformers' {@code PreTrainedModel.from_pretrained} tries them), and the writer that produces either.
 *
 * <p>Index layout (transformers {@code modeling_utils.save_pretrained}, huggingface_hub
 * {@code split_state_dict_into_shards_factory}): {@code {"metadata": {"total_parameters": P, "total_size": S},
 * "weight_map": {"tensor name": "model-00001-of-00003.safetensors", ...}}}, where S is the sum of the tensors' byte
 * sizes. On open every shard is validated ({@link SafeTensors#open}) and the index is checked against them: a missing
 * shard, a tensor the index places in a shard that lacks it, a tensor present in two shards, and a malformed field
 * are errors naming the index file, the field or tensor and the shard; a {@code total_size} that disagrees with the
 * shards is logged (some writers count it differently) and a tensor of a shard the index does not list is loaded
 * with a warning, as transformers loads every tensor of the shards it opens.
 *
 * <p>Tensors load as {@link SafeTensors#load} loads them: F16 and BF16 widened to F32 in Java, NaN or infinity
 * refused.
 */
public final class ModelTensors implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelTensors.class);

    /** The single-file weights name. */
    public static final String SINGLE_FILE = "model.safetensors";

    /** The index of sharded weights. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** Shard names that transformers writes (and removes when a save replaces them): {@code model-00001-of-00003}. */
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    private final Path directory;
    private final Path indexFile;
    private final List<SafeTensors> shards;
    private final Map<String, SafeTensors> owner;
    private final Map<String, SafeTensors.Entry> entries;
    private final Long totalSize;

    private ModelTensors(Path directory, Path indexFile, List<SafeTensors> shards, Map<String, SafeTensors> owner,
            Long totalSize) {
        this.directory = directory;
        this.indexFile = indexFile;
        this.shards = List.copyOf(shards);
        this.owner = Collections.unmodifiableMap(owner);
        Map<String, SafeTensors.Entry> all = new LinkedHashMap<>();
        owner.forEach((name, st) -> all.put(name, st.entries().get(name)));
        this.entries = Collections.unmodifiableMap(all);
        this.totalSize = totalSize;
    }

    /**
     * Returns whether a directory holds weights ({@code model.safetensors} or {@code model.safetensors.index.json}).
     *
     * @param dir the directory
     * @return true when either file exists
     */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(SINGLE_FILE)) || Files.isRegularFile(dir.resolve(INDEX_FILE));
    }

    /**
     * Opens the weights of a model directory: {@code model.safetensors} when it exists (as transformers prefers it),
     * else the index and every shard it names.
     *
     * @param dir the directory
     * @return the reader; close it to release the files
     * @throws ModelFormatException when the directory has neither file, or a file is missing, malformed or
     *     inconsistent; the message names the file and the field or tensor
     */
    public static ModelTensors open(Path dir) throws ModelFormatException {
        Path single = dir.resolve(SINGLE_FILE);
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(single)) {
            if (Files.exists(index)) {
                LOG.warn("{}: both {} and {}; reading {} as transformers does", dir, SINGLE_FILE, INDEX_FILE,
                        SINGLE_FILE);
            }
            return of(SafeTensors.open(single));
        }
        if (!Files.exists(index)) {
            throw new ModelFormatException(dir, "model weights not found: neither " + SINGLE_FILE + " nor "
                    + INDEX_FILE + " is in the directory");
        }
        return openIndex(dir, index);
    }

    /**
     * Wraps one open safetensors file (an unsharded directory); closing the result closes it.
     *
     * @param file the open file
     * @return the reader
     */
    public static ModelTensors of(SafeTensors file) {
        Map<String, SafeTensors> owner = new LinkedHashMap<>();
        for (String name : file.entries().keySet()) {
            owner.put(name, file);
        }
        Path dir = file.file().toAbsolutePath().getParent();
        return new ModelTensors(dir, null, List.of(file), owner, null);
    }

    private static ModelTensors openIndex(Path dir, Path index) throws ModelFormatException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(index, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(index, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(index, "not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(index, "not a JSON object");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFormatException(
                    index, "missing field 'weight_map' (an object of tensor name to shard file)");
        }
        if (map.isEmpty()) {
            throw new ModelFormatException(index, "field 'weight_map' lists no tensors");
        }
        Long totalSize = null;
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new ModelFormatException(index, "field 'metadata' must be an object, got " + meta);
            }
            JsonNode ts = meta.get("total_size");
            if (ts != null && !ts.isNull()) {
                if (!ts.isIntegralNumber() || !ts.canConvertToLong() || ts.asLong() < 0) {
                    throw new ModelFormatException(
                            index, "field 'metadata.total_size' must be a non-negative integer, got " + ts);
                }
                totalSize = ts.asLong();
            }
        }
        // tensor -> shard file name, in index order; shard files in sorted order as transformers opens them
        Map<String, String> weightMap = new LinkedHashMap<>();
        TreeSet<String> shardNames = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (!v.isTextual()) {
                throw new ModelFormatException(
                        index, "field 'weight_map.\"" + f.getKey() + "\"' must be a shard file name, got " + v);
            }
            String shard = v.asText();
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".")
                    || shard.equals("..")) {
                throw new ModelFormatException(index, "field 'weight_map.\"" + f.getKey() + "\"': shard '" + shard
                        + "' is not a file name inside the directory");
            }
            weightMap.put(f.getKey(), shard);
            shardNames.add(shard);
        }
        List<SafeTensors> opened = new ArrayList<>();
        try {
            Map<String, SafeTensors> byName = new LinkedHashMap<>();
            for (String shard : shardNames) {
                Path file = dir.resolve(shard);
                if (!Files.isRegularFile(file)) {
                    String example = weightMap.entrySet().stream().filter(e -> e.getValue().equals(shard))
                            .map(Map.Entry::getKey).findFirst().orElseThrow();
                    throw new ModelFormatException(index, "shard file '" + shard
                            + "' (field 'weight_map', e.g. tensor '" + example + "') not found in " + dir);
                }
                SafeTensors st = SafeTensors.open(file);
                opened.add(st);
                byName.put(shard, st);
            }
            Map<String, SafeTensors> owner = new LinkedHashMap<>();
            for (SafeTensors st : opened) {
                for (String name : st.entries().keySet()) {
                    SafeTensors first = owner.putIfAbsent(name, st);
                    if (first != null) {
                        throw new ModelFormatException(index, "tensor '" + name + "' is in two shards, '"
                                + first.file().getFileName() + "' and '" + st.file().getFileName() + "'");
                    }
                }
            }
            List<String> unlisted = new ArrayList<>();
            for (String name : owner.keySet()) {
                if (!weightMap.containsKey(name)) {
                    unlisted.add(name);
                }
            }
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafeTensors st = byName.get(e.getValue());
                if (!st.entries().containsKey(e.getKey())) {
                    SafeTensors actual = owner.get(e.getKey());
                    throw new ModelFormatException(index, "field 'weight_map' places tensor '" + e.getKey()
                            + "' in shard '" + e.getValue() + "', which lacks it"
                            + (actual == null ? "" : " (it is in '" + actual.file().getFileName() + "')"));
                }
            }
            if (!unlisted.isEmpty()) {
                LOG.warn("{}: {} tensor(s) of the shards are not in 'weight_map' (loaded anyway): {}", index,
                        unlisted.size(), unlisted);
            }
            if (totalSize != null) {
                long sum = owner.values().stream().distinct().mapToLong(ModelTensors::dataBytes).sum();
                if (sum != totalSize) {
                    LOG.warn("{}: 'metadata.total_size' is {} but the shards hold {} bytes of tensors", index,
                            totalSize, sum);
                }
            }
            return new ModelTensors(dir, index, opened, owner, totalSize);
        } catch (ModelFormatException | RuntimeException e) {
            opened.forEach(SafeTensors::close);
            throw e;
        }
    }

    private static long dataBytes(SafeTensors st) {
        return st.entries().values().stream().mapToLong(SafeTensors.Entry::byteLength).sum();
    }

    /**
     * Returns the model directory.
     *
     * @return the directory
     */
    public Path directory() {
        return directory;
    }

    /**
     * Returns whether the weights are sharded (read through an index).
     *
     * @return true when an index was read
     */
    public boolean sharded() {
        return indexFile != null;
    }

    /**
     * Returns the file that describes the weights, for messages about the set as a whole (a missing tensor): the
     * index when sharded, else {@code model.safetensors}.
     *
     * @return the file
     */
    public Path source() {
        return indexFile != null ? indexFile : shards.get(0).file();
    }

    /**
     * Returns the safetensors files, in the order they were opened (shards sorted by name).
     *
     * @return the files
     */
    public List<Path> files() {
        return shards.stream().map(SafeTensors::file).toList();
    }

    /**
     * Returns every tensor of the weights, in file order (shard by shard).
     *
     * @return name to header entry
     */
    public Map<String, SafeTensors.Entry> entries() {
        return entries;
    }

    /**
     * Returns the index's {@code metadata.total_size} (bytes of tensor data), when there is an index that has it.
     *
     * @return the total size, or empty
     */
    public OptionalLong totalSize() {
        return totalSize == null ? OptionalLong.empty() : OptionalLong.of(totalSize);
    }

    /**
     * Returns the file that holds a tensor, for messages about it.
     *
     * @param name the tensor
     * @return its file, or {@link #source()} when there is no such tensor
     */
    public Path fileOf(String name) {
        SafeTensors st = owner.get(name);
        return st != null ? st.file() : source();
    }

    /**
     * Loads one tensor ({@link SafeTensors#load}: F16/BF16 widened to F32, zero-copy F32, NaN or infinity refused).
     *
     * @param name the tensor
     * @param manager the manager that owns the result
     * @return the tensor
     * @throws ModelFormatException when the tensor is absent or cannot be read; names the file and tensor
     */
    public NDArray load(String name, NDManager manager) throws ModelFormatException {
        SafeTensors st = owner.get(name);
        if (st == null) {
            throw new ModelFormatException(source(), "missing tensor '" + name + "'");
        }
        return st.load(name, manager);
    }

    /** Closes every file. Arrays already loaded stay valid. */
    @Override
    public void close() {
        shards.forEach(SafeTensors::close);
    }

    /**
     * Returns the directory and the number of files and tensors, for messages.
     *
     * @return a description
     */
    @Override
    public String toString() {
        return "ModelTensors[" + source() + ", " + shards.size() + " file(s), " + entries.size() + " tensors]";
    }

    // ------------------------------------------------------------------------------------------------ writing

    /**
     * Writes tensors as transformers' {@code save_pretrained} does: split into shards of at most
     * {@code options.maxShardSize()} bytes ({@link SaveOptions}), float32 tensors stored as {@code options.dtype()},
     * one {@code model.safetensors} or {@code model-0000i-of-0000N.safetensors} files with an index
     * ({@code metadata.total_parameters}, {@code metadata.total_size}, {@code weight_map}; keys sorted, 2-space
     * indent). Every shard's header carries {@code "format": "pt"}. Nothing is written when a tensor cannot be
     * ({@link SafeTensors#checkWritable}); after a successful write, weight files of an earlier save that the new
     * set does not include ({@code model.safetensors}, the index, {@code model-*-of-*.safetensors}) are deleted so
     * a reader never mixes versions.
     *
     * @param dir the directory (must exist)
     * @param tensors name to tensor, in state-dict order
     * @param options dtype and shard limit
     * @return the files written, in order (the index last when sharded)
     * @throws NonFiniteTensorException when a tensor holds NaN or infinity or overflows the dtype
     * @throws IOException on write failure
     */
    public static List<Path> write(Path dir, Map<String, NDArray> tensors, SaveOptions options) throws IOException {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("no tensors to write to " + dir);
        }
        TensorDType floatType = options.dtype().tensorDType();
        SafeTensors.checkWritable(dir.resolve(SINGLE_FILE), tensors, floatType);
        List<Map<String, NDArray>> shardList = split(tensors, floatType, options.maxShardSize());
        List<Path> written = new ArrayList<>();
        int n = shardList.size();
        Map<String, String> weightMap = new TreeMap<>();
        long totalSize = 0;
        long totalParameters = 0;
        for (int i = 0; i < n; i++) {
            // huggingface_hub: filename_pattern.format(suffix=f"-{idx + 1:05d}-of-{nb_shards:05d}")
            String name = n == 1 ? SINGLE_FILE : String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            Path file = dir.resolve(name);
            SafeTensors.writeChecked(file, shardList.get(i), Map.of(), floatType);
            written.add(file);
            for (Map.Entry<String, NDArray> e : shardList.get(i).entrySet()) {
                weightMap.put(e.getKey(), name);
                totalSize += storedBytes(e.getValue(), floatType);
                totalParameters += e.getValue().getShape().size();
            }
        }
        if (n > 1) {
            ObjectNode index = Json.MAPPER.createObjectNode();
            ObjectNode meta = index.putObject("metadata");
            meta.put("total_parameters", totalParameters);
            meta.put("total_size", totalSize);
            ObjectNode wm = index.putObject("weight_map");
            weightMap.forEach(wm::put);
            Path file = dir.resolve(INDEX_FILE);
            Files.writeString(file, Json.pythonStyle(index) + "\n", StandardCharsets.UTF_8);
            written.add(file);
        }
        removeStale(dir, written);
        return List.copyOf(written);
    }

    /**
     * Splits tensors into shards as huggingface_hub's {@code split_state_dict_into_shards_factory} does: in order,
     * a new shard when the next tensor would take the current one over the limit, a tensor over the limit alone in
     * a shard of its own (placed before the shard being filled).
     *
     * @param tensors name to tensor, in order
     * @param floatType how float32 tensors are stored (their byte size)
     * @param maxShardSize the limit in bytes
     * @return the shards, each name to tensor in order
     */
    static List<Map<String, NDArray>> split(Map<String, NDArray> tensors, TensorDType floatType, long maxShardSize) {
        List<Map<String, NDArray>> shards = new ArrayList<>();
        Map<String, NDArray> current = new LinkedHashMap<>();
        long currentSize = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            long size = storedBytes(e.getValue(), floatType);
            if (size > maxShardSize) {
                Map<String, NDArray> alone = new LinkedHashMap<>();
                alone.put(e.getKey(), e.getValue());
                shards.add(alone);
                continue;
            }
            if (currentSize + size > maxShardSize) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentSize = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentSize += size;
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    private static long storedBytes(NDArray a, TensorDType floatType) {
        return a.getShape().size() * SafeTensors.storedType(a.getDataType(), floatType).bytes();
    }

    /** Deletes weight files of an earlier save that are not among {@code keep}. */
    private static void removeStale(Path dir, List<Path> keep) throws IOException {
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> {
                String n = p.getFileName().toString();
                boolean weights = n.equals(SINGLE_FILE) || n.equals(INDEX_FILE) || SHARD_NAME.matcher(n).matches();
                if (weights && !keep.contains(p) && Files.isRegularFile(p)) {
                    stale.add(p);
                }
            });
        }
        for (Path p : stale) {
            Files.delete(p);
            LOG.debug("deleted {} of an earlier save", p);
        }
    }
}
