package org.rlhf4j.algorithms.grpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.GroupRollouts;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFn;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.algorithms.rewards.RewardInput;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import java.util.SplittableRandom;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.datasets.task.EncodedQuery;

/** GRPO on a planted reward with a known optimum, reward-function metrics, resume. */
class GrpoTrainerTest {

    static final int EOS = 31;
    static final int TARGET = 5;
    static final Gpt2Config CFG = Gpt2Config.of(32, 64, 32, 2, 4);
    static final Tokenizer TOK = TestData.syntheticTokenizer(32, EOS);

    /** Random prompts of 3–6 tokens from ids 6..29 (as PpoTrainerTest). */
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

    /** Counts TARGET tokens in the completion: the optimum is a completion of TARGETs. */
    static final RewardFn COUNT = RewardFn.perSample("count", in -> {
        double s = 0;
        for (int t : in.completionIds()) {
            s += t == TARGET ? 1 : 0;
        }
        return s;
    });

    static GrpoConfig config(int updates, int iterations, double beta) {
        return GrpoConfig.builder().setSeed(3)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(2e-3)
                        .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).build())
                .setEpochs(updates * 8 / 64.0).setPromptsPerStep(8).setNumGenerations(4).setMicroBatchSize(16)
                .setNumIterations(iterations).setMaxCompletionLength(8).setBeta(beta)
                .setSchedule(TrainingSchedule.of(0, 0)).build();
    }

    record Run(GrpoTrainer.Result result, GroupRollouts.Evaluation before, GroupRollouts.Evaluation after) {}

    static Run train(GrpoConfig cfg, CompositeReward reward, RunDir dir, long stopAfter) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(CFG, m, 1);
                CausalLm ref = policy.copy(m)) {
            List<Encoded.PromptOnly> held = prompts(32, 99);
            GrpoTrainer t = GrpoTrainer.builder().setConfig(cfg).setPolicy(policy).optReference(ref)
                    .setReward(reward).setTokenizer(TOK).setPrompts(prompts(64, 1)).optRunDir(dir)
                    .optStopAfter(stopAfter).build();
            GroupRollouts.Evaluation before = t.evaluate(held, 0);
            GrpoTrainer.Result r = t.train();
            GroupRollouts.Evaluation after = t.evaluate(held, r.steps());
            return new Run(r, before, after);
        }
    }

    @Test
    void logsTheTimeOfEachPhase() throws Exception {
        // μ = 2 and β > 0: the old and reference log-prob forwards run
        Run run = train(config(2, 2, 0.04), CompositeReward.of(COUNT), null, 0);
        assertThat(run.result().history()).hasSize(2);
        run.result().history().forEach(row -> {
            org.rlhf4j.algorithms.common.PhaseTimesTest.assertTimes(row);
            assertThat(row.get("time/forward")).isGreaterThan(0.0);
        });
    }

    @Test
    void raisesAPlantedRewardGreedily() throws Exception {
        Run run = train(config(24, 1, 0.0), CompositeReward.of(COUNT), null, 0);
        System.out.printf("GRPO planted reward (greedy, 32 held-out prompts): %.3f -> %.3f%n", run.before().reward(),
                run.after().reward());
        assertThat(run.before().reward()).isLessThan(1.0);
        assertThat(run.after().reward()).isGreaterThan(4.0);
        Map<String, Double> first = run.result().history().get(0);
        assertThat(first).containsKeys("reward", "reward_std", "rewards/count/mean", "rewards/count/std",
                "frac_reward_zero_std", "completions/mean_length", "completions/clipped_ratio", "entropy",
                "clip_ratio/region_mean", "loss", "grad_norm", "learning_rate", "epoch").doesNotContainKey("kl");
        // μ = 1: ρ = 1 exactly, nothing is clipped
        assertThat(first.get("clip_ratio/region_mean")).isZero();
    }

    @Test
    void severalWeightedRewardFunctionsAreLoggedAndMuAndBetaWork(@TempDir Path dir) throws Exception {
        CompositeReward reward = CompositeReward.of(List.of(new CompositeReward.Term(COUNT, 1.0),
                new CompositeReward.Term(RewardFns.endsWithEos(EOS), 0.5)));
        RunDir run = new RunDir(dir.resolve("run"));
        Run r = train(config(4, 2, 0.04), reward, run, 0);
        List<String> lines = Files.readAllLines(run.metrics());
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).contains("\"rewards/count/mean\"", "\"rewards/ends_with_eos/mean\"", "\"reward\"",
                "\"kl\"");
        for (Map<String, Double> row : r.result().history()) {
            // the combined reward is the weighted sum of the per-function means (every function applies to every row)
            assertThat(row.get("reward")).isCloseTo(row.get("rewards/count/mean")
                    + 0.5 * row.get("rewards/ends_with_eos/mean"), within(1e-9));
            assertThat(row.get("kl")).isFinite().isGreaterThanOrEqualTo(0.0);
        }
        assertThat(run.model().resolve("model.safetensors")).exists();
        assertThat(run.eval()).doesNotExist(); // no eval prompts given
    }

    @Test
    void resumingReproducesTheTrajectory(@TempDir Path dir) throws Exception {
        GrpoConfig cfg = config(4, 2, 0.0);
        List<Double> full = train(cfg, CompositeReward.of(COUNT), new RunDir(dir.resolve("a")), 0).result().history()
                .stream().map(h -> h.get("loss")).toList();
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new ArrayList<>(train(cfg, CompositeReward.of(COUNT), run, 2).result().history().stream()
                .map(h -> h.get("loss")).toList());
        resumed.addAll(train(cfg, CompositeReward.of(COUNT), run, 0).result().history().stream().map(h -> h.get("loss"))
                .toList());
        assertThat(resumed).isEqualTo(full);
    }

    @Test
    void betaNeedsAReferenceAndBatchesMustDivide() {
        assertThatThrownBy(() -> config(4, 1, 0.0).toBuilder().setMicroBatchSize(5).build())
                .hasMessageContaining("multiple of microBatchSize (5)");
        assertThatThrownBy(() -> config(4, 1, 0.0).toBuilder().setNumGenerations(1).build())
                .hasMessageContaining("numGenerations");
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(CFG, m, 1)) {
            assertThatThrownBy(() -> GrpoTrainer.builder().setConfig(config(4, 1, 0.1)).setPolicy(policy)
                    .setReward(CompositeReward.of(COUNT)).setTokenizer(TOK).setPrompts(prompts(8, 1))
                    .build()).hasMessageContaining("needs a reference model");
        }
        assertThat(GrpoConfig.defaults().lossType()).isEqualTo(GrpoLossType.DAPO);
        assertThat(GrpoConfig.defaults().numGenerations()).isEqualTo(8);
        assertThat(RewardInput.ofText("p", "c", Map.of()).completion()).isEqualTo("c");
    }
}
