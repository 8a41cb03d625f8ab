package org.rlhf4j.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;

/** The benchmarks' FLOP and byte counts against hand counts and the models' own parameters, at tiny shapes. */
class BenchmarksTest {

    static final Gpt2Config GPT2 = Gpt2Config.of(100, 32, 64, 2, 4);
    // d = 64, 2 layers, 4 heads over 2 KV heads (head_dim 16, d_kv = 32), SwiGLU width 160, V = 100
    static final LlamaConfig LLAMA = LlamaConfig.of(LlamaFamily.LLAMA, 100, 32, 64, 2, 4, 2, 160, 0, 99);

    @Test
    void gpt2FlopsPerTokenByHand() {
        // N_matmul = L·(4d² + 2·d·4d) + V·d = 2·(16384 + 32768) + 6400 = 104704; 6N + 12·L·T·d at T = 8
        assertThat(Benchmarks.Dims.of(GPT2).nMatmul()).isEqualTo(104704.0);
        assertThat(Benchmarks.trainFlopsPerToken(GPT2, 8)).isEqualTo(6 * 104704.0 + 12 * 2 * 8 * 64);
    }

    @Test
    void llamaFlopsPerTokenByHand() {
        // per layer: 2·d·d (q, o) + 2·d·d_kv (k, v) + 3·d·ffn (gate, up, down) = 8192 + 4096 + 30720; + V·d
        Benchmarks.Dims d = Benchmarks.Dims.of(LLAMA);
        assertThat(d.nMatmul()).isEqualTo(2 * 43008.0 + 6400);
        assertThat(d.dkv()).isEqualTo(32);
        assertThat(Benchmarks.trainFlopsPerToken(LLAMA, 8)).isEqualTo(6 * 92416.0 + 12 * 2 * 8 * 64);
    }

    @Test
    void nMatmulIsTheModelsMatrixWeights() {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm llama = CausalLm.random(LLAMA, m, 1);
                CausalLm gpt2 = CausalLm.random(GPT2, m, 1)) {
            // Llama (no biases, untied): N_matmul + the embedding table + 2 RMSNorms per layer + the final one
            assertThat((double) count(llama)).isEqualTo(Benchmarks.Dims.of(LLAMA).nMatmul() + 100 * 64 + 5 * 64);
            // GPT-2 (tied logits): N_matmul + biases (3d + d + 4d + d) and LayerNorms (4d) per layer, ln_f, wpe
            assertThat((double) count(gpt2)).isEqualTo(Benchmarks.Dims.of(GPT2).nMatmul() + 2 * 13 * 64 + 2 * 64
                    + 32 * 64);
        }
    }

    private static long count(CausalLm model) {
        long n = 0;
        for (NDArray a : model.weights().arrays()) {
            n += a.size();
        }
        return n;
    }

    @Test
    void decodeRooflineByHand() {
        // B = 2, P = 3, n = 3: two decoding steps over caches of 4 and 5 positions
        Benchmarks.Roofline r = Benchmarks.decodeRoofline(LLAMA, 2, 3, 3, 1.0);
        double weights = 4 * 92416.0;
        double kv = 2.0 * 2 * 2 * 32 * 4 * (4 + 5); // K and V, L, B, d_kv, fp32
        assertThat(r.weightBytes()).isEqualTo(weights);
        assertThat(r.meanKvBytes()).isCloseTo(kv / 2, within(1e-6));
        assertThat(r.secondsPerStep()).isCloseTo((2 * weights + kv) / 2 / 1e9, within(1e-15));
        assertThat(r.newTokensPerSecond()).isCloseTo(2 * 2 / ((2 * weights + kv) / 1e9), within(1e-6));
        assertThatThrownBy(() -> Benchmarks.decodeRoofline(LLAMA, 2, 3, 1, 1.0)).hasMessageContaining("got 1");
    }

    @Test
    void measurementsRunAtATinyLlamaShape() {
        try (NDManager m = NDManager.newBaseManager()) {
            double bw = Benchmarks.bandwidthGbps(m, 1 << 20, 2);
            assertThat(bw).isPositive().isFinite();
            Benchmarks.TrainResult t = Benchmarks.trainingStep(m, LLAMA, 2, 8, 1);
            assertThat(t.secondsPerStep()).isPositive();
            assertThat(t.tokensPerSecond()).isCloseTo(16 / t.secondsPerStep(), within(1e-6));
            assertThat(t.gflops()).isCloseTo(t.tokensPerSecond() * Benchmarks.trainFlopsPerToken(LLAMA, 8) / 1e9,
                    within(1e-9));
            Benchmarks.GenResult g = Benchmarks.generation(m, LLAMA, 2, 4, 3, true, 0, 1);
            assertThat(g.newTokensPerSecond()).isCloseTo(6 / g.seconds(), within(1e-6));
        }
    }
}
