package org.rlhf4j.examples.bench;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rlhf4j.algorithms.common.PhaseTimes;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoTrainer;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoModels;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFn;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;

/**
 * Where an online-RL update's time goes, and whether a long run's resident memory stays flat: the real
 * {@link PpoTrainer} and {@link GrpoTrainer} with random weights on synthetic prompts (as {@link MemoryBench}), read
 * through their {@code time/*} metrics ({@link PhaseTimes}) and Linux's {@code VmRSS}.
 */
public final class PhaseBench {

    private PhaseBench() {}

    /** The trainers {@link #breakdown} runs. */
    public enum Algorithm {
        /** PPO: policy, reference, reward model (a random scalar model), critic. */
        PPO,
        /** GRPO: policy and reference, one reward function (the completion length). */
        GRPO
    }

    /**
     * The shape of one update.
     *
     * @param batch sequences per update (GRPO: prompts × generations)
     * @param promptTokens prompt length
     * @param responseTokens generated tokens (PPO: exactly; GRPO: at most, EOS stops a row)
     * @param generations GRPO's completions per prompt G (divides batch)
     */
    public record UpdateShape(int batch, int promptTokens, int responseTokens, int generations) {

        /** Validates the shape. */
        public UpdateShape {
            if (batch < 1 || promptTokens < 1 || responseTokens < 1) {
                throw new IllegalArgumentException("batch, prompt and response tokens must be >= 1, got " + batch
                        + ", " + promptTokens + ", " + responseTokens);
            }
            if (generations < 2 || batch % generations != 0) {
                throw new IllegalArgumentException("generations must be >= 2 and divide the batch " + batch
                        + ", got " + generations);
            }
        }
    }

    /**
     * One trainer's phase breakdown.
     *
     * @param algorithm {@code ppo} or {@code grpo}
     * @param updates timed updates (after one warm-up update)
     * @param medianSeconds median seconds per update of each {@code time/*} metric, {@code time/update} last
     * @param shareOfUpdate each phase's median as a share of the median {@code time/update}
     */
    public record Breakdown(String algorithm, int updates, Map<String, Double> medianSeconds,
            Map<String, Double> shareOfUpdate) {}

    /**
     * Runs a trainer for one warm-up update and {@code updates} timed ones and returns the medians of its
     * {@code time/*} metrics over the timed updates.
     *
     * @param algorithm the trainer
     * @param model the model shape (random weights)
     * @param shape the update's shape
     * @param updates timed updates (≥ 1)
     * @return the breakdown
     */
    public static Breakdown breakdown(Algorithm algorithm, ModelConfig model, UpdateShape shape, int updates) {
        if (updates < 1) {
            throw new IllegalArgumentException("updates must be >= 1, got " + updates);
        }
        List<Map<String, Double>> rows = switch (algorithm) {
            case PPO -> ppo(model, shape, updates + 1, (step, row) -> {});
            case GRPO -> grpo(model, shape, updates + 1);
        };
        List<Map<String, Double>> timed = rows.subList(1, rows.size());
        Map<String, Double> med = new LinkedHashMap<>();
        for (String k : List.of("time/generate", "time/score", "time/forward", "time/train", PhaseTimes.UPDATE)) {
            List<Double> xs = new ArrayList<>();
            for (Map<String, Double> r : timed) {
                xs.add(r.get(k));
            }
            med.put(k, Benchmarks.median(xs));
        }
        Map<String, Double> share = new LinkedHashMap<>();
        double update = med.get(PhaseTimes.UPDATE);
        med.forEach((k, v) -> {
            if (!k.equals(PhaseTimes.UPDATE)) {
                share.put(k, v / update);
            }
        });
        share.put("other", 1 - share.values().stream().mapToDouble(Double::doubleValue).sum());
        return new Breakdown(algorithm.name().toLowerCase(java.util.Locale.ROOT), updates, med, share);
    }

    /** Receives each update's metrics as it finishes. */
    @FunctionalInterface
    interface StepHook {
        void onUpdate(long step, Map<String, Double> metrics);
    }

    /** Runs PPO for {@code updates} updates with random models (full fine-tuning) and returns its history. */
    static List<Map<String, Double>> ppo(ModelConfig model, UpdateShape shape, int updates, StepHook hook) {
        int eos = model.eosTokenIds().get(0);
        try (NDManager m = NDManager.newBaseManager();
                Tokenizer tok = new MemoryBench.SyntheticTokenizer(model.vocabSize(), eos)) {
            CausalLm policy = CausalLm.random(model, m, 1);
            CausalLm reference = policy.copy(m);
            ScalarModel rm = ScalarModel.random(model, m, 2);
            ScalarModel critic = PpoModels.criticFrom(rm, m);
            PpoConfig cfg = PpoConfig.builder().setSeed(3).setOptimizer(MemoryBench.optimizer())
                    .setTotalEpisodes((long) shape.batch() * updates).setBatchSize(shape.batch()).setNumMiniBatches(1)
                    .setMicroBatchSize(shape.batch()).setPpoEpochs(1).setResponseLength(shape.responseTokens())
                    .setTemperature(1.0).setKlCoef(0.05).setSchedule(TrainingSchedule.of(0, 0)).build();
            List<Encoded.PromptOnly> prompts =
                    MemoryBench.prompts(shape.batch() * updates, model.vocabSize(), eos, shape.promptTokens());
            return PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference).setCritic(critic)
                    .setReward(RewardSource.of(rm)).setTokenizer(tok).setPrompts(prompts)
                    .optProgress((stage, step, total, metrics) -> hook.onUpdate(step, metrics)).build().train()
                    .history();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs GRPO for {@code updates} updates (β = 0.04, μ = 1) and returns its history. */
    static List<Map<String, Double>> grpo(ModelConfig model, UpdateShape shape, int updates) {
        int eos = model.eosTokenIds().get(0);
        int promptsPerStep = shape.batch() / shape.generations();
        RewardFn length = RewardFn.perSample("length", in -> (double) in.completionIds().length);
        try (NDManager m = NDManager.newBaseManager();
                Tokenizer tok = new MemoryBench.SyntheticTokenizer(model.vocabSize(), eos)) {
            CausalLm policy = CausalLm.random(model, m, 1);
            CausalLm reference = policy.copy(m);
            int n = promptsPerStep * updates;
            GrpoConfig cfg = GrpoConfig.builder().setSeed(3).setOptimizer(MemoryBench.optimizer()).setEpochs(1.0)
                    .setPromptsPerStep(promptsPerStep).setNumGenerations(shape.generations())
                    .setMicroBatchSize(shape.batch()).setNumIterations(1)
                    .setMaxCompletionLength(shape.responseTokens()).setBeta(0.04)
                    .setSchedule(TrainingSchedule.of(0, 0)).build();
            return GrpoTrainer.builder().setConfig(cfg).setPolicy(policy).optReference(reference)
                    .setReward(CompositeReward.of(length)).setTokenizer(tok)
                    .setPrompts(MemoryBench.prompts(n, model.vocabSize(), eos, shape.promptTokens())).build().train()
                    .history();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Resident memory over a long PPO run.
     *
     * @param updates updates run
     * @param rssAt10Bytes {@code VmRSS} after update 10 (after a garbage collection)
     * @param rssAtEndBytes {@code VmRSS} after the last update (after a garbage collection)
     * @param growth (end − at 10) / at 10
     * @param samples memory after update 10, every tenth of the run and the last update
     * @param secondsPerUpdate wall seconds per update
     */
    public record RssGrowth(int updates, long rssAt10Bytes, long rssAtEndBytes, double growth,
            Map<Long, Sample> samples, double secondsPerUpdate) {}

    /**
     * Memory after one update (after a garbage collection): the process's resident bytes and, to tell the JVM heap
     * from native (libtorch, allocator) memory, the Java heap's committed and used bytes.
     *
     * @param rssBytes {@code VmRSS}
     * @param heapCommittedBytes Java heap committed ({@link Runtime#totalMemory()})
     * @param heapUsedBytes Java heap in use
     */
    public record Sample(long rssBytes, long heapCommittedBytes, long heapUsedBytes) {}

    /**
     * Runs PPO for {@code updates} updates in this JVM and reports how its resident memory grows from update 10 to
     * the end; a run that frees what each update allocates stays within a few percent (the target: 5 % at 1,000
     * updates at the tiny shape).
     *
     * @param model the model shape
     * @param shape the update's shape (keep it small: the point is many updates)
     * @param updates updates (≥ 10)
     * @return the measurement
     */
    public static RssGrowth rssGrowth(ModelConfig model, UpdateShape shape, int updates) {
        if (updates < 10) {
            throw new IllegalArgumentException("--rss-updates must be >= 10 (RSS is read at update 10), got " + updates);
        }
        Map<Long, Sample> samples = new LinkedHashMap<>();
        long every = Math.max(1, updates / 10);
        long t0 = System.nanoTime();
        ppo(model, shape, updates, (step, row) -> {
            if (step == 10 || step == updates || step % every == 0) {
                System.gc();
                Runtime rt = Runtime.getRuntime();
                samples.put(step, new Sample(vmRss(), rt.totalMemory(), rt.totalMemory() - rt.freeMemory()));
            }
        });
        double sec = (System.nanoTime() - t0) / 1e9 / updates;
        long at10 = samples.get(10L).rssBytes();
        long end = samples.get((long) updates).rssBytes();
        return new RssGrowth(updates, at10, end, (double) (end - at10) / at10, java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(samples)), sec);
    }

    /**
     * Returns this process's resident memory ({@code VmRSS} of {@code /proc/self/status}).
     *
     * @return bytes
     * @throws IllegalStateException off Linux
     */
    public static long vmRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read VmRSS from /proc/self/status (Linux only)", e);
        }
        throw new IllegalStateException("no VmRSS line in /proc/self/status");
    }
}
