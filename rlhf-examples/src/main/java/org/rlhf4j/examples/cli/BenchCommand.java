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
import org.rlhf4j.examples.bench.MemoryBench;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j bench}: training-step throughput against the raw matmul peak measured in the same run (MFU), and
 * generation with the KV cache against full recomputation; {@code --memory}: the memory of DPO and PPO, full
 * fine-tuning against LoRA ({@link MemoryBench}).
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

    @Option(names = "--memory",
            description = "Instead: memory of DPO and PPO, full fine-tuning vs LoRA, on the real trainers with random "
                    + "weights at GPT-2-small and SmolLM2-135M shapes (parameter, AdamW and peak resident bytes).")
    boolean memory;

    @Option(names = "--memory-shapes", split = ",", defaultValue = "gpt2-small,smollm2-135m",
            description = "Shapes for --memory: gpt2-small, smollm2-135m. Default: ${DEFAULT-VALUE}.")
    List<String> memoryShapes;

    @Option(names = "--memory-algorithms", split = ",", defaultValue = "dpo,ppo",
            description = "Trainers for --memory: dpo, ppo. Default: ${DEFAULT-VALUE}.")
    List<String> memoryAlgorithms;

    @Option(names = "--lora-r", defaultValue = "16", description = "LoRA rank for --memory. Default: ${DEFAULT-VALUE}.")
    int loraR;

    @Option(names = "--lora-target", split = ",",
            description = "LoRA targets for --memory (default: the architecture's PEFT default; all-linear for every "
                    + "linear layer).")
    List<String> loraTarget;

    @Option(names = "--memory-batch", defaultValue = "2", description = "Sequences per update for --memory. Default: ${DEFAULT-VALUE}.")
    int memoryBatch;

    @Option(names = "--memory-steps", defaultValue = "2", description = "Updates per case for --memory. Default: ${DEFAULT-VALUE}.")
    int memorySteps;

    @Option(names = "--memory-seq", defaultValue = "32",
            description = "Prompt tokens for --memory; responses are half as long. Default: ${DEFAULT-VALUE}.")
    int memorySeq;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("machine", machine());
        out.println("machine: " + res.get("machine"));
        if (memoryCase != null) {
            String[] parts = memoryCase.split(":");
            if (parts.length != 3 || !(parts[2].equals("full") || parts[2].equals("lora"))) {
                throw new IllegalArgumentException("--memory-case: expected SHAPE:TRAINER:full|lora, got '"
                        + memoryCase + "'");
            }
            out.println(CASE_LINE + Json.compact(runCase(parts[0], parts[1], parts[2].equals("lora"))));
            out.flush();
            return 0;
        }
        if (memory) {
            res.put("memory", memoryTable(out));
            if (json != null) {
                Files.writeString(json, Json.pretty(res) + "\n");
            }
            return 0;
        }
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

    @Option(names = "--memory-case", hidden = true, paramLabel = "SHAPE:TRAINER:full|lora",
            description = "Run one --memory case in this JVM and print it as one JSON line (the parent runs each case "
                    + "in a fresh JVM).")
    String memoryCase;

    /** Prefix of the one JSON line a --memory-case child prints. */
    private static final String CASE_LINE = "MEMORY_CASE ";

    /** Runs one case in this JVM. */
    private MemoryBench.Case runCase(String shape, String algorithm, boolean useLora) {
        LoraConfig lora = useLora
                ? new LoraConfig(loraR, 2.0 * loraR, 0, loraTarget == null ? List.of() : loraTarget, false) : null;
        ModelConfig c = switch (shape) {
            case "gpt2-small" -> MemoryBench.gpt2Small();
            case "smollm2-135m" -> MemoryBench.smolLm2();
            default -> throw new IllegalArgumentException("--memory-shapes: unknown shape '" + shape
                    + "' (gpt2-small, smollm2-135m)");
        };
        return switch (algorithm) {
            case "dpo" -> MemoryBench.dpo(shape, c, lora, memoryBatch, memorySeq, memorySeq / 2, memorySteps);
            case "ppo" -> MemoryBench.ppo(shape, c, lora, memoryBatch, memorySeq, memorySeq / 2, memorySteps);
            default -> throw new IllegalArgumentException("--memory-algorithms: unknown trainer '" + algorithm
                    + "' (dpo, ppo)");
        };
    }

    /**
     * Runs one case in a fresh JVM (the same java, class path and JVM options), so that no case's freed memory, kept
     * resident by the allocator, raises the next one's baseline.
     */
    private MemoryBench.Case runChild(String shape, String algorithm, boolean useLora) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Rlhf4jCli.class.getName(), "bench",
                "--memory-case", shape + ":" + algorithm + ":" + (useLora ? "lora" : "full"), "--lora-r",
                Integer.toString(loraR), "--memory-batch", Integer.toString(memoryBatch), "--memory-steps",
                Integer.toString(memorySteps), "--memory-seq", Integer.toString(memorySeq)));
        if (loraTarget != null) {
            cmd.addAll(List.of("--lora-target", String.join(",", loraTarget)));
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = null;
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                if (l.startsWith(CASE_LINE)) {
                    line = l.substring(CASE_LINE.length());
                }
            }
        }
        int code = p.waitFor();
        if (code != 0 || line == null) {
            throw new IllegalStateException("memory case " + shape + ":" + algorithm + ":" + (useLora ? "lora" : "full")
                    + " failed with exit code " + code);
        }
        return Json.MAPPER.readValue(line, MemoryBench.Case.class);
    }

    /** Runs the --memory cases, each in a fresh JVM, printing a Markdown table row per case as it finishes. */
    private List<MemoryBench.Case> memoryTable(PrintWriter out) throws Exception {
        out.println("| shape | trainer | mode | parameter MB (distinct) | trainable MB | AdamW MB | baseline RSS MB "
                + "| peak RSS MB | peak − baseline MB | s/update |");
        out.println("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        out.flush();
        List<MemoryBench.Case> cases = new ArrayList<>();
        for (String shape : memoryShapes) {
            for (String algorithm : memoryAlgorithms) {
                for (boolean useLora : new boolean[] {false, true}) {
                    MemoryBench.Case k = runChild(shape, algorithm, useLora);
                    cases.add(k);
                    out.printf(Locale.ROOT, "| %s | %s | %s | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f | %.1f |%n",
                            k.shape(), k.algorithm(), k.mode(), mb(k.parameterBytes()), mb(k.trainableBytes()),
                            mb(k.optimizerBytes()), mb(k.baselineRssBytes()), mb(k.peakRssBytes()),
                            mb(k.peakAboveBaselineBytes()), k.secondsPerStep());
                    out.flush();
                }
            }
        }
        return cases;
    }

    private static double mb(long bytes) {
        return bytes / 1e6;
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
