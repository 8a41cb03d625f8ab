package org.rlhf4j.algorithms.drpo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardFunction;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/**
 * A sparse-reward exact-answer task: reward 1 only for one target answer per prompt (M tokens + EOS), 0 otherwise.
 * From the prompt a random policy hits it with probability V^−(M+1); DR-PO's resets to target prefixes make it
 * learnable with the same budget on which PPO never sees a reward.
 */
class DrpoBehaviourTest {

    static final int V = 8;
    static final int EOS = V - 1;
    static final int M = 4;
    static final Gpt2Config CFG = Gpt2Config.of(V, 16, 32, 2, 4);
    static final Tokenizer TOK = TestData.syntheticTokenizer(V, EOS);

    static List<Encoded.PromptOnly> task(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Encoded.PromptOnly> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] q = {rng.nextInt(EOS), rng.nextInt(EOS), rng.nextInt(EOS)};
            int[] target = new int[M + 1];
            for (int j = 0; j < M; j++) {
                target[j] = rng.nextInt(EOS);
            }
            target[M] = EOS;
            out.add(new Encoded.PromptOnly("p" + i, new EncodedQuery("", q, false), target));
        }
        return out;
    }

    static RewardFunction exact(List<Encoded.PromptOnly> rows) {
        return (queries, responses) -> {
            double[] s = new double[responses.size()];
            for (int i = 0; i < s.length; i++) {
                for (Encoded.PromptOnly r : rows) {
                    if (Arrays.equals(r.query().ids(), queries.get(i)) && Arrays.equals(r.reference(), responses.get(i))) {
                        s[i] = 1;
                    }
                }
            }
            return s;
        };
    }

    record Outcome(double sampledSuccess, double meanTrainScore) {}

    static Outcome run(double betaMix, int updates) throws Exception {
        List<Encoded.PromptOnly> rows = task(1, 11);
        PpoConfig ppo = new PpoConfig(5,
                new OptimizerConfig(2e-3, OptimizerConfig.Schedule.CONSTANT, 0, 0.0, 0.9, 0.999, 1e-8, 1.0, 3),
                32L * updates, 32, 2, 16, 4, M + 2, 1.0, 0.0, null, KlEstimator.K1, false, true, 1.0, 1.0, 0.2, 0.2, 0.1,
                0.05, null, 0, 0);
        List<Encoded.PromptOnly> eval = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            eval.addAll(rows);
        }
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            PpoTrainer.Result r;
            double sampled;
            if (betaMix == 0) {
                PpoTrainer t = PpoTrainer.builder().setConfig(ppo).setPolicy(policy).setReference(ref).setCritic(critic)
                        .setReward(RewardSource.of(exact(rows))).setTokenizer(TOK).setPrompts(rows).build();
                r = t.train();
                sampled = t.evaluate(eval, r.steps()).score();
            } else {
                DrpoTrainer t = DrpoTrainer.builder().setConfig(new DrpoConfig(ppo, betaMix, ResetSource.REFERENCE_SUMMARY))
                        .setPolicy(policy).setReference(ref).setCritic(critic).setReward(RewardSource.of(exact(rows)))
                        .setTokenizer(TOK).setPrompts(rows).build();
                r = t.train();
                sampled = t.evaluate(eval, r.steps()).score();
            }
            double train = r.history().stream().mapToDouble(h -> h.get("objective/scores")).average().orElseThrow();
            return new Outcome(sampled, train);
        }
    }

    @Test
    void resetsSolveASparseExactAnswerTaskThatPpoCannot() throws Exception {
        int updates = 120;
        Outcome ppo = run(0.0, updates);
        Outcome drpo = run(0.75, updates);
        System.out.printf("exact-answer task, %d episodes: PPO success %.3f (train %.3f), DR-PO success %.3f (train %.3f)%n",
                32 * updates, ppo.sampledSuccess(), ppo.meanTrainScore(), drpo.sampledSuccess(), drpo.meanTrainScore());
        // from the prompt the target has probability 8^-5 ≈ 3e-5 per sample: PPO sees (almost) no reward
        assertThat(ppo.sampledSuccess()).isLessThan(0.05);
        assertThat(drpo.sampledSuccess()).isGreaterThan(0.5);
    }
}
