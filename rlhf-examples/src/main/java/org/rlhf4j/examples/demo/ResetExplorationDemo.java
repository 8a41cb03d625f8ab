package org.rlhf4j.examples.demo;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ProgressListener;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.drpo.DrpoConfig;
import org.rlhf4j.algorithms.drpo.DrpoTrainer;
import org.rlhf4j.algorithms.drpo.ResetSource;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardFunction;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;
import org.rlhf4j.examples.Plots;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * A hard-exploration task on which PPO fails and DR-PO succeeds with the same sample budget.
 *
 * <p>Task: V tokens, the last one EOS. Each of N prompts is P random tokens and has one exact target answer y* of
 * M random tokens followed by EOS (L = M + 1 tokens), drawn once from the task seed and stored as the prompt's
 * reference. The reward is 1 when the response equals y* exactly (EOS included) and 0 otherwise. A uniformly random
 * policy finds y* with probability V^−L per sample (8^−6 ≈ 3.8·10⁻⁶ with the defaults, so the 25,600 PPO
 * episodes of the default budget expect 0.1 hits), so PPO from the prompt essentially never sees a reward; DR-PO resets a share β_mix of the samples to a prefix of y*, where the missing
 * suffix is short enough to be found, and so learns the answer backwards (a curriculum from the end of y*).
 *
 * <p>Protocol: PPO and DR-PO start from the same randomly initialised policy (seeded, no pre-training), use the same
 * PPO settings, seed and number of episodes. Success is measured on the training prompts (this is an exploration
 * test, not a generalisation test), from the prompt without resets, with greedy decoding: the fraction of prompts
 * whose greedy response is exactly y*. The sampled success at the training temperature is reported too.
 */
public final class ResetExplorationDemo {

    private ResetExplorationDemo() {}

    /** The demo's settings (picocli options; defaults are the documented demo). */
    public static final class Options {

        /** Creates the defaults. */
        public Options() {}

        @Option(names = "--updates", defaultValue = "100", description = "PPO updates per algorithm. Default: ${DEFAULT-VALUE}.")
        int updates;

        @Option(names = "--batch", defaultValue = "256", description = "Episodes per update. Default: ${DEFAULT-VALUE}.")
        int batch;

        @Option(names = "--prompts", defaultValue = "2", description = "Number of prompts (each with its own target). Default: ${DEFAULT-VALUE}.")
        int prompts;

        @Option(names = "--prompt-length", defaultValue = "4", description = "Prompt tokens. Default: ${DEFAULT-VALUE}.")
        int promptLength;

        @Option(names = "--answer-length", defaultValue = "5", description = "Target tokens before EOS (M). Default: ${DEFAULT-VALUE}.")
        int answerLength;

        @Option(names = "--vocab", defaultValue = "8", description = "Vocabulary size V (EOS = V-1). Default: ${DEFAULT-VALUE}.")
        int vocab;

        @Option(names = "--beta-mix", defaultValue = "0.75", description = "DR-PO reset probability β_mix. Default: ${DEFAULT-VALUE}.")
        double betaMix;

        @Option(names = "--lr", defaultValue = "0.002", description = "AdamW peak learning rate η. Default: ${DEFAULT-VALUE}.")
        double lr;

        @Option(names = "--schedule", defaultValue = "LINEAR", description = "Learning-rate schedule: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
        OptimizerConfig.Schedule schedule;

        @Option(names = "--kl-coef", defaultValue = "0.0", description = "KL coefficient β. Default: ${DEFAULT-VALUE}.")
        double klCoef;

        @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature τ. Default: ${DEFAULT-VALUE}.")
        double temperature;

        @Option(names = "--clip-range", defaultValue = "0.2", description = "PPO ratio clip ε. Default: ${DEFAULT-VALUE}.")
        double clipRange;

        @Option(names = "--ppo-epochs", defaultValue = "4", description = "PPO epochs per update. Default: ${DEFAULT-VALUE}.")
        int ppoEpochs;

        @Option(names = "--lambda", defaultValue = "1.0", description = "GAE λ (1: Monte-Carlo returns minus the critic baseline). Default: ${DEFAULT-VALUE}.")
        double lambda;

        @Option(names = "--ent-coef", defaultValue = "0.1", description = "Entropy bonus coefficient. Default: ${DEFAULT-VALUE}.")
        double entCoef;

        @Option(names = "--whiten-advantages", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Whiten advantages over each batch (TRL's default). Default: ${DEFAULT-VALUE}.")
        boolean whitenAdvantages;

        @Option(names = "--skip-ppo", description = "Run DR-PO only (for tuning; the JSON then has no ppo entry).")
        boolean skipPpo;

        @Option(names = "--eval-every", defaultValue = "10", description = "Greedy success is measured every n updates. Default: ${DEFAULT-VALUE}.")
        int evalEvery;

        @Option(names = "--seed", defaultValue = "7", description = "Seed of the task, the initial policy and both runs. Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--out", defaultValue = "runs/demo-reset-exploration", description = "Output directory (learning-curve PNG and result JSON). Default: ${DEFAULT-VALUE}.")
        Path out;
    }

    /**
     * One algorithm's outcome.
     *
     * @param success greedy success from the prompt after training (fraction of prompts answered exactly)
     * @param sampledSuccess success rate of sampled responses (τ) from the prompt after training
     * @param successBefore greedy success of the initial policy
     * @param firstRewardEpisode the first episode count after which a training batch contained a reward &gt; 0, or −1
     * @param meanTrainScore mean training score over the run (with resets for DR-PO)
     * @param finalKl final {@code objective/kl}
     * @param resetFraction mean {@code reset/fraction} (0 for PPO)
     * @param meanPrefixLength mean {@code reset/mean_prefix_length} over updates with resets (0 for PPO)
     * @param curve greedy success after each evaluation: {episodes[], success[]}
     * @param seconds wall time of the run
     */
    public record AlgorithmResult(double success, double sampledSuccess, double successBefore, long firstRewardEpisode,
            double meanTrainScore, double finalKl, double resetFraction, double meanPrefixLength, double[][] curve,
            double seconds) {}

    /**
     * The demo's result.
     *
     * @param ppo PPO (null with {@code --skip-ppo})
     * @param drpo DR-PO
     * @param settings the settings used (printed with the result)
     * @param plot the learning-curve PNG
     */
    public record Result(AlgorithmResult ppo, AlgorithmResult drpo, Map<String, Object> settings, Path plot) {

        /**
         * Returns the result as one JSON-ready map: {@code {"ppo":{...},"drpo":{...},"settings":{...}}}; each
         * algorithm's {@code curve} lists [episodes, greedy success] pairs (the PNG's points).
         *
         * @return the map
         */
        public Map<String, Object> toJson() {
            Map<String, Object> out = new LinkedHashMap<>();
            if (ppo != null) {
                out.put("ppo", summary(ppo));
            }
            out.put("drpo", summary(drpo));
            out.put("settings", settings);
            return out;
        }

        private static Map<String, Object> summary(AlgorithmResult r) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("success", r.success());
            m.put("sampled_success", r.sampledSuccess());
            m.put("success_before", r.successBefore());
            m.put("first_reward_episode", r.firstRewardEpisode());
            m.put("mean_train_score", round(r.meanTrainScore()));
            m.put("final_kl", round(r.finalKl()));
            m.put("reset_fraction", round(r.resetFraction()));
            m.put("mean_prefix_length", round(r.meanPrefixLength()));
            m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
            List<double[]> curve = new ArrayList<>();
            for (int i = 0; i < r.curve()[0].length; i++) {
                curve.add(new double[] {r.curve()[0][i], r.curve()[1][i]});
            }
            m.put("curve", curve);
            return m;
        }

        private static double round(double x) {
            return Math.round(x * 1e4) / 1e4;
        }
    }

    /**
     * Parses the arguments (the {@link Options}) and runs the demo.
     *
     * @param args command-line options, e.g. {@code --updates 40 --out /tmp/demo}
     * @return the result
     * @throws IOException when the plot cannot be written
     */
    public static Result runExample(String[] args) throws IOException {
        Options o = new Options();
        new CommandLine(o).parseArgs(args);
        return run(o);
    }

    /**
     * Runs the demo.
     *
     * @param o the settings
     * @return the result
     * @throws IOException when the plot cannot be written
     */
    public static Result run(Options o) throws IOException {
        check(o);
        int eos = o.vocab - 1;
        int responseLength = o.answerLength + 2;
        List<Encoded.PromptOnly> prompts = task(o);
        Gpt2Config cfg = Gpt2Config.of(o.vocab, 32, 64, 2, 4);
        PpoConfig ppo = PpoConfig.builder()
                .setSeed(o.seed)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(o.lr).setSchedule(o.schedule).setEps(1e-8).build())
                .setTotalEpisodes((long) o.updates * o.batch)
                .setBatchSize(o.batch)
                .setNumMiniBatches(2)
                .setMicroBatchSize(o.batch / 2)
                .setPpoEpochs(o.ppoEpochs)
                .setResponseLength(responseLength)
                .setTemperature(o.temperature)
                .setKlCoef(o.klCoef)
                .setAdaptiveKl(null)
                .setKlEstimator(KlEstimator.K1)
                .setWhitenRewards(false)
                .setWhitenAdvantages(o.whitenAdvantages)
                .setGamma(1.0)
                .setLambda(o.lambda)
                .setClipRange(o.clipRange)
                .setClipRangeValue(0.2)
                .setVfCoef(0.1)
                .setEntCoef(o.entCoef)
                .setNoEosScore(null)
                .setSchedule(TrainingSchedule.of(0, 0))
                .build();
        Tokenizer tok = new TokenTokenizer(o.vocab, eos);
        AlgorithmResult p = o.skipPpo ? null : train(o, cfg, ppo, Double.NaN, prompts, tok);
        AlgorithmResult d = train(o, cfg, ppo, o.betaMix, prompts, tok);
        Files.createDirectories(o.out);
        Path plot = o.out.resolve("learning-curves.png");
        Map<String, double[][]> series = new LinkedHashMap<>();
        if (p != null) {
            series.put("PPO", p.curve());
        }
        series.put("DR-PO (β_mix=" + o.betaMix + ")", d.curve());
        Plots.line(plot, "Exact-answer task: greedy success from the prompt", "episodes", series);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("vocab", o.vocab);
        settings.put("prompts", o.prompts);
        settings.put("prompt_length", o.promptLength);
        settings.put("answer_length_with_eos", o.answerLength + 1);
        settings.put("response_length", responseLength);
        settings.put("random_hit_probability", Math.pow(o.vocab, -(o.answerLength + 1)));
        settings.put("updates", o.updates);
        settings.put("batch", o.batch);
        settings.put("episodes", (long) o.updates * o.batch);
        settings.put("beta_mix", o.betaMix);
        settings.put("reset_source", ResetSource.REFERENCE_SUMMARY.name());
        settings.put("model", "GPT-2 d=64, 2 layers, 4 heads, random init (seed " + o.seed + "), no pre-training");
        settings.put("lr", o.lr);
        settings.put("kl_coef", o.klCoef);
        settings.put("temperature", o.temperature);
        settings.put("ppo_epochs", ppo.ppoEpochs());
        settings.put("clip_range", ppo.clipRange());
        settings.put("gae_lambda", ppo.lambda());
        settings.put("ent_coef", ppo.entCoef());
        settings.put("lr_schedule", o.schedule.name().toLowerCase(Locale.ROOT));
        settings.put("whiten_advantages", ppo.whitenAdvantages());
        settings.put("minibatches", ppo.numMiniBatches());
        settings.put("seed", o.seed);
        settings.put("success", "greedy, from the prompt (no resets), on the training prompts");
        return new Result(p, d, settings, plot);
    }

    private static void check(Options o) {
        if (o.updates < 1 || o.batch < 2 || o.batch % 2 != 0) {
            throw new IllegalArgumentException("--updates must be >= 1 and --batch an even number >= 2, got "
                    + o.updates + ", " + o.batch);
        }
        if (o.vocab < 3 || o.prompts < 1 || o.promptLength < 1 || o.answerLength < 1) {
            throw new IllegalArgumentException("--vocab must be >= 3 and --prompts, --prompt-length, --answer-length >= 1,"
                    + " got " + o.vocab + ", " + o.prompts + ", " + o.promptLength + ", " + o.answerLength);
        }
        if (o.promptLength + o.answerLength + 2 > 32) {
            throw new IllegalArgumentException("--prompt-length + --answer-length + 2 must be <= 32 (the model's "
                    + "context), got " + (o.promptLength + o.answerLength + 2));
        }
        if (o.evalEvery < 1) {
            throw new IllegalArgumentException("--eval-every must be >= 1, got " + o.evalEvery);
        }
    }

    /** N prompts of P random non-EOS tokens, each with a random M-token target + EOS as its reference. */
    static List<Encoded.PromptOnly> task(Options o) {
        SplittableRandom rng = new SplittableRandom(o.seed * 1_000_003L + 17);
        int eos = o.vocab - 1;
        List<Encoded.PromptOnly> out = new ArrayList<>();
        for (int i = 0; i < o.prompts; i++) {
            int[] q = new int[o.promptLength];
            for (int j = 0; j < q.length; j++) {
                q[j] = rng.nextInt(eos);
            }
            int[] target = new int[o.answerLength + 1];
            for (int j = 0; j < o.answerLength; j++) {
                target[j] = rng.nextInt(eos);
            }
            target[o.answerLength] = eos;
            out.add(new Encoded.PromptOnly("p" + i, new EncodedQuery(Arrays.toString(q), q, false), target));
        }
        return out;
    }

    /** Reward 1 for the exact target (EOS included), else 0; targets looked up by query. */
    static RewardFunction exactAnswer(List<Encoded.PromptOnly> prompts) {
        Map<String, int[]> targets = new LinkedHashMap<>();
        for (Encoded.PromptOnly p : prompts) {
            targets.put(Arrays.toString(p.query().ids()), p.reference());
        }
        return (queries, responses) -> {
            double[] s = new double[responses.size()];
            for (int i = 0; i < s.length; i++) {
                int[] t = targets.get(Arrays.toString(queries.get(i)));
                s[i] = t != null && Arrays.equals(t, responses.get(i)) ? 1.0 : 0.0;
            }
            return s;
        };
    }

    /** Greedy success from the prompt, without resets. */
    static double greedySuccess(CausalLm policy, List<Encoded.PromptOnly> prompts, int responseLength, int eos) {
        return greedySuccess(policy, prompts, 0, responseLength, eos);
    }

    /**
     * Greedy success when the first {@code k} target tokens are forced (k = 0: from the prompt): the fraction of
     * prompts whose greedy completion of {@code y*[0..k)} is exactly y*.
     */
    static double greedySuccess(CausalLm policy, List<Encoded.PromptOnly> prompts, int k, int responseLength, int eos) {
        List<int[]> queries = prompts.stream().map(p -> p.query().ids()).toList();
        List<int[]> forced = prompts.stream().map(p -> Arrays.copyOf(p.reference(), k)).toList();
        GenerationConfig g = GenerationConfig.greedy(responseLength, eos).toBuilder()
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
        Rollout r = Generator.generate(policy, queries, k == 0 ? null : forced, g, 0);
        int solved = 0;
        for (int b = 0; b < prompts.size(); b++) {
            solved += Arrays.equals(r.response(b), prompts.get(b).reference()) ? 1 : 0;
        }
        return (double) solved / prompts.size();
    }

    /** Greedy success from each reset state k = 0..L−1 (k = 0 is the prompt): which suffixes the policy knows. */
    static double[] successByPrefix(CausalLm policy, List<Encoded.PromptOnly> prompts, int responseLength, int eos) {
        int l = prompts.get(0).reference().length;
        double[] out = new double[l];
        for (int k = 0; k < l; k++) {
            out[k] = greedySuccess(policy, prompts, k, responseLength, eos);
        }
        return out;
    }

    /** One run: PPO when betaMix is NaN, else DR-PO with that β_mix. */
    private static AlgorithmResult train(Options o, Gpt2Config cfg, PpoConfig ppo, double betaMix,
            List<Encoded.PromptOnly> prompts, Tokenizer tok) throws IOException {
        long t0 = System.nanoTime();
        int eos = o.vocab - 1;
        RewardFunction reward = exactAnswer(prompts);
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(cfg, m, o.seed);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(cfg, m, o.seed + 1)) {
            double before = greedySuccess(policy, prompts, ppo.responseLength(), eos);
            List<double[]> curve = new ArrayList<>();
            curve.add(new double[] {0, before});
            ProgressListener listener = (stage, step, total, row) -> {
                if (step % o.evalEvery == 0 || step == total) {
                    double g = greedySuccess(policy, prompts, ppo.responseLength(), eos);
                    curve.add(new double[] {step * o.batch, g});
                    System.err.printf(Locale.ROOT, "[%s] update %d/%d: train score %.3f, KL %.3f, entropy %.3f,"
                            + " greedy success %.3f, by forced prefix k=0..L-1 %s%n", stage, step, total,
                            row.get("objective/scores"), row.get("objective/kl"), row.get("objective/entropy"), g,
                            Arrays.toString(successByPrefix(policy, prompts, ppo.responseLength(), eos)));
                }
            };
            PpoTrainer.Result r;
            List<Encoded.PromptOnly> evalSet = prompts;
            PpoTrainer.Evaluation sampled;
            if (Double.isNaN(betaMix)) {
                PpoTrainer t = PpoTrainer.builder().setConfig(ppo).setPolicy(policy).setReference(ref).setCritic(critic)
                        .setReward(RewardSource.of(reward)).setTokenizer(tok).setPrompts(prompts).optProgress(listener)
                        .build();
                r = t.train();
                sampled = t.evaluate(repeat(evalSet, 8), r.steps());
            } else {
                DrpoTrainer t = DrpoTrainer.builder()
                        .setConfig(DrpoConfig.builder().setPpo(ppo).setBetaMix(betaMix)
                                .setResetSource(ResetSource.REFERENCE_SUMMARY).build()).setPolicy(policy)
                        .setReference(ref).setCritic(critic).setReward(RewardSource.of(reward)).setTokenizer(tok)
                        .setPrompts(prompts).optProgress(listener).build();
                r = t.train();
                sampled = t.evaluate(repeat(evalSet, 8), r.steps());
            }
            double success = curve.get(curve.size() - 1)[1];
            long firstReward = -1;
            double scoreSum = 0;
            double resetSum = 0;
            double prefixSum = 0;
            int prefixRows = 0;
            for (int i = 0; i < r.history().size(); i++) {
                Map<String, Double> row = r.history().get(i);
                double s = row.get("objective/scores");
                scoreSum += s;
                if (s > 0 && firstReward < 0) {
                    firstReward = (long) (i + 1) * o.batch;
                }
                resetSum += row.getOrDefault("reset/fraction", 0.0);
                double pl = row.getOrDefault("reset/mean_prefix_length", 0.0);
                if (pl > 0) {
                    prefixSum += pl;
                    prefixRows++;
                }
            }
            int n = r.history().size();
            double[][] xy = new double[2][curve.size()];
            for (int i = 0; i < curve.size(); i++) {
                xy[0][i] = curve.get(i)[0];
                xy[1][i] = curve.get(i)[1];
            }
            return new AlgorithmResult(success, sampled.score(), before, firstReward, scoreSum / n,
                    r.history().get(n - 1).get("objective/kl"), resetSum / n, prefixRows == 0 ? 0 : prefixSum / prefixRows,
                    xy, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static List<Encoded.PromptOnly> repeat(List<Encoded.PromptOnly> xs, int times) {
        List<Encoded.PromptOnly> out = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            out.addAll(xs);
        }
        return out;
    }

    /** A tokenizer for token-level tasks: ids decode to their list, nothing encodes text. */
    static final class TokenTokenizer implements Tokenizer {
        private final int vocab;
        private final int eos;

        TokenTokenizer(int vocab, int eos) {
            this.vocab = vocab;
            this.eos = eos;
        }

        @Override
        public int[] encode(String text) {
            throw new UnsupportedOperationException("the synthetic task has no text");
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return Arrays.toString(ids);
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
