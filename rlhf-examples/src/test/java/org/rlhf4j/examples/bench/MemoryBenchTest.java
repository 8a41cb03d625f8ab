package org.rlhf4j.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.Gpt2Config;

/** The memory benchmark's byte counts on a tiny model: full DPO holds two trunks, LoRA DPO one base and an adapter. */
class MemoryBenchTest {

    @Test
    void countsTheSharedBaseOnce() {
        Gpt2Config tiny = Gpt2Config.of(16, 64, 32, 2, 4);
        long base = 4L * (16 * 32 + 64 * 32 + 2 * (2 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 2 * 32 + 32 * 128 + 128
                + 128 * 32 + 32) + 2 * 32); // wte, wpe, 2 blocks, ln_f
        MemoryBench.Case full = MemoryBench.dpo("tiny", tiny, null, 2, 4, 3, 1);
        assertThat(full.trainableBytes()).isEqualTo(base);
        assertThat(full.parameterBytes()).isEqualTo(2 * base);
        assertThat(full.optimizerBytes()).isEqualTo(2 * base);
        MemoryBench.Case lora = MemoryBench.dpo("tiny", tiny, new LoraConfig(4, 8, 0, List.of(), false), 2, 4, 3, 1);
        long adapter = 4L * 2 * (4 * 32 + 96 * 4); // c_attn: A [4, 32], B [96, 4] per layer
        assertThat(lora.trainableBytes()).isEqualTo(adapter);
        assertThat(lora.parameterBytes()).isEqualTo(base + adapter);
        assertThat(lora.mode()).isEqualTo("lora r=4 c_attn");
        MemoryBench.Case ppo = MemoryBench.ppo("tiny", tiny, new LoraConfig(4, 8, 0, List.of(), false), 2, 4, 3, 1);
        long head = 4L * (32 + 1);
        assertThat(ppo.parameterBytes()).isEqualTo(base + 3 * adapter + 2 * head);
        if (full.peakRssBytes() > 0) { // Linux
            // VmRSS/VmHWM are approximate (per-thread RSS counters are folded in lazily, SPLIT_RSS_COUNTING: up to
            // 64 pages per thread), so a peak can read a few hundred KB under the baseline (measured: 320 KB)
            assertThat(full.peakRssBytes()).isGreaterThanOrEqualTo(full.baselineRssBytes() - (16L << 20));
        }
    }
}
