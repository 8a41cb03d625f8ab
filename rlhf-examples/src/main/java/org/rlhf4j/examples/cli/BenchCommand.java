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
import org.rlhf4j.examples.bench.PhaseBench;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j bench}: training-step throughput of a GPT-2 or Llama shape against the raw matmul peak measured in the
 * same run (MFU), the memory bandwidth, generation with the KV cache against full recomputation, and decoding against
 * its bandwidth roofline ({@link Benchmarks}); {@code --breakdown ppo,grpo}: where an RL update's time goes
 * ({@link PhaseBench#breakdown}); {@code --rss-updates N}: resident memory over N PPO updates
 * ({@link PhaseBench#rssGrowth}); {@code --memory}: the memory of DPO and PPO, full fine-tuning against LoRA
 * ({@link MemoryBench}). {@code scripts/bench_peer.py} measures the same with torch + transformers.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure training-step GFLOP/s vs the fp32 matmul peak (MFU), memory bandwidth, KV-cache vs "
                + "recompute generation and decoding vs its bandwidth roofline; or an RL update's phases "
                + "(--breakdown), resident memory over a long PPO run (--rss-updates), DPO/PPO memory (--memory).")
public final class BenchCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    /** The benchmarked architectures. */
    enum Arch {
        /** GPT-2: LayerNorm, learned positions, GELU MLP. */
        gpt2,
        /** Llama: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention. */
        llama
    }

    @Option(names = "--arch", defaultValue = "gpt2",
            description = "Architecture: gpt2 or llama (RMSNorm, rotary, SwiGLU; --n-kv-head, --ffn). Default: ${DEFAULT-VALUE}.")
    Arch arch;

    @Option(names = "--n-kv-head", description = "Llama key/value heads (default: --n-head).")
    Integer nKvHead;

    @Option(names = "--ffn", description = "Feed-forward width (default: 4·d for gpt2, ⌈8d/3 / 64⌉·64 for llama).")
    Integer ffn;

    @Option(names = "--bandwidth-mb", defaultValue = "256",
            description = "MB per array of the bandwidth measurement (a += b). Default: ${DEFAULT-VALUE}.")
    int bandwidthMb;

    @Option(names = "--breakdown", split = ",", paramLabel = "ppo|grpo",
            description = "Instead: run the real PPO and/or GRPO trainer (random weights, --arch shape) and print the "
                    + "median seconds and share of the update of each phase (time/generate, time/score, "
                    + "time/forward, time/train).")
    List<String> breakdown;

    @Option(names = "--breakdown-batch", defaultValue = "8",
            description = "Sequences per update for --breakdown (GRPO: prompts × generations). Default: ${DEFAULT-VALUE}.")
    int breakdownBatch;

    @Option(names = "--breakdown-prompt-len", defaultValue = "64",
            description = "Prompt tokens for --breakdown. Default: ${DEFAULT-VALUE}.")
    int breakdownPrompt;

    @Option(names = "--breakdown-response-len", defaultValue = "32",
            description = "Generated tokens for --breakdown (GRPO: at most). Default: ${DEFAULT-VALUE}.")
    int breakdownResponse;

    @Option(names = "--breakdown-generations", defaultValue = "4",
            description = "GRPO completions per prompt for --breakdown. Default: ${DEFAULT-VALUE}.")
    int breakdownGenerations;

    @Option(names = "--breakdown-updates", defaultValue = "3",
            description = "Timed updates for --breakdown (after 1 warm-up). Default: ${DEFAULT-VALUE}.")
    int breakdownUpdates;

    @Option(names = "--rss-updates", paramLabel = "N",
            description = "Instead: run PPO for N updates in this JVM (tiny shape d=64, 2 layers, 2 heads, V=5336 "
                    + "unless the shape options are given; batch 4, prompt 16, response 16 unless the --breakdown-* "
                    + "options are) and report VmRSS at update 10 and N (target: within 5 % at N = 1,000).")
    Integer rssUpdates;

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

    @Option(names = "--skip", split = ",",
            description = "Parts to skip: train, gen, recompute (generation without the KV cache), bandwidth, roofline.")
    java.util.Set<String> skip = java.util.Set.of();

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON to FILE.")
    Path json;

    @Option(names = "--profile", paramLabel = "FILE",
            description = "After the timed training steps, profile one more with libtorch's autograd profiler and write "
                    + "its Chrome trace to FILE (scripts/compare/profile_ops.py sums it per op beside the peer's).")
    Path profile;

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
        if (rssUpdates != null) {
            res.put("rss", rss(out));
            writeJson(res);
            return 0;
        }
        if (breakdown != null && !breakdown.isEmpty()) {
            res.put("breakdown", breakdown(out));
            writeJson(res);
            return 0;
        }
        ModelConfig model = modelConfig(Math.max(1024, Math.max(seq, promptLen + newTokens)));
        res.put("arch", arch.name());
        res.put("threads", threads());
        try (NDManager m = NDManager.newBaseManager()) {
            res.put("device", m.getDevice().toString());
            double peak = Benchmarks.matmulGflops(m, matmulSize, 5);
            res.put("matmul_gflops", peak);
            out.printf(Locale.ROOT, "fp32 matmul %d^3: %.1f GFLOP/s%n", matmulSize, peak);
            double bandwidth = Double.NaN;
            if (!skip.contains("bandwidth")) {
                long floats = bandwidthMb * 1_000_000L / 4;
                bandwidth = Benchmarks.bandwidthGbps(m, floats, 5);
                res.put("bandwidth_gbps", bandwidth);
                res.put("bandwidth_array_mb", bandwidthMb);
                out.printf(Locale.ROOT, "memory bandwidth (a += b, 2 x %d MB fp32, 3 x %d MB moved): %.1f GB/s%n",
                        bandwidthMb, bandwidthMb, bandwidth);
            }
            res.put("model", modelFields());
            if (!skip.contains("train")) {
                Benchmarks.TrainResult t = Benchmarks.trainingStep(m, model, batch, seq, steps, profile);
                double mfu = t.gflops() / peak;
                Map<String, Object> train = new LinkedHashMap<>(modelFields());
                train.putAll(Map.of("batch", batch, "seq", seq, "seconds_per_step", t.secondsPerStep(),
                        "tokens_per_second", t.tokensPerSecond(), "gflops", t.gflops(), "mfu_vs_matmul", mfu,
                        "flops_per_token", t.flopsPerToken()));
                res.put("train", train);
                out.printf(Locale.ROOT,
                        "training step %s d=%d L=%d V=%d B=%d T=%d: %.3f s/step, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of matmul%n",
                        arch.name(), nEmbd, nLayer, vocab, batch, seq, t.secondsPerStep(), t.tokensPerSecond(),
                        t.gflops(), 100 * mfu);
                if (profile != null) {
                    out.printf(Locale.ROOT, "profile of one more training step: %s%n", profile);
                }
            }
            if (!skip.contains("gen")) {
                res.put("generation", generation(out, m, model, bandwidth));
            }
        }
        writeJson(res);
        return 0;
    }

    private void writeJson(Map<String, Object> res) throws java.io.IOException {
        if (json != null) {
            Files.writeString(json, Json.pretty(res) + "\n");
        }
    }

    /** The KV-cache generation, the prefill alone, full recomputation, and the decode roofline. */
    private Map<String, Object> generation(PrintWriter out, NDManager m, ModelConfig model, double bandwidth) {
        Map<String, Object> g = new LinkedHashMap<>(Map.of("batch", genBatch, "prompt_len", promptLen,
                "new_tokens", newTokens));
        Benchmarks.GenResult kv = Benchmarks.generation(m, model, genBatch, promptLen, newTokens, true, 1, reps);
        g.put("kv_cache_seconds", kv.seconds());
        g.put("kv_cache_tokens_per_second", kv.newTokensPerSecond());
        out.printf(Locale.ROOT, "generation %s B=%d prompt=%d new=%d: KV cache %.2f s (%.1f tok/s)%n", arch.name(),
                genBatch, promptLen, newTokens, kv.seconds(), kv.newTokensPerSecond());
        if (!skip.contains("recompute")) {
            Benchmarks.GenResult full =
                    Benchmarks.generation(m, model, genBatch, promptLen, newTokens, false, 0, Math.max(1, reps / 2));
            double speedup = full.seconds() / kv.seconds();
            g.put("recompute_seconds", full.seconds());
            g.put("recompute_tokens_per_second", full.newTokensPerSecond());
            g.put("speedup", speedup);
            out.printf(Locale.ROOT, "  full recomputation %.2f s (%.1f tok/s): KV cache %.1fx faster%n", full.seconds(),
                    full.newTokensPerSecond(), speedup);
        }
        if (!skip.contains("roofline") && newTokens >= 2 && !Double.isNaN(bandwidth)) {
            // decoding alone: the generate call minus its prefill (a 1-token generate: the prompt's forward and
            // the first sample)
            Benchmarks.GenResult prefill = Benchmarks.generation(m, model, genBatch, promptLen, 1, true, 1, reps);
            double decodeSeconds = kv.seconds() - prefill.seconds();
            double decodeTps = genBatch * (newTokens - 1.0) / decodeSeconds;
            Benchmarks.Roofline r = Benchmarks.decodeRoofline(model, genBatch, promptLen, newTokens, bandwidth);
            g.put("prefill_seconds", prefill.seconds());
            g.put("decode_seconds_per_step", decodeSeconds / (newTokens - 1));
            g.put("decode_tokens_per_second", decodeTps);
            g.put("roofline_weight_bytes", r.weightBytes());
            g.put("roofline_kv_bytes_per_step", r.meanKvBytes());
            g.put("roofline_seconds_per_step", r.secondsPerStep());
            g.put("roofline_tokens_per_second", r.newTokensPerSecond());
            g.put("roofline_ratio", decodeTps / r.newTokensPerSecond());
            out.printf(Locale.ROOT,
                    "  decode: prefill %.3f s, %.4f s/step = %.1f new tok/s; roofline (%.1f MB weights + %.1f MB KV "
                            + "per step at %.1f GB/s) %.4f s/step = %.1f tok/s; achieved %.0f%% of the roofline%n",
                    prefill.seconds(), decodeSeconds / (newTokens - 1), decodeTps, r.weightBytes() / 1e6,
                    r.meanKvBytes() / 1e6, bandwidth, r.secondsPerStep(), r.newTokensPerSecond(),
                    100 * decodeTps / r.newTokensPerSecond());
        }
        return g;
    }

    /** The shape's fields, as the JSON and the peer script name them. */
    private Map<String, Object> modelFields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("arch", arch.name());
        f.put("n_embd", nEmbd);
        f.put("n_layer", nLayer);
        f.put("n_head", nHead);
        f.put("n_kv_head", kvHeads());
        f.put("ffn", ffn());
        f.put("vocab", vocab);
        return f;
    }

    private int kvHeads() {
        return nKvHead == null ? nHead : nKvHead;
    }

    /**
     * Returns the feed-forward width: {@code --ffn}, else 4·d for GPT-2 and ⌈(8/3)·d / 64⌉·64 for Llama (SwiGLU's
     * two-thirds of 4·d, rounded up to a multiple of 64: 1536 at d = 576, SmolLM2-135M's).
     */
    int ffn() {
        if (ffn != null) {
            return ffn;
        }
        return switch (arch) {
            case gpt2 -> 4 * nEmbd;
            case llama -> (int) Math.ceil(8.0 * nEmbd / 3 / 64) * 64;
        };
    }

    /**
     * Builds the benchmarked shape with random-initialisation settings: GPT-2 ({@code gelu_new}, LayerNorm, learned
     * positions, tied logits) or Llama (RMSNorm, rotary, SwiGLU, untied logits as transformers' LlamaConfig default).
     */
    ModelConfig modelConfig(int positions) {
        if (nEmbd < 1 || nLayer < 1 || nHead < 1 || vocab < 2 || nEmbd % nHead != 0) {
            throw new IllegalArgumentException("--n-embd must be a multiple of --n-head, all >= 1: got d=" + nEmbd
                    + ", L=" + nLayer + ", heads=" + nHead + ", V=" + vocab);
        }
        if (nHead % kvHeads() != 0) {
            throw new IllegalArgumentException("--n-kv-head " + kvHeads() + " must divide --n-head " + nHead);
        }
        return switch (arch) {
            case gpt2 -> {
                if (kvHeads() != nHead) {
                    throw new IllegalArgumentException("--n-kv-head is for --arch llama (GPT-2 has one KV head per "
                            + "head), got " + kvHeads());
                }
                Gpt2Config c = Gpt2Config.of(vocab, positions, nEmbd, nLayer, nHead);
                yield new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), ffn(),
                        c.layerNormEpsilon(), c.activationFunction(), c.bosTokenId(), c.eosTokenId(), c.extra());
            }
            case llama -> LlamaConfig.of(LlamaFamily.LLAMA, vocab, positions, nEmbd, nLayer, nHead, kvHeads(), ffn(),
                    0, vocab - 1);
        };
    }

    private static String threads() {
        return System.getProperty("ai.djl.pytorch.num_threads", "default") + " intra-op, "
                + System.getProperty("ai.djl.pytorch.num_interop_threads", "default") + " inter-op";
    }

    /** --breakdown: each trainer's phase medians. */
    private List<PhaseBench.Breakdown> breakdown(PrintWriter out) {
        ModelConfig model = modelConfig(Math.max(1024, breakdownPrompt + breakdownResponse));
        PhaseBench.UpdateShape shape =
                new PhaseBench.UpdateShape(breakdownBatch, breakdownPrompt, breakdownResponse, breakdownGenerations);
        List<PhaseBench.Breakdown> all = new ArrayList<>();
        for (String a : breakdown) {
            PhaseBench.Algorithm algorithm = switch (a.trim().toLowerCase(Locale.ROOT)) {
                case "ppo" -> PhaseBench.Algorithm.PPO;
                case "grpo" -> PhaseBench.Algorithm.GRPO;
                default -> throw new IllegalArgumentException("--breakdown: unknown trainer '" + a + "' (ppo, grpo)");
            };
            PhaseBench.Breakdown b = PhaseBench.breakdown(algorithm, model, shape, breakdownUpdates);
            all.add(b);
            out.printf(Locale.ROOT, "%s %s d=%d L=%d V=%d, batch %d, prompt %d, response %d, median of %d updates "
                    + "(after 1 warm-up):%n", b.algorithm(), arch.name(), nEmbd, nLayer, vocab, breakdownBatch,
                    breakdownPrompt, breakdownResponse, b.updates());
            out.println("| phase | s/update | % of update |");
            out.println("|---|---:|---:|");
            b.medianSeconds().forEach((k, v) -> out.printf(Locale.ROOT, "| %s | %.3f | %s |%n", k, v,
                    b.shareOfUpdate().containsKey(k) ? String.format(Locale.ROOT, "%.1f", 100 * b.shareOfUpdate().get(k))
                            : "100"));
            out.printf(Locale.ROOT, "| other | | %.1f |%n", 100 * b.shareOfUpdate().get("other"));
            out.flush();
        }
        return all;
    }

    /** --rss-updates: resident memory over a long PPO run, at the tiny shape unless the shape options are given. */
    private PhaseBench.RssGrowth rss(PrintWriter out) {
        var parsed = spec.commandLine().getParseResult();
        if (!parsed.hasMatchedOption("--n-embd")) {
            nEmbd = 64;
        }
        if (!parsed.hasMatchedOption("--n-layer")) {
            nLayer = 2;
        }
        if (!parsed.hasMatchedOption("--n-head")) {
            nHead = 2;
        }
        if (!parsed.hasMatchedOption("--vocab")) {
            vocab = 5336; // the tiny pipeline's tokenizer.json
        }
        int prompt = parsed.hasMatchedOption("--breakdown-prompt-len") ? breakdownPrompt : 16;
        int response = parsed.hasMatchedOption("--breakdown-response-len") ? breakdownResponse : 16;
        int b = parsed.hasMatchedOption("--breakdown-batch") ? breakdownBatch : 4;
        ModelConfig model = modelConfig(Math.max(64, prompt + response));
        PhaseBench.RssGrowth r = PhaseBench.rssGrowth(model, new PhaseBench.UpdateShape(b, prompt, response, 2),
                rssUpdates);
        out.printf(Locale.ROOT, "PPO %s d=%d L=%d heads=%d V=%d, batch %d, prompt %d, response %d: %d updates, "
                + "%.3f s/update%n", arch.name(), nEmbd, nLayer, nHead, vocab, b, prompt, response, r.updates(),
                r.secondsPerUpdate());
        r.samples().forEach((u, x) -> out.printf(Locale.ROOT, "  update %d: VmRSS %.1f MB (Java heap %.1f MB committed, "
                + "%.1f MB used)%n", u, x.rssBytes() / 1e6, x.heapCommittedBytes() / 1e6, x.heapUsedBytes() / 1e6));
        out.printf(Locale.ROOT, "VmRSS at update 10: %.1f MB, at update %d: %.1f MB, growth %+.2f%% (target: within "
                + "5%% at 1,000 updates)%n", r.rssAt10Bytes() / 1e6, r.updates(), r.rssAtEndBytes() / 1e6,
                100 * r.growth());
        return r;
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
