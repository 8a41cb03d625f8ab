package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Sizes parse as huggingface_hub's {@code parse_size_to_int} parses {@code max_shard_size}; dtypes by name. */
class SaveOptionsTest {

    @Test
    void sizesUseDecimalUnitsAsHuggingfaceHub() {
        assertThat(SaveOptions.parseSize("5GB")).isEqualTo(5_000_000_000L);
        assertThat(SaveOptions.parseSize("500MB")).isEqualTo(500_000_000L);
        assertThat(SaveOptions.parseSize("20KB")).isEqualTo(20_000L);
        assertThat(SaveOptions.parseSize("2TB")).isEqualTo(2_000_000_000_000L);
        assertThat(SaveOptions.parseSize("5gb")).isEqualTo(5_000_000_000L); // the unit is upper-cased
        assertThat(SaveOptions.parseSize(" 10 MB ")).isEqualTo(10_000_000L);
        assertThat(SaveOptions.parseSize("1.5KB")).isEqualTo(1500L);
        assertThat(SaveOptions.parseSize("0.0015KB")).isEqualTo(1L); // int(0.0015 * 1000) = 1 (truncated)
        assertThat(SaveOptions.parseSize("123456")).isEqualTo(123_456L); // plain bytes, as an int max_shard_size
        assertThat(SaveOptions.DEFAULTS.maxShardSize()).isEqualTo(SaveOptions.parseSize("5GB"));
        assertThat(SaveOptions.DEFAULTS.dtype()).isEqualTo(SaveDtype.FP32);
    }

    @Test
    void badSizesNameTheValueAndTheUnits() {
        assertThatThrownBy(() -> SaveOptions.parseSize("5GiB"))
                .hasMessageContaining("'5GiB'").hasMessageContaining("KB, MB, GB or TB");
        assertThatThrownBy(() -> SaveOptions.parseSize("fiveGB")).hasMessageContaining("'five'");
        assertThatThrownBy(() -> SaveOptions.parseSize("0MB")).hasMessageContaining("at least one byte");
        assertThatThrownBy(() -> SaveOptions.parseSize("-5MB")).hasMessageContaining("at least one byte");
        assertThatThrownBy(() -> SaveOptions.parseSize("")).hasMessageContaining("empty size");
        assertThatThrownBy(() -> new SaveOptions(SaveDtype.BF16, 0)).hasMessageContaining("maxShardSize");
    }

    @Test
    void dtypesParseByShortOrTorchName() {
        assertThat(SaveDtype.parse("bf16")).isEqualTo(SaveDtype.BF16);
        assertThat(SaveDtype.parse("BFloat16")).isEqualTo(SaveDtype.BF16);
        assertThat(SaveDtype.parse("fp16")).isEqualTo(SaveDtype.FP16);
        assertThat(SaveDtype.parse("float32")).isEqualTo(SaveDtype.FP32);
        assertThat(SaveDtype.BF16.torchName()).isEqualTo("bfloat16");
        assertThat(SaveDtype.FP16.tensorDType()).isEqualTo(TensorDType.F16);
        assertThatThrownBy(() -> SaveDtype.parse("int8"))
                .hasMessageContaining("'int8'").hasMessageContaining("fp32, bf16, fp16");
        SaveOptions o = SaveOptions.parse("fp16", "500MB");
        assertThat(o).isEqualTo(new SaveOptions(SaveDtype.FP16, 500_000_000L));
        assertThat(SaveOptions.parse(null, null)).isEqualTo(SaveOptions.DEFAULTS);
        assertThat(SaveOptions.of(SaveDtype.BF16).withMaxShardSize(7)).isEqualTo(new SaveOptions(SaveDtype.BF16, 7));
    }
}
