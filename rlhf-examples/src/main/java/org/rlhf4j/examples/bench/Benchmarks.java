package org.rlhf4j.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.LrSchedule;
import org.rlhf4j.core.train.Updater;

/**
 * Throughput measurements of GPT-2 and Llama shapes (random weights, fp32): the matmul peak, the memory bandwidth, a
 * full training step and generation, and the decode roofline. Timings are wall-clock medians over repetitions after
 * warm-up; FLOP and byte counts are stated next to each method. {@code scripts/bench_peer.py} repeats them with
 * torch + transformers.
 */
public final class Benchmarks {

    private Benchmarks() {}

    /**
     * Result of the training-step benchmark.
     *
     * @param secondsPerStep median seconds per optimizer step
     * @param tokensPerSecond tokens processed per second
     * @param gflops achieved model GFLOP/s (6·N_matmul + 12·L·T·d per token)
     * @param flopsPerToken the FLOP count used
     */
    public record TrainResult(double secondsPerStep, double tokensPerSecond, double gflops, double flopsPerToken) {}

    /**
     * Result of the generation benchmark.
     *
     * @param seconds median seconds per generate call
     * @param newTokensPerSecond generated tokens per second (batch × new tokens / time)
     */
    public record GenResult(double seconds, double newTokensPerSecond) {}

    /**
     * Measures fp32 square matmul throughput: 2n³ FLOP per product.
     *
     * @param m manager (device)
     * @param n matrix size
     * @param reps timed repetitions
     * @return GFLOP/s (median)
     */
    public static double matmulGflops(NDManager m, int n, int reps) {
        try (NDManager s = m.newSubManager()) {
            NDArray a = s.randomUniform(-1, 1, new Shape(n, n));
            NDArray b = s.randomUniform(-1, 1, new Shape(n, n));
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < reps + 2; i++) {
                try (NDScope scope = new NDScope()) {
                    long t0 = System.nanoTime();
                    NDArray c = a.matMul(b);
                    c.getFloat(0, 0); // synchronise
                    double dt = (System.nanoTime() - t0) / 1e9;
                    if (i >= 2) {
                        times.add(dt);
                    }
                }
            }
            return 2.0 * n * n * n / median(times) / 1e9;
        }
    }

    /**
     * FLOPs per trained token (forward + backward), the PaLM/Chinchilla model-FLOP count 6·N_matmul + 12·L·T·d_q:
     * the weights of the matrix products (N_matmul) cost 2 FLOP per weight forward and 4 backward, attention's
     * QKᵀ and AV products 2·2·T·d_q forward per layer, three times that with the backward. N_matmul counts the blocks
     * and the (tied or not) logits layer; embedding lookups are free.
     *
     * <ul>
     *   <li>GPT-2: N_matmul = L·(4·d² + 2·d·d_ff) + V·d (d_ff = 4·d by default, so 12·L·d² + V·d), d_q = d;
     *   <li>Llama (RMSNorm, rotary, SwiGLU): N_matmul = L·(2·d·d_q + 2·d·d_kv + 3·d·d_ff) + V·d with
     *       d_q = heads·head_dim (= d when head_dim = d / heads), d_kv = kv_heads·head_dim (q and o projections,
     *       k and v projections, gate, up and down projections).
     * </ul>
     *
     * @param c config, a {@link Gpt2Config} or a {@link LlamaConfig}
     * @param seq sequence length T
     * @return FLOPs per token
     */
    public static double trainFlopsPerToken(ModelConfig c, int seq) {
        Dims s = Dims.of(c);
        return 6 * s.nMatmul() + 12.0 * s.layers() * seq * s.dq();
    }

    /**
     * The dimensions the FLOP and byte counts need.
     *
     * @param layers L
     * @param d d_model
     * @param dq width of the queries (heads·head_dim)
     * @param dkv width of the keys and of the values (kv_heads·head_dim)
     * @param ffn feed-forward width
     * @param vocab V
     * @param nMatmul weights of the matrix products (blocks and logits layer)
     */
    public record Dims(int layers, int d, int dq, int dkv, int ffn, int vocab, double nMatmul) {

        /**
         * Reads the dimensions of a GPT-2 or Llama config.
         *
         * @param c the config
         * @return the dimensions
         * @throws IllegalArgumentException for another architecture
         */
        public static Dims of(ModelConfig c) {
            if (c instanceof Gpt2Config g) {
                double d = g.nEmbd();
                double n = g.nLayer() * (4 * d * d + 2 * d * g.nInner()) + (double) g.vocabSize() * d;
                return new Dims(g.nLayer(), g.nEmbd(), g.nEmbd(), g.nEmbd(), g.nInner(), g.vocabSize(), n);
            } else if (c instanceof LlamaConfig l) {
                double d = l.hiddenSize();
                int dq = l.numAttentionHeads() * l.headDim();
                int dkv = l.numKeyValueHeads() * l.headDim();
                double n = l.numHiddenLayers() * (2 * d * dq + 2 * d * dkv + 3 * d * l.intermediateSize())
                        + (double) l.vocabSize() * d;
                return new Dims(l.numHiddenLayers(), l.hiddenSize(), dq, dkv, l.intermediateSize(), l.vocabSize(), n);
            }
            throw new IllegalArgumentException("benchmarks model GPT-2 and Llama shapes, got model_type '"
                    + c.modelType() + "'");
        }
    }

    /**
     * Times full training steps (forward, next-token NLL, backward, clipping, AdamW) on random tokens.
     *
     * @param m manager
     * @param c model config
     * @param batch B
     * @param seq T
     * @param steps timed steps
     * @return the result
     */
    public static TrainResult trainingStep(NDManager m, ModelConfig c, int batch, int seq, int steps) {
        return trainingStep(m, c, batch, seq, steps, null);
    }

    /**
     * Times full training steps as {@link #trainingStep(NDManager, ModelConfig, int, int, int)} and, when
     * {@code profile} is not null, records one more step, after the timed ones, with libtorch's autograd profiler
     * (DJL's {@code JniUtils.startProfile}/{@code stopProfile}, PyTorch engine only) into that file: a Chrome trace
     * of every native op with its input shapes, which {@code scripts/compare/profile_ops.py} sums per op and sets
     * beside the peer's {@code torch.profiler} trace of the same step. The profiled step is not in the timings.
     *
     * @param m manager
     * @param c model config
     * @param batch B
     * @param seq T
     * @param steps timed steps
     * @param profile the trace file to write, or null for none
     * @return the result
     */
    public static TrainResult trainingStep(
            NDManager m, ModelConfig c, int batch, int seq, int steps, java.nio.file.Path profile) {
        try (NDManager s = m.newSubManager();
                CausalLm model = CausalLm.random(c, s, 1)) {
            model.weights().setRequiresGradient(true);
            AdamW opt = AdamW.of(model.weights(), 0.01);
            Updater up = new Updater(opt, new LrSchedule.Constant(1e-4, 0), 1.0, 0);
            SplittableRandom rng = new SplittableRandom(0);
            List<Double> times = new ArrayList<>();
            int total = steps + 1 + (profile == null ? 0 : 1);
            for (int i = 0; i < total; i++) {
                boolean profiled = profile != null && i == total - 1;
                if (profiled) {
                    ai.djl.pytorch.jni.JniUtils.startProfile(false, true, false);
                }
                long[] ids = new long[batch * seq];
                for (int j = 0; j < ids.length; j++) {
                    ids[j] = rng.nextInt(c.vocabSize());
                }
                long t0 = System.nanoTime();
                try (NDManager step = s.newSubManager();
                        NDScope scope = new NDScope()) {
                    NDArray x = step.create(ids, new Shape(batch, seq));
                    NDArray mask = step.ones(x.getShape(), DataType.FLOAT32);
                    double loss;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray l = model.nextTokenLogprobs(x, mask).mean().neg();
                        gc.backward(l);
                        loss = l.getFloat();
                    }
                    up.step(model.weights(), loss);
                }
                double dt = (System.nanoTime() - t0) / 1e9;
                if (profiled) {
                    ai.djl.pytorch.jni.JniUtils.stopProfile(profile.toAbsolutePath().toString());
                } else if (i >= 1) {
                    times.add(dt);
                }
            }
            opt.close();
            double sec = median(times);
            double tps = batch * (double) seq / sec;
            double fpt = trainFlopsPerToken(c, seq);
            return new TrainResult(sec, tps, tps * fpt / 1e9, fpt);
        }
    }

    /**
     * Times batched generation of exactly {@code newTokens} tokens after a {@code promptLen}-token prompt.
     *
     * @param m manager
     * @param c model config
     * @param batch B
     * @param promptLen prompt tokens
     * @param newTokens new tokens
     * @param kvCache whether to use the KV cache
     * @param warmup untimed repetitions first
     * @param reps timed repetitions
     * @return the result
     */
    public static GenResult generation(
            NDManager m, ModelConfig c, int batch, int promptLen, int newTokens, boolean kvCache, int warmup, int reps) {
        try (NDManager s = m.newSubManager();
                CausalLm model = CausalLm.random(c, s, 2)) {
            SplittableRandom rng = new SplittableRandom(1);
            List<int[]> prompts = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] p = new int[promptLen];
                for (int j = 0; j < promptLen; j++) {
                    p[j] = rng.nextInt(c.vocabSize());
                }
                prompts.add(p);
            }
            GenerationConfig cfg = GenerationConfig.rollout(newTokens, c.eosTokenId()).withKvCache(kvCache);
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < reps + warmup; i++) {
                long t0 = System.nanoTime();
                Generator.generate(model, prompts, null, cfg, i);
                double dt = (System.nanoTime() - t0) / 1e9;
                if (i >= warmup) {
                    times.add(dt);
                }
            }
            double sec = median(times);
            return new GenResult(sec, batch * (double) newTokens / sec);
        }
    }

    /**
     * Measures the memory bandwidth with an in-place add of two large fp32 arrays, a ← a + b: each repetition reads
     * a and b and writes a back, 3 × 4·n bytes of traffic (the cache lines of a are already held when they are
     * written, so no extra read for ownership). In place, so no repetition pays for fresh pages.
     *
     * @param m manager (device)
     * @param floats elements per array (256 MB = 64 Mi floats)
     * @param reps timed repetitions (after 2 warm-ups)
     * @return GB/s (10⁹ bytes per second, median)
     */
    public static double bandwidthGbps(NDManager m, long floats, int reps) {
        if (floats < 1 || reps < 1) {
            throw new IllegalArgumentException("floats and reps must be >= 1, got " + floats + ", " + reps);
        }
        try (NDManager s = m.newSubManager()) {
            NDArray a = s.zeros(new Shape(floats), DataType.FLOAT32);
            NDArray b = s.ones(new Shape(floats), DataType.FLOAT32);
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < reps + 2; i++) {
                long t0 = System.nanoTime();
                a.addi(b);
                a.getFloat(0); // synchronise
                double dt = (System.nanoTime() - t0) / 1e9;
                if (i >= 2) {
                    times.add(dt);
                }
            }
            return 3.0 * 4 * floats / median(times) / 1e9;
        }
    }

    /**
     * The decode roofline: a decoding step after the prefill reads every matmul weight once and the whole KV cache
     * of the batch, so it takes at least (W + KV(p)) / bandwidth seconds, with W = 4·N_matmul bytes (fp32; the
     * logits matrix included, embedding lookups read B rows, norms and biases are negligible) and
     * KV(p) = 2·L·B·p·d_kv·4 bytes for a cache of p positions (keys and values). Generating n tokens after a
     * P-token prompt runs the prefill (which samples the first token) and n − 1 decoding steps reading caches of
     * P + 1 … P + n − 1 positions.
     *
     * @param c config
     * @param batch B
     * @param promptLen P
     * @param newTokens n (≥ 2)
     * @param bandwidthGbps measured bandwidth
     * @return the roofline
     */
    public static Roofline decodeRoofline(ModelConfig c, int batch, int promptLen, int newTokens, double bandwidthGbps) {
        if (newTokens < 2) {
            throw new IllegalArgumentException("newTokens must be >= 2 (one decoding step), got " + newTokens);
        }
        Dims dims = Dims.of(c);
        double weights = 4 * dims.nMatmul();
        double kv = 0;
        for (int p = promptLen + 1; p <= promptLen + newTokens - 1; p++) {
            kv += 2.0 * dims.layers() * batch * p * dims.dkv() * 4;
        }
        int steps = newTokens - 1;
        double bytes = weights * steps + kv;
        double seconds = bytes / (bandwidthGbps * 1e9);
        return new Roofline(weights, kv / steps, seconds / steps, batch * (double) steps / seconds);
    }

    /**
     * The decode roofline of one generation shape.
     *
     * @param weightBytes bytes of weights read per decoding step
     * @param meanKvBytes mean bytes of KV cache read per decoding step
     * @param secondsPerStep the bound on seconds per decoding step (mean over the steps)
     * @param newTokensPerSecond the bound's new tokens per second (B per step)
     */
    public record Roofline(double weightBytes, double meanKvBytes, double secondsPerStep, double newTokensPerSecond) {}

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
