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
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.LrSchedule;
import org.rlhf4j.core.train.Updater;

/**
 * Throughput measurements. Timings are wall-clock medians over repetitions after warm-up; FLOP counts are stated
 * next to each method.
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
     * FLOPs per trained token (forward + backward) of a GPT-2: 6·N_matmul + 12·L·T·d, with N_matmul = 12·L·d² +
     * V·d (blocks and the tied logits layer; embedding lookups are free) — the PaLM/Chinchilla model-FLOP count.
     *
     * @param c config
     * @param seq sequence length T
     * @return FLOPs per token
     */
    public static double trainFlopsPerToken(Gpt2Config c, int seq) {
        double d = c.nEmbd();
        double nMatmul = c.nLayer() * (4 * d * d + 2 * d * c.nInner()) + (double) c.vocabSize() * d;
        return 6 * nMatmul + 12.0 * c.nLayer() * seq * d;
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
    public static TrainResult trainingStep(NDManager m, Gpt2Config c, int batch, int seq, int steps) {
        try (NDManager s = m.newSubManager();
                Gpt2 model = Gpt2.random(c, s, 1)) {
            model.weights().setRequiresGradient(true);
            AdamW opt = AdamW.of(model.weights(), 0.01);
            Updater up = new Updater(opt, new LrSchedule.Constant(1e-4, 0), 1.0, 0);
            SplittableRandom rng = new SplittableRandom(0);
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < steps + 1; i++) {
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
                if (i >= 1) {
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
            NDManager m, Gpt2Config c, int batch, int promptLen, int newTokens, boolean kvCache, int warmup, int reps) {
        try (NDManager s = m.newSubManager();
                Gpt2 model = Gpt2.random(c, s, 2)) {
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

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
