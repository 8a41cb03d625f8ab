package org.rlhf4j.examples.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.examples.bench.Benchmarks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j bench}: training-step throughput against the raw matmul peak measured in the same run (MFU), and
 * generation with the KV cache against full recomputation.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure training-step GFLOP/s vs the fp32 matmul peak (MFU) and KV-cache vs recompute generation.")
public final class BenchCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--n-embd", defaultValue = "512", description = "d_model. Default: ${DEFAULT-VALUE}.")
    int nEmbd;

    @Option(names = "--n-layer", defaultValue = "8", description = "Blocks. Default: ${DEFAULT-VALUE}.")
    int nLayer;

    @Option(names = "--n-head", defaultValue = "8", description = "Heads. Default: ${DEFAULT-VALUE}.")
    int nHead;

    @Option(names = "--vocab", defaultValue = "50257", description = "Vocabulary size. Default: ${DEFAULT-VALUE}.")
    int vocab;

    @Option(names = "--batch", defaultValue = "8", description = "Training batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--seq", defaultValue = "256", description = "Training sequence length. Default: ${DEFAULT-VALUE}.")
    int seq;

    @Option(names = "--steps", defaultValue = "3", description = "Timed training steps (after 1 warm-up). Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--matmul-size", defaultValue = "2048", description = "Square matmul size. Default: ${DEFAULT-VALUE}.")
    int matmulSize;

    @Option(names = "--gen-batch", defaultValue = "4", description = "Generation batch size. Default: ${DEFAULT-VALUE}.")
    int genBatch;

    @Option(names = "--prompt-len", defaultValue = "512", description = "Generation prompt length. Default: ${DEFAULT-VALUE}.")
    int promptLen;

    @Option(names = "--new-tokens", defaultValue = "53", description = "Generated tokens. Default: ${DEFAULT-VALUE}.")
    int newTokens;

    @Option(names = "--reps", defaultValue = "2", description = "Timed KV-cache generation repetitions (recomputation: half, at least 1; the KV runs warm the engine up). Default: ${DEFAULT-VALUE}.")
    int reps;

    @Option(names = "--skip", split = ",", description = "Parts to skip: train, gen.")
    java.util.Set<String> skip = java.util.Set.of();

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON to FILE.")
    Path json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("machine", machine());
        out.println("machine: " + res.get("machine"));
        try (NDManager m = NDManager.newBaseManager()) {
            res.put("device", m.getDevice().toString());
            double peak = Benchmarks.matmulGflops(m, matmulSize, 5);
            res.put("matmul_gflops", peak);
            out.printf(Locale.ROOT, "fp32 matmul %d^3: %.1f GFLOP/s%n", matmulSize, peak);
            if (!skip.contains("train")) {
                Gpt2Config c = Gpt2Config.of(vocab, Math.max(1024, Math.max(seq, promptLen + newTokens)), nEmbd, nLayer, nHead);
                Benchmarks.TrainResult t = Benchmarks.trainingStep(m, c, batch, seq, steps);
                double mfu = t.gflops() / peak;
                res.put("train", Map.of("n_embd", nEmbd, "n_layer", nLayer, "vocab", vocab, "batch", batch, "seq", seq,
                        "seconds_per_step", t.secondsPerStep(), "tokens_per_second", t.tokensPerSecond(),
                        "gflops", t.gflops(), "mfu_vs_matmul", mfu));
                out.printf(Locale.ROOT,
                        "training step d=%d L=%d V=%d B=%d T=%d: %.3f s/step, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of matmul%n",
                        nEmbd, nLayer, vocab, batch, seq, t.secondsPerStep(), t.tokensPerSecond(), t.gflops(), 100 * mfu);
            }
            if (!skip.contains("gen")) {
                Gpt2Config c = Gpt2Config.of(vocab, Math.max(1024, promptLen + newTokens), nEmbd, nLayer, nHead);
                Benchmarks.GenResult kv = Benchmarks.generation(m, c, genBatch, promptLen, newTokens, true, 1, reps);
                Benchmarks.GenResult full = Benchmarks.generation(m, c, genBatch, promptLen, newTokens, false, 0, Math.max(1, reps / 2));
                double speedup = full.seconds() / kv.seconds();
                res.put("generation", Map.of("batch", genBatch, "prompt_len", promptLen, "new_tokens", newTokens,
                        "kv_cache_seconds", kv.seconds(), "recompute_seconds", full.seconds(),
                        "kv_cache_tokens_per_second", kv.newTokensPerSecond(),
                        "recompute_tokens_per_second", full.newTokensPerSecond(), "speedup", speedup));
                out.printf(Locale.ROOT,
                        "generation B=%d prompt=%d new=%d: KV cache %.2f s (%.1f tok/s), recompute %.2f s (%.1f tok/s), %.1fx%n",
                        genBatch, promptLen, newTokens, kv.seconds(), kv.newTokensPerSecond(), full.seconds(),
                        full.newTokensPerSecond(), speedup);
            }
        }
        if (json != null) {
            Files.writeString(json, Json.pretty(res) + "\n");
        }
        return 0;
    }

    static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (Exception ignored) {
            // not Linux
        }
        return String.format(Locale.ROOT, "%s, %d cores, %s %s, Java %s, %s engine %s",
                cpu, Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
                System.getProperty("os.arch"), System.getProperty("java.version"),
                Engine.getInstance().getEngineName(), Engine.getInstance().getVersion());
    }
}
