package org.rlhf4j.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoModels;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.RopeScaling;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/**
 * Memory of DPO and PPO training, full fine-tuning against LoRA, measured on the real trainers with random weights:
 * the bytes of the distinct parameter tensors every model holds (a tensor shared by two models, such as LoRA's frozen
 * base, counted once), the trainable bytes, the AdamW moment bytes (m and v in fp32: 2 × trainable), and the process's
 * peak resident memory while the case runs.
 *
 * <p>The peak is Linux's {@code VmHWM} of {@code /proc/self/status}, reset before each case by writing {@code 5} to
 * {@code /proc/self/clear_refs} (Linux ≥ 4.0), so the cases of one JVM do not see each other's peaks; the baseline
 * (JVM, libtorch, nothing of the case allocated) is the {@code VmRSS} just after the reset.
 */
public final class MemoryBench {

    private MemoryBench() {}

    /**
     * One measured case.
     *
     * @param shape the model shape's name
     * @param algorithm {@code dpo} or {@code ppo}
     * @param mode {@code full} or {@code lora r=… targets}
     * @param parameterBytes bytes of the distinct parameter tensors of every model of the run (fp32)
     * @param trainableBytes bytes of the trained tensors (policy, and critic for PPO)
     * @param optimizerBytes bytes of AdamW's two moments over the trained tensors
     * @param baselineRssBytes resident memory before the case
     * @param peakRssBytes peak resident memory during the case
     * @param secondsPerStep wall seconds per update (first one included)
     */
    public record Case(String shape, String algorithm, String mode, long parameterBytes, long trainableBytes,
            long optimizerBytes, long baselineRssBytes, long peakRssBytes, double secondsPerStep) {

        /**
         * Returns the peak above the baseline.
         *
         * @return bytes
         */
        public long peakAboveBaselineBytes() {
            return peakRssBytes - baselineRssBytes;
        }
    }

    /**
     * Returns GPT-2 small's shape (d = 768, 12 layers, 12 heads, V = 50257, 1024 positions).
     *
     * @return the config
     */
    public static Gpt2Config gpt2Small() {
        return Gpt2Config.of(50257, 1024, 768, 12, 12);
    }

    /**
     * Returns SmolLM2-135M's shape (Llama: d = 576, 30 layers, 9 heads, 3 KV heads, FFN 1536, V = 49152, tied
     * embeddings).
     *
     * @return the config
     */
    public static LlamaConfig smolLm2() {
        return new LlamaConfig(LlamaFamily.LLAMA, 49152, 576, 1536, 30, 9, 3, 64, "silu", 2048, 1e-5, 100000,
                new RopeScaling.Default(), false, false, OptionalInt.empty(), false, 28, List.of(), true,
                OptionalInt.of(1), List.of(2), OptionalInt.empty(), 0.02, Map.of());
    }

    /**
     * Runs DPO for a few updates and measures it.
     *
     * @param shape the shape's name (for the table)
     * @param model the model shape
     * @param lora the adapter settings, or null for full fine-tuning
     * @param batch pairs per update
     * @param promptTokens prompt length
     * @param responseTokens response length (chosen and rejected)
     * @param steps updates
     * @return the measurement
     */
    public static Case dpo(String shape, ModelConfig model, LoraConfig lora, int batch, int promptTokens,
            int responseTokens, int steps) {
        long baseline = resetPeak();
        long t0 = System.nanoTime();
        int eos = model.eosTokenIds().get(0);
        try (NDManager m = NDManager.newBaseManager();
                Tokenizer tok = new SyntheticTokenizer(model.vocabSize(), eos)) {
            CausalLm loaded = CausalLm.random(model, m, 1);
            CausalLm policy = lora == null ? loaded : LoraModel.create(loaded, lora, 2, true);
            CausalLm reference = lora == null ? policy.copy(m) : ((LoraModel) policy).base();
            DpoConfig cfg = DpoConfig.builder().setSeed(3).setOptimizer(optimizer()).setBatchSize(batch)
                    .setMicroBatchSize(batch).setEpochs(1).setSchedule(TrainingSchedule.of(0, 0))
                    .setPrecomputeReferenceLogprobs(false).build();
            List<Encoded.Pair> pairs = pairs(batch * steps, model.vocabSize(), eos, promptTokens, responseTokens);
            DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference).setTokenizer(tok)
                    .setTrainData(pairs).build().train();
            long trainable = bytes(policy.weights());
            long params = distinctBytes(policy, reference);
            return new Case(shape, "dpo", mode(lora, model), params, trainable, 2 * trainable, baseline, peak(),
                    (System.nanoTime() - t0) / 1e9 / steps);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Runs PPO for a few updates (policy, reference, reward model, critic) and measures it. Full: the reference is a
     * copy of the policy, the critic a copy of the reward model (four trunks). LoRA: the layout of
     * {@link PpoModels#load(Path, Path, ai.djl.Device, long, LoraConfig, long)} with a LoRA reward model: one frozen
     * trunk under the policy adapter, the reference (the trunk itself), the reward model (adapter + head) and the
     * critic (its copy).
     *
     * @param shape the shape's name
     * @param model the model shape
     * @param lora the adapter settings, or null for full fine-tuning
     * @param batch prompts per update
     * @param promptTokens prompt length
     * @param responseTokens generated tokens
     * @param steps updates
     * @return the measurement
     */
    public static Case ppo(String shape, ModelConfig model, LoraConfig lora, int batch, int promptTokens,
            int responseTokens, int steps) {
        long baseline = resetPeak();
        long t0 = System.nanoTime();
        int eos = model.eosTokenIds().get(0);
        try (NDManager m = NDManager.newBaseManager();
                Tokenizer tok = new SyntheticTokenizer(model.vocabSize(), eos)) {
            CausalLm policy;
            CausalLm reference;
            ScalarModel rm;
            ScalarModel critic;
            if (lora == null) {
                policy = CausalLm.random(model, m, 1);
                reference = policy.copy(m);
                rm = ScalarModel.random(model, m, 2);
                critic = PpoModels.criticFrom(rm, m);
            } else {
                // PpoModels.load's LoRA layout: a LoRA reward model over the SFT model, the critic its copy
                policy = LoraModel.create(CausalLm.random(model, m, 1), lora, 2, true);
                reference = ((LoraModel) policy).base();
                rm = ScalarModel.lora(reference, lora, 3);
                critic = PpoModels.criticFrom(rm, m);
            }
            PpoConfig cfg = PpoConfig.builder().setSeed(3).setOptimizer(optimizer()).setTotalEpisodes((long) batch * steps)
                    .setBatchSize(batch).setNumMiniBatches(1).setMicroBatchSize(batch).setPpoEpochs(1)
                    .setResponseLength(responseTokens).setTemperature(1.0).setKlCoef(0.05)
                    .setSchedule(TrainingSchedule.of(0, 0)).build();
            List<Encoded.PromptOnly> prompts = prompts(batch * steps, model.vocabSize(), eos, promptTokens);
            PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference).setCritic(critic)
                    .setReward(RewardSource.of(rm)).setTokenizer(tok).setPrompts(prompts).build().train();
            long trainable = bytes(policy.weights()) + bytes(critic.weights());
            long params = distinctBytes(policy, reference, rm, critic);
            return new Case(shape, "ppo", mode(lora, model), params, trainable, 2 * trainable, baseline, peak(),
                    (System.nanoTime() - t0) / 1e9 / steps);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String mode(LoraConfig lora, ModelConfig model) {
        return lora == null ? "full" : "lora r=" + lora.r() + " " + String.join(",", lora.resolvedTargets(model));
    }

    static OptimizerConfig optimizer() {
        return OptimizerConfig.builder().setLearningRate(1e-5).setSchedule(OptimizerConfig.Schedule.CONSTANT).build();
    }

    /**
     * Returns the bytes of the distinct parameter tensors of models (by identity: a tensor two models share counts
     * once), descending into a LoRA model's frozen base and a scalar model's trunk.
     *
     * @param models causal or scalar models
     * @return bytes
     */
    public static long distinctBytes(Object... models) {
        Map<NDArray, Boolean> seen = new IdentityHashMap<>();
        List<Weights> all = new ArrayList<>();
        for (Object o : models) {
            collect(o, all);
        }
        long total = 0;
        for (Weights w : all) {
            for (NDArray a : w.arrays()) {
                if (seen.put(a, Boolean.TRUE) == null) {
                    total += a.size() * a.getDataType().getNumOfBytes();
                }
            }
        }
        return total;
    }

    private static void collect(Object model, List<Weights> into) {
        if (model instanceof LoraModel l) {
            into.add(l.weights());
            collect(l.base(), into);
        } else if (model instanceof CausalLm c) {
            into.add(c.weights());
        } else if (model instanceof ScalarModel s) {
            into.add(s.weights());
            s.base().ifPresent(b -> collect(b, into));
        }
    }

    /**
     * Returns the bytes of a set of tensors.
     *
     * @param w the tensors
     * @return bytes
     */
    public static long bytes(Weights w) {
        long total = 0;
        for (NDArray a : w.arrays()) {
            total += a.size() * a.getDataType().getNumOfBytes();
        }
        return total;
    }

    /**
     * Resets the peak resident memory ({@code VmHWM}) to the current resident memory and returns it.
     *
     * @return the resident bytes now ({@code VmRSS}), or -1 off Linux
     */
    public static long resetPeak() {
        System.gc();
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
        return status("VmRSS:");
    }

    /**
     * Returns the peak resident memory since the last {@link #resetPeak()} ({@code VmHWM}).
     *
     * @return bytes, or -1 off Linux
     */
    public static long peak() {
        return status("VmHWM:");
    }

    private static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    String[] parts = line.substring(field.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static List<Encoded.Pair> pairs(int n, int vocab, int eos, int promptTokens, int responseTokens) {
        SplittableRandom rng = new SplittableRandom(5);
        List<Encoded.Pair> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Encoded.Pair("p" + i, new EncodedQuery("", tokens(rng, promptTokens, vocab, eos), false),
                    response(rng, responseTokens, vocab, eos), response(rng, responseTokens, vocab, eos)));
        }
        return out;
    }

    static List<Encoded.PromptOnly> prompts(int n, int vocab, int eos, int promptTokens) {
        SplittableRandom rng = new SplittableRandom(6);
        List<Encoded.PromptOnly> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Encoded.PromptOnly("q" + i, new EncodedQuery("", tokens(rng, promptTokens, vocab, eos), false),
                    new int[0]));
        }
        return out;
    }

    private static int[] response(SplittableRandom rng, int len, int vocab, int eos) {
        int[] r = tokens(rng, len, vocab, eos);
        r[len - 1] = eos;
        return r;
    }

    private static int[] tokens(SplittableRandom rng, int len, int vocab, int eos) {
        int[] t = new int[len];
        for (int i = 0; i < len; i++) {
            int x = rng.nextInt(vocab - 1);
            t[i] = x >= eos ? x + 1 : x;
        }
        return t;
    }

    /** A tokenizer of ids only: the trainers need its vocabulary size and EOS id. */
    record SyntheticTokenizer(int vocab, int eos) implements Tokenizer {
        @Override
        public int[] encode(String text) {
            return new int[0];
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return java.util.Arrays.toString(ids);
        }

        @Override
        public int vocabSize() {
            return vocab;
        }

        @Override
        public int eosTokenId() {
            return eos;
        }

        @Override
        public void save(Path dir) {}

        @Override
        public void close() {}
    }
}
