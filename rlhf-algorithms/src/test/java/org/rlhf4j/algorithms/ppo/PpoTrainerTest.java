package org.rlhf4j.algorithms.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoX;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.model.Llama;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.Updater;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/** PPO behaviour on synthetic token tasks with a known optimum, and its invariants. */
class PpoTrainerTest {

    static final int EOS = 31;
    static final int TARGET = 5;
    static final Gpt2Config CFG = Gpt2Config.of(32, 64, 32, 2, 4);
    static final GptNeoXConfig NEOX = new GptNeoXConfig(32, 64, 32, 2, 2, 64, "gelu", 0.25, 10000, 1e-5, true, false,
            true, EOS, EOS, java.util.Map.of());
    static final Tokenizer TOK = TestData.syntheticTokenizer(32, EOS);

    static List<Encoded.PromptOnly> prompts(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Encoded.PromptOnly> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] q = new int[3 + rng.nextInt(4)];
            for (int j = 0; j < q.length; j++) {
                q[j] = 6 + rng.nextInt(24);
            }
            out.add(new Encoded.PromptOnly("q" + i, new EncodedQuery("", q, false), null));
        }
        return out;
    }

    /** reward = number of TARGET tokens in the response. */
    static final RewardFunction COUNT = (queries, responses) -> {
        double[] s = new double[responses.size()];
        for (int i = 0; i < s.length; i++) {
            for (int t : responses.get(i)) {
                s[i] += t == TARGET ? 1 : 0;
            }
        }
        return s;
    };

    static PpoConfig config(long episodes, double beta, Double noEosScore) {
        return config(episodes, beta, noEosScore, 2e-3);
    }

    static PpoConfig config(long episodes, double beta, Double noEosScore, double lr) {
        return PpoConfig.builder().setSeed(3)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.CONSTANT)
                        .setEps(1e-8).setMaxConsecutiveNonFinite(0).build())
                .setTotalEpisodes(episodes).setBatchSize(32).setNumMiniBatches(2).setMicroBatchSize(16).setPpoEpochs(4)
                .setResponseLength(8).setTemperature(1.0).setKlCoef(beta).setKlEstimator(KlEstimator.K1)
                .setNoEosScore(noEosScore).setSchedule(TrainingSchedule.of(0, 0)).build();
    }

    record Run(PpoTrainer.Result result, PpoTrainer.Evaluation before, PpoTrainer.Evaluation after) {}

    static Run train(PpoConfig cfg, RewardFunction fn, RunDir dir, long stopAfter) throws Exception {
        return train(CFG, cfg, fn, dir, stopAfter);
    }

    static Run train(ModelConfig model, PpoConfig cfg, RewardFunction fn, RunDir dir, long stopAfter)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(model, m, 1);
                CausalLm ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(model, m, 2)) {
            List<Encoded.PromptOnly> held = prompts(64, 99);
            PpoTrainer t = PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref).setCritic(critic)
                    .setReward(RewardSource.of(fn)).setTokenizer(TOK).setPrompts(prompts(64, 1)).optRunDir(dir)
                    .optStopAfter(stopAfter).build();
            PpoTrainer.Evaluation before = t.evaluate(held, 0);
            PpoTrainer.Result r = t.train();
            PpoTrainer.Evaluation after = t.evaluate(held, r.steps());
            return new Run(r, before, after);
        }
    }

    @Test
    void logsTheTimeOfEachPhase() throws Exception {
        Run run = train(config(32 * 2, 0.05, null), COUNT, null, 0);
        assertThat(run.result().history()).hasSize(2);
        run.result().history().forEach(org.rlhf4j.algorithms.common.PhaseTimesTest::assertTimes);
    }

    @Test
    void fp16IsRefusedWithAClearMessage() {
        PpoConfig cfg = config(64, 0.05, null);
        PpoConfig fp16 = cfg.toBuilder().setOptimizer(cfg.optimizer().toBuilder().setFp16(true).build()).build();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(CFG, m, 1);
                CausalLm ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> PpoTrainer.builder().setConfig(fp16)
                            .setPolicy(policy).setReference(ref).setCritic(critic).setReward(RewardSource.of(COUNT))
                            .setTokenizer(TOK).setPrompts(prompts(64, 1)).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("fp16 mixed precision is not supported by ppo");
        }
    }

    /** Trains without the before/after evaluations of {@link #train}. */
    static PpoTrainer.Result trainOnly(PpoConfig cfg, RunDir dir, long stopAfter) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(CFG, m, 1);
                CausalLm ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            return PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref).setCritic(critic)
                    .setReward(RewardSource.of(COUNT)).setTokenizer(TOK).setPrompts(prompts(64, 1)).optRunDir(dir)
                    .optStopAfter(stopAfter).build().train();
        }
    }

    @Test
    void raisesAPlantedRewardWithBoundedKl() throws Exception {
        Run run = train(config(32 * 30, 0.02, null), COUNT, null, 0);
        System.out.printf("PPO planted reward: score %.3f -> %.3f, KL %.3f -> %.3f%n", run.before().score(),
                run.after().score(), run.before().kl(), run.after().kl());
        assertThat(run.before().score()).isLessThan(0.5);
        assertThat(run.after().score()).isGreaterThan(2.0);
        // bounded: no more than the KL of the reward-optimal deterministic policy (8 tokens × ln 32 ≈ 27.7 nats,
        // the reference being near-uniform over 32 tokens), and never negative on average
        double bound = 8 * Math.log(32) + 3;
        assertThat(run.after().kl()).isBetween(0.0, bound);
        List<Double> kls = run.result().history().stream().map(h -> h.get("objective/kl")).toList();
        assertThat(kls).allSatisfy(k -> assertThat(k).isLessThan(bound));
        assertThat(run.result().history().get(0).get("val/ratio")).isCloseTo(1.0, within(0.05));
    }

    @Test
    void aHugeKlCoefficientKeepsThePolicyAtTheReference() throws Exception {
        Run run = train(config(32 * 10, 100.0, null), COUNT, null, 0);
        System.out.printf("PPO beta=100: score %.3f -> %.3f, KL %.4f%n", run.before().score(), run.after().score(),
                run.after().kl());
        // the planted-reward run with β = 0.02 moves ~26 nats away; with β = 100 the policy stays within 0.5 nat
        assertThat(Math.abs(run.after().kl())).isLessThan(0.5);
        assertThat(run.after().score()).isCloseTo(run.before().score(), within(0.15));
    }

    @Test
    void theMissingEosPenaltyTeachesThePolicyToEndItsAnswers() throws Exception {
        RewardFunction zero = (q, r) -> new double[r.size()];
        Run run = train(config(32 * 20, 0.02, -1.0), zero, null, 0);
        System.out.printf("PPO EOS penalty: EOS fraction %.3f -> %.3f%n", run.before().eosFraction(),
                run.after().eosFraction());
        assertThat(run.before().eosFraction()).isLessThan(0.5);
        assertThat(run.after().eosFraction()).isGreaterThan(0.9);
    }

    @Test
    void resumingReproducesTheTrajectory(@TempDir Path dir) throws Exception {
        PpoConfig cfg = config(32 * 4, 0.05, -1.0);
        List<Double> full = train(cfg, COUNT, new RunDir(dir.resolve("a")), 0).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList();
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>(train(cfg, COUNT, run, 2).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList());
        resumed.addAll(train(cfg, COUNT, run, 0).result().history().stream().map(h -> h.get("loss/policy_avg")).toList());
        assertThat(resumed).hasSize(full.size());
        for (int i = 0; i < full.size(); i++) {
            assertThat(resumed.get(i)).as("update %d", i).isCloseTo(full.get(i), within(1e-6));
        }
        assertThat(run.model().resolve("critic/model.safetensors")).exists();
    }

    @Test
    void aDivergingResumeNeverReplacesThePolicyOrCriticCheckpoint(@TempDir Path dir) throws Exception {
        RunDir run = new RunDir(dir.resolve("run"));
        trainOnly(config(32 * 3, 0.05, -1.0), run, 1);
        Path good = TestData.copyTree(run.checkpoint(1), dir.resolve("good"));
        // a run directory from before run configs (only the seed is compared): the weight guard is what stops this
        java.nio.file.Files.delete(run.runConfig());

        assertThat(good.resolve("critic/model.safetensors")).exists();
        assertThatThrownBy(() -> trainOnly(config(32 * 3, 0.05, -1.0, 1e300), run, 0))
                .isInstanceOf(Updater.NonFiniteException.class)
                .hasMessageContaining("training diverged: policy parameter '");
        TestData.assertSameFiles(good, run.checkpoint(1));
        TestData.assertNoSaveLeftovers(run.root());
    }

    @Test
    void aGptNeoXPolicyAndCriticTrainAndResumeLikeGpt2(@TempDir Path dir) throws Exception {
        PpoConfig cfg = config(32 * 3, 0.05, -1.0);
        List<Double> full = train(NEOX, cfg, COUNT, new RunDir(dir.resolve("a")), 0).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList();
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>(train(NEOX, cfg, COUNT, run, 1).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList());
        resumed.addAll(train(NEOX, cfg, COUNT, run, 0).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList());
        assertThat(full).hasSize(3).allSatisfy(l -> assertThat(l).isFinite());
        assertThat(resumed).hasSize(full.size());
        for (int i = 0; i < full.size(); i++) {
            assertThat(resumed.get(i)).as("update %d", i).isCloseTo(full.get(i), within(1e-6));
        }
        try (NDManager m = NDManager.newBaseManager();
                CausalLm saved = CausalLm.load(run.model(), m)) {
            assertThat(saved).isInstanceOf(GptNeoX.class);
            assertThat(saved.config().withExtra(java.util.Map.of())).isEqualTo(NEOX); // + architectures
        }
    }

    @Test
    void aLlamaFamilyPolicyAndCriticTrainAndResumeLikeGpt2(@TempDir Path dir) throws Exception {
        // Qwen2 flavour: grouped-query attention (4 query heads over 2 KV heads) and q/k/v biases
        LlamaConfig qwen2 = LlamaConfig.of(LlamaFamily.QWEN2, 32, 64, 32, 2, 4, 2, 64, EOS, EOS);
        PpoConfig cfg = config(32 * 3, 0.05, -1.0);
        List<Double> full = train(qwen2, cfg, COUNT, new RunDir(dir.resolve("a")), 0).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList();
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>(train(qwen2, cfg, COUNT, run, 1).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList());
        resumed.addAll(train(qwen2, cfg, COUNT, run, 0).result().history().stream()
                .map(h -> h.get("loss/policy_avg")).toList());
        assertThat(full).hasSize(3).allSatisfy(l -> assertThat(l).isFinite());
        assertThat(resumed).hasSize(full.size());
        for (int i = 0; i < full.size(); i++) {
            assertThat(resumed.get(i)).as("update %d", i).isCloseTo(full.get(i), within(1e-6));
        }
        try (NDManager m = NDManager.newBaseManager();
                CausalLm saved = CausalLm.load(run.model(), m);
                ScalarModel critic = ScalarModel.load(run.model().resolve(PpoTrainer.CRITIC_DIR), m, 0)) {
            assertThat(saved).isInstanceOf(Llama.class);
            assertThat(saved.config().modelType()).isEqualTo("qwen2");
            assertThat(critic.config().modelType()).isEqualTo("qwen2");
        }
    }

    /** Trainer plus one update's rollout data, for invariance checks. */
    static double[] gradient(PpoTrainer t, RolloutBatch d, float[][] adv, float[][] ret, int[] rows,
            Gpt2 policy, ScalarModel critic) {
        policy.weights().setRequiresGradient(true);
        critic.weights().setRequiresGradient(true);
        t.minibatchGradients(d, adv, ret, rows, new PpoTrainer.Stats());
        List<Double> g = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            for (NDArray p : policy.weights().arrays()) {
                for (float f : p.getGradient().toFloatArray()) {
                    g.add((double) f);
                }
            }
            for (NDArray p : critic.weights().arrays()) {
                for (float f : p.getGradient().toFloatArray()) {
                    g.add((double) f);
                }
            }
        }
        org.rlhf4j.core.train.Gradients.zero(policy.weights());
        org.rlhf4j.core.train.Gradients.zero(critic.weights());
        return g.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double maxDiff(double[] a, double[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void paddingAndMinibatchSplitDoNotChangeTheFirstEpochGradient() {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            PpoConfig cfg = config(32, 0.05, -1.0).withBatches(8, 8, 1, 4);
            PpoTrainer t = PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref).setCritic(critic)
                    .setReward(RewardSource.of(COUNT)).setTokenizer(TOK).setPrompts(prompts(8, 5)).build();
            RolloutBatch d = t.collector().collect(prompts(8, 5), 0, false, 17);
            int[][] mask = d.batch().responseMask();
            PpoLosses.Advantages a = PpoLosses.gae(PpoLosses.rewards(new float[8][d.batch().responseWidth()], d.scores(),
                    mask, 0.05), d.values(), mask, 1, 0.95);
            int[] all = {0, 1, 2, 3, 4, 5, 6, 7};
            double[] full = gradient(t, d, a.advantages(), a.returns(), all, policy, critic);
            // 1. a different micro-batch split of the same minibatch
            PpoTrainer t1 = PpoTrainer.builder().setConfig(cfg.withBatches(8, 8, 1, 1)).setPolicy(policy).setReference(ref)
                    .setCritic(critic).setReward(RewardSource.of(COUNT)).setTokenizer(TOK).setPrompts(prompts(8, 5)).build();
            double[] micro1 = gradient(t1, d, a.advantages(), a.returns(), all, policy, critic);
            assertThat(maxDiff(full, micro1)).isLessThan(1e-5);
            // 2. two minibatches, token-weighted: at the first epoch (no update yet) they sum to the full gradient
            int[] ra = {6, 1, 3};
            int[] rb = {0, 2, 4, 5, 7};
            double ta = tokens(mask, ra);
            double tb = tokens(mask, rb);
            double[] ga = gradient(t, d, a.advantages(), a.returns(), ra, policy, critic);
            double[] gb = gradient(t, d, a.advantages(), a.returns(), rb, policy, critic);
            double[] combined = new double[full.length];
            for (int i = 0; i < full.length; i++) {
                combined[i] = (ta * ga[i] + tb * gb[i]) / (ta + tb);
            }
            assertThat(maxDiff(full, combined)).isLessThan(1e-5);
            // 3. extra left padding on every query changes nothing
            ResponseBatch b = d.batch();
            int extra = 5;
            long[][] ids = new long[8][];
            int[][] mk = new int[8][];
            for (int r = 0; r < 8; r++) {
                ids[r] = new long[b.ids()[r].length + extra];
                mk[r] = new int[b.mask()[r].length + extra];
                java.util.Arrays.fill(ids[r], 0, extra, 17L); // arbitrary pad id
                System.arraycopy(b.ids()[r], 0, ids[r], extra, b.ids()[r].length);
                System.arraycopy(b.mask()[r], 0, mk[r], extra, b.mask()[r].length);
            }
            RolloutBatch padded = RolloutBatch.of(
                    new ResponseBatch(ids, mk, b.queryWidth() + extra, b.responseIds(), b.responseMask()), d.queries(),
                    d.responses(), d.forcedMask(), d.logprobs(), d.refLogprobs(), d.values(), d.entropySum(),
                    d.scores(), d.hasEos());
            double[] gp = gradient(t, padded, a.advantages(), a.returns(), all, policy, critic);
            assertThat(maxDiff(full, gp)).isLessThan(1e-5);
            double max = 0;
            for (double v : full) {
                max = Math.max(max, Math.abs(v));
            }
            assertThat(max).isGreaterThan(1e-4);
        }
    }

    static double tokens(int[][] mask, int[] rows) {
        double n = 0;
        for (int r : rows) {
            for (int v : mask[r]) {
                n += v;
            }
        }
        return n;
    }
}
