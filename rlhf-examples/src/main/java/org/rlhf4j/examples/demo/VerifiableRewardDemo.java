package org.rlhf4j.examples.demo;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ProgressListener;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoTrainer;
import org.rlhf4j.algorithms.rloo.RlooConfig;
import org.rlhf4j.algorithms.rloo.RlooTrainer;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Critic-free RL on a verifiable task: a from-scratch GPT-2 learns, from an exact-answer reward alone, to answer
 * prompts it has never seen.
 *
 * <p>Task: V tokens, the last one EOS. A prompt is k random non-EOS tokens; its answer is one token, a deterministic
 * function of the prompt ({@link Task}: by default {@code MAX}, the largest prompt token), followed by EOS. The
 * reward is the built-in {@link RewardFns#exactAnswer(String) exact_answer} over the decoded completion, with the
 * prompt's {@code answer} passed as a row field ({@link GrpoTrainer.Builder#optPromptFields}) — the shape of TRL's
 * GRPO on GSM8K, where the reward is checked against the row's answer and no reward model or critic is trained.
 * Tokens decode as space-separated numbers and EOS is skipped, so a completion earns 1 only when it is the answer
 * token and then stops (EOS); a completion that runs on to the length limit earns 0.
 *
 * <p>Why this design: (1) the answer is a function of the prompt, not a memorised string, so success on
 * <em>held-out</em> prompts (disjoint from the training prompts) measures generalisation; (2) {@code MAX} needs
 * attention over all prompt positions (a bigram of the last token does not solve it), yet a 2-layer transformer
 * learns it in minutes; (3) a random policy hits the answer with probability about 1/V² per sample (answer token,
 * then EOS), so with G samples per prompt some groups have a non-zero reward variance from the first update — GRPO's
 * group-relative advantage needs exactly that, and nothing else (no critic, no reward model, no demonstrations).
 *
 * <p>Protocol: the policy is randomly initialised (seeded); success is the fraction of held-out prompts whose greedy
 * completion is exactly the answer, before and after training. The PNG shows the per-update mean training reward
 * (the fraction of sampled completions that are exactly right).
 *
 * <p>Extension point: {@link #train(Options, Algorithm, Setup)} runs one {@link Algorithm} on a shared
 * {@link Setup}; a further critic-free algorithm (RLOO) joins the enum and the switch in that method.
 */
public final class VerifiableRewardDemo {

    private VerifiableRewardDemo() {}

    /** The answer as a function of the prompt tokens. */
    public enum Task {
        /** The first prompt token. */
        FIRST,
        /** The largest prompt token. */
        MAX,
        /** The sum of the prompt tokens modulo V − 1 (as one non-EOS token). */
        SUM;

        int answer(int[] q, int eos) {
            return switch (this) {
                case FIRST -> q[0];
                case MAX -> Arrays.stream(q).max().orElseThrow();
                case SUM -> Math.floorMod(Arrays.stream(q).sum(), eos);
            };
        }
    }

    /** The critic-free algorithms the demo can train. */
    public enum Algorithm {
        /** Group Relative Policy Optimization ({@link GrpoTrainer}). */
        GRPO,
        /** REINFORCE Leave-One-Out ({@link RlooTrainer}), with the same batch, learning rate, β and sampling. */
        RLOO
    }

    /** The demo's settings (picocli options; defaults are the documented demo). */
    public static final class Options {

        /** Creates the defaults. */
        public Options() {}

        @Option(names = "--task", defaultValue = "MAX",
                description = "Answer as a function of the prompt: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
        Task task;

        @Option(names = "--updates", defaultValue = "500", description = "Updates per algorithm (GRPO, RLOO). Default: ${DEFAULT-VALUE}.")
        int updates;

        @Option(names = "--prompts-per-step", defaultValue = "16",
                description = "Prompts per update. Default: ${DEFAULT-VALUE}.")
        int promptsPerStep;

        @Option(names = "--generations", defaultValue = "8",
                description = "Completions per prompt (the group size G). Default: ${DEFAULT-VALUE}.")
        int generations;

        @Option(names = "--train-prompts", defaultValue = "1024",
                description = "Training prompts. Default: ${DEFAULT-VALUE}.")
        int trainPrompts;

        @Option(names = "--eval-prompts", defaultValue = "128",
                description = "Held-out prompts (disjoint from the training prompts). Default: ${DEFAULT-VALUE}.")
        int evalPrompts;

        @Option(names = "--prompt-length", defaultValue = "4", description = "Prompt tokens k. Default: ${DEFAULT-VALUE}.")
        int promptLength;

        @Option(names = "--vocab", defaultValue = "8", description = "Vocabulary size V (EOS = V-1). Default: ${DEFAULT-VALUE}.")
        int vocab;

        @Option(names = "--max-completion-length", defaultValue = "4",
                description = "Completion tokens at most. Default: ${DEFAULT-VALUE}.")
        int maxCompletionLength;

        @Option(names = "--lr", defaultValue = "0.001", description = "AdamW learning rate (constant). Default: ${DEFAULT-VALUE}.")
        double lr;

        @Option(names = "--beta", defaultValue = "0.0", description = "KL coefficient β (TRL's default 0). Default: ${DEFAULT-VALUE}.")
        double beta;

        @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature. Default: ${DEFAULT-VALUE}.")
        double temperature;

        @Option(names = "--seed", defaultValue = "7", description = "Seed of the task, the initial policy and the run. Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--out", defaultValue = "runs/demo-verifiable-reward",
                description = "Output directory (verifiable_reward.png). Default: ${DEFAULT-VALUE}.")
        Path out;
    }

    /**
     * One algorithm's outcome.
     *
     * @param before greedy exact-answer success on the held-out prompts before training
     * @param after the same after training
     * @param updates updates run
     * @param rewardCurve the mean training reward of each update: {update[], reward[]}
     * @param seconds wall time of the run
     */
    public record AlgorithmResult(double before, double after, long updates, double[][] rewardCurve, double seconds) {

        /**
         * Returns the JSON-ready summary {@code {"before","after","updates","seconds"}}.
         *
         * @return the map
         */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("before", before);
            m.put("after", after);
            m.put("updates", updates);
            m.put("seconds", Math.round(seconds * 10) / 10.0);
            return m;
        }
    }

    /**
     * The demo's result.
     *
     * @param results one entry per algorithm run
     * @param settings the settings used
     * @param plot the training-reward PNG
     */
    public record Result(Map<Algorithm, AlgorithmResult> results, Map<String, Object> settings, Path plot) {

        /**
         * Returns {@code {"grpo":{"before","after","updates","seconds"},"settings":{...},"plot":"..."}}.
         *
         * @return the map
         */
        public Map<String, Object> toMap() {
            Map<String, Object> out = new LinkedHashMap<>();
            results.forEach((a, r) -> out.put(a.name().toLowerCase(Locale.ROOT), r.toMap()));
            out.put("settings", settings);
            out.put("plot", plot.toString());
            return out;
        }
    }

    /**
     * What every algorithm shares: the tokenizer, the training and held-out prompts and the reward.
     *
     * @param tokenizer ids as space-separated numbers, EOS skipped
     * @param train the training prompts
     * @param heldOut the held-out prompts
     * @param reward {@code exact_answer} over the row field {@code answer}
     * @param model the policy architecture
     */
    public record Setup(Tokenizer tokenizer, List<Encoded.PromptOnly> train, List<Encoded.PromptOnly> heldOut,
            CompositeReward reward, Gpt2Config model) {

        /**
         * The row fields of a prompt: {@code answer} is its answer token as text (stored as the prompt's reference).
         *
         * @param p the prompt
         * @return {@code {"id": ..., "answer": ...}}
         */
        public static Map<String, Object> fields(Encoded.PromptOnly p) {
            return Map.of("id", p.id(), "answer", String.valueOf(p.reference()[0]));
        }
    }

    /**
     * Parses the arguments (the {@link Options}) and runs the demo.
     *
     * @param args command-line options, e.g. {@code --updates 5 --out /tmp/demo}
     * @return the result
     * @throws IOException when the plot cannot be written
     */
    public static Result runExample(String[] args) throws IOException {
        Options o = new Options();
        new CommandLine(o).parseArgs(args);
        return run(o);
    }

    /**
     * Runs the demo (GRPO).
     *
     * @param o the settings
     * @return the result
     * @throws IOException when the plot cannot be written
     */
    public static Result run(Options o) throws IOException {
        check(o);
        Setup setup = setup(o);
        Map<Algorithm, AlgorithmResult> results = new LinkedHashMap<>();
        for (Algorithm a : Algorithm.values()) {
            results.put(a, train(o, a, setup));
        }
        Files.createDirectories(o.out);
        Path plot = o.out.resolve("verifiable_reward.png");
        Map<String, double[][]> series = new LinkedHashMap<>();
        results.forEach((a, r) -> series.put(a.name(), r.rewardCurve()));
        Plots.line(plot, "Verifiable reward (" + o.task.name().toLowerCase(Locale.ROOT)
                + "): training reward per update", "update", "mean exact_answer reward", series);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("task", o.task.name().toLowerCase(Locale.ROOT));
        settings.put("vocab", o.vocab);
        settings.put("prompt_length", o.promptLength);
        settings.put("train_prompts", setup.train().size());
        settings.put("held_out_prompts", setup.heldOut().size());
        settings.put("reward", "exact_answer(answer)");
        settings.put("updates", o.updates);
        settings.put("prompts_per_step", o.promptsPerStep);
        settings.put("generations", o.generations);
        settings.put("max_completion_length", o.maxCompletionLength);
        settings.put("lr", o.lr);
        settings.put("beta", o.beta);
        settings.put("temperature", o.temperature);
        settings.put("model", "GPT-2 d=" + setup.model().nEmbd() + ", " + setup.model().nLayer()
                + " layers, random init (seed " + o.seed + "), no pre-training");
        settings.put("seed", o.seed);
        settings.put("success", "greedy completion exactly the answer (then EOS), on the held-out prompts");
        return new Result(results, settings, plot);
    }

    private static void check(Options o) {
        if (o.updates < 1 || o.promptsPerStep < 1 || o.generations < 2) {
            throw new IllegalArgumentException("--updates and --prompts-per-step must be >= 1 and --generations >= 2,"
                    + " got " + o.updates + ", " + o.promptsPerStep + ", " + o.generations);
        }
        if (o.vocab < 3 || o.promptLength < 1 || o.trainPrompts < 1 || o.evalPrompts < 1
                || o.maxCompletionLength < 1) {
            throw new IllegalArgumentException("--vocab must be >= 3 and --prompt-length, --train-prompts, "
                    + "--eval-prompts, --max-completion-length >= 1");
        }
        if (o.promptLength + o.maxCompletionLength > 32) {
            throw new IllegalArgumentException("--prompt-length + --max-completion-length must be <= 32 (the model's "
                    + "context), got " + (o.promptLength + o.maxCompletionLength));
        }
        double distinct = Math.pow(o.vocab - 1, o.promptLength);
        if (o.trainPrompts + o.evalPrompts > distinct) {
            throw new IllegalArgumentException("--train-prompts + --eval-prompts must be <= (V-1)^k = " + (long) distinct
                    + " distinct prompts, got " + (o.trainPrompts + o.evalPrompts));
        }
    }

    /**
     * Builds the shared task: distinct random prompts, split into training and held-out prompts.
     *
     * @param o the settings
     * @return the setup
     */
    public static Setup setup(Options o) {
        int eos = o.vocab - 1;
        SplittableRandom rng = new SplittableRandom(o.seed * 1_000_003L + 17);
        Set<List<Integer>> seen = new LinkedHashSet<>();
        List<Encoded.PromptOnly> all = new ArrayList<>();
        while (all.size() < o.trainPrompts + o.evalPrompts) {
            int[] q = new int[o.promptLength];
            for (int j = 0; j < q.length; j++) {
                q[j] = rng.nextInt(eos);
            }
            if (seen.add(Arrays.stream(q).boxed().toList())) {
                int[] answer = {o.task.answer(q, eos), eos};
                all.add(new Encoded.PromptOnly("p" + all.size(), new EncodedQuery(text(q), q, false), answer));
            }
        }
        CompositeReward reward = CompositeReward.of(RewardFns.exactAnswer(RewardFns.DEFAULT_ANSWER_FIELD));
        Gpt2Config model = Gpt2Config.of(o.vocab, 32, 64, 2, 4);
        return new Setup(new TokenTokenizer(o.vocab, eos), all.subList(0, o.trainPrompts),
                all.subList(o.trainPrompts, all.size()), reward, model);
    }

    /**
     * Trains one algorithm from the seeded random policy and measures held-out greedy success before and after.
     *
     * @param o the settings
     * @param algorithm the algorithm
     * @param setup the shared task
     * @return its result
     * @throws IOException when training fails to write
     */
    static AlgorithmResult train(Options o, Algorithm algorithm, Setup setup) throws IOException {
        long t0 = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(setup.model(), m, o.seed);
                CausalLm ref = policy.copy(m)) {
            ProgressListener progress = (stage, step, total, row) -> {
                if (step % 10 == 0 || step == total) {
                    System.err.printf(Locale.ROOT, "[%s] update %d/%d: reward %.3f%n", algorithm, step, total,
                            row.get("reward"));
                }
            };
            return switch (algorithm) {
                case GRPO -> {
                    GrpoConfig cfg = GrpoConfig.builder().setSeed(o.seed)
                            .setOptimizer(OptimizerConfig.builder().setLearningRate(o.lr)
                                    .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).build())
                            .setEpochs((double) o.updates * o.promptsPerStep / setup.train().size())
                            .setPromptsPerStep(o.promptsPerStep).setNumGenerations(o.generations)
                            .setMicroBatchSize(o.promptsPerStep * o.generations).setNumIterations(1)
                            .setMaxCompletionLength(o.maxCompletionLength).setTemperature(o.temperature)
                            .setBeta(o.beta).setSchedule(TrainingSchedule.of(0, 0)).build();
                    GrpoTrainer t = GrpoTrainer.builder().setConfig(cfg).setPolicy(policy).optReference(ref)
                            .setReward(setup.reward()).setTokenizer(setup.tokenizer()).setPrompts(setup.train())
                            .optPromptFields(Setup::fields).optProgress(progress).build();
                    double before = t.evaluate(setup.heldOut(), 0).reward();
                    GrpoTrainer.Result r = t.train();
                    double after = t.evaluate(setup.heldOut(), r.steps()).reward();
                    yield new AlgorithmResult(before, after, r.steps(), curve(r.history()),
                            (System.nanoTime() - t0) / 1e9);
                }
                case RLOO -> {
                    RlooConfig cfg = RlooConfig.builder().setSeed(o.seed)
                            .setOptimizer(OptimizerConfig.builder().setLearningRate(o.lr)
                                    .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).build())
                            .setEpochs((double) o.updates * o.promptsPerStep / setup.train().size())
                            .setPromptsPerStep(o.promptsPerStep).setNumGenerations(o.generations)
                            .setMicroBatchSize(o.promptsPerStep * o.generations).setNumIterations(1)
                            .setMaxCompletionLength(o.maxCompletionLength).setTemperature(o.temperature)
                            .setBeta(o.beta).setSchedule(TrainingSchedule.of(0, 0)).build();
                    RlooTrainer t = RlooTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref)
                            .setReward(setup.reward()).setTokenizer(setup.tokenizer()).setPrompts(setup.train())
                            .optPromptFields(Setup::fields).optProgress(progress).build();
                    double before = t.evaluate(setup.heldOut(), 0).reward();
                    RlooTrainer.Result r = t.train();
                    double after = t.evaluate(setup.heldOut(), r.steps()).reward();
                    yield new AlgorithmResult(before, after, r.steps(), curve(r.history()),
                            (System.nanoTime() - t0) / 1e9);
                }
            };
        }
    }

    private static double[][] curve(List<Map<String, Double>> history) {
        double[][] xy = new double[2][history.size()];
        for (int i = 0; i < history.size(); i++) {
            xy[0][i] = i + 1;
            xy[1][i] = history.get(i).get("reward");
        }
        return xy;
    }

    static String text(int[] ids) {
        StringJoiner j = new StringJoiner(" ");
        for (int id : ids) {
            j.add(Integer.toString(id));
        }
        return j.toString();
    }

    /** Ids as text tokens: decodes to space-separated numbers (EOS skipped with skipSpecialTokens), encodes back. */
    static final class TokenTokenizer implements Tokenizer {
        private final int vocab;
        private final int eos;

        TokenTokenizer(int vocab, int eos) {
            this.vocab = vocab;
            this.eos = eos;
        }

        @Override
        public int[] encode(String text) {
            return text.isBlank() ? new int[0] : Arrays.stream(text.strip().split("\\s+")).mapToInt(Integer::parseInt)
                    .toArray();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return text(skipSpecialTokens ? Arrays.stream(ids).filter(i -> i != eos).toArray() : ids);
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
        public void save(Path dir) throws IOException {
            Files.writeString(dir.resolve("token-tokenizer.txt"), "vocab=" + vocab + "\neos=" + eos + "\n");
        }

        @Override
        public void close() {}
    }
}
