package org.rlhf4j.core.io;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How model weights are written: the stored float type and the largest shard.
 *
 * <p>Sharding follows huggingface_hub's {@code split_state_dict_into_shards_factory} (called by transformers'
 * {@code save_pretrained}): tensors are taken in state-dict order and a new shard starts when the next tensor would
 * take the current one over {@code maxShardSize}; a tensor larger than the limit gets a shard of its own. Sizes count
 * tensor bytes in the stored type (headers excluded). One shard is written as {@code model.safetensors}; several as
 * {@code model-00001-of-0000N.safetensors} plus {@code model.safetensors.index.json}.
 *
 * @param dtype the stored float type
 * @param maxShardSize the largest shard in bytes (&gt; 0); default {@link #DEFAULT_MAX_SHARD_SIZE}
 */
public record SaveOptions(SaveDtype dtype, long maxShardSize) {

    /**
     * Default shard limit, 5 GB = 5·10⁹ bytes: huggingface_hub's {@code MAX_SHARD_SIZE} ("5GB", the default of
     * {@code split_torch_state_dict_into_shards} and of transformers 4.x {@code save_pretrained}; transformers 5.x
     * raised its own default to "50GB").
     */
    public static final long DEFAULT_MAX_SHARD_SIZE = 5_000_000_000L;

    /** float32, shards of at most 5 GB: what {@code save(dir)} writes. */
    public static final SaveOptions DEFAULTS = new SaveOptions(SaveDtype.FP32, DEFAULT_MAX_SHARD_SIZE);

    /** A decimal number as Python's {@code float()} reads one (sign, digits, fraction, exponent). */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** Validates the options. */
    public SaveOptions {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype must not be null");
        }
        if (maxShardSize <= 0) {
            throw new IllegalArgumentException("maxShardSize must be > 0 bytes, got " + maxShardSize);
        }
    }

    /**
     * Returns the default options with another dtype.
     *
     * @param dtype the stored float type
     * @return the options
     */
    public static SaveOptions of(SaveDtype dtype) {
        return new SaveOptions(dtype, DEFAULT_MAX_SHARD_SIZE);
    }

    /**
     * Returns a copy with another dtype.
     *
     * @param newDtype the stored float type
     * @return the copy
     */
    public SaveOptions withDtype(SaveDtype newDtype) {
        return new SaveOptions(newDtype, maxShardSize);
    }

    /**
     * Returns a copy with another shard limit.
     *
     * @param bytes the largest shard in bytes
     * @return the copy
     */
    public SaveOptions withMaxShardSize(long bytes) {
        return new SaveOptions(dtype, bytes);
    }

    /**
     * Builds options from command-line strings, either of which may be null for the default: what a
     * {@code --save-dtype} / {@code --max-shard-size} pair of flags passes.
     *
     * @param dtype {@code fp32}, {@code bf16}, {@code fp16} (or torch's names); null for fp32
     * @param maxShardSize a size as {@link #parseSize} reads it; null for 5GB
     * @return the options
     * @throws IllegalArgumentException naming the bad value and listing the valid forms
     */
    public static SaveOptions parse(String dtype, String maxShardSize) {
        return new SaveOptions(
                dtype == null ? SaveDtype.FP32 : SaveDtype.parse(dtype),
                maxShardSize == null ? DEFAULT_MAX_SHARD_SIZE : parseSize(maxShardSize));
    }

    /**
     * Parses a size as transformers' {@code max_shard_size} accepts it: a whole number of bytes, or a number
     * followed by a decimal unit {@code KB}, {@code MB}, {@code GB}, {@code TB} (10³, 10⁶, 10⁹, 10¹²; the unit is
     * case-insensitive, the number may have a fraction, spaces around it are ignored); the result is truncated to
     * whole bytes, as huggingface_hub's {@code parse_size_to_int} does: {@code "500MB"} = 500 000 000,
     * {@code "1.5KB"} = 1500.
     *
     * @param s the size
     * @return bytes, &gt; 0
     * @throws IllegalArgumentException naming the value and listing the accepted forms
     */
    public static long parseSize(String s) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("empty size; expected bytes or a number with KB, MB, GB or TB");
        }
        String v = s.trim();
        long bytes;
        if (v.chars().allMatch(Character::isDigit)) {
            try {
                bytes = Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("size '" + s + "' is too large");
            }
        } else {
            String unit = v.length() < 2 ? v : v.substring(v.length() - 2).toUpperCase(Locale.ROOT);
            // huggingface_hub serialization/_base.py SIZE_UNITS: decimal units
            double multiplier = switch (unit) {
                case "KB" -> 1e3;
                case "MB" -> 1e6;
                case "GB" -> 1e9;
                case "TB" -> 1e12;
                default -> throw new IllegalArgumentException("size '" + s + "' has no supported unit;"
                        + " expected bytes or a number with KB, MB, GB or TB (e.g. 500MB, 5GB)");
            };
            String number = v.substring(0, v.length() - 2).trim();
            if (!NUMBER.matcher(number).matches()) {
                throw new IllegalArgumentException("size '" + s + "': '" + number + "' is not a decimal number");
            }
            bytes = (long) (Double.parseDouble(number) * multiplier);
        }
        if (bytes <= 0) {
            throw new IllegalArgumentException("size '" + s + "' must be at least one byte");
        }
        return bytes;
    }
}
