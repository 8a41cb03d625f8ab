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
import org.rlhf4j.algorithms.common.TrainingSchedule;
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
 *
 * <p>Robust on any CPU: an RL trajectory is chaotic (one flipped float flips a sampled token, and the runs diverge),
 * so a different ISA (AVX2 vs AVX-512 kernels) or thread count is effectively a different seed. One run is therefore
 * one draw; the test runs DR-PO on {@link #SEEDS} (each with its own target, initial policy and critic) and asks a
 * majority to solve the task. The settings were chosen for a high per-seed success rate, measured over seeds, thread
 * counts and with {@code ATEN_CPU_CAPABILITY=avx2} (docs/drpo.md): in particular the learning rate decays linearly
 * to 0, because with a constant η a solved policy drifts (equal rewards → whitened critic noise → Adam-normalised
 * full-size steps) and can collapse at any update, which is what made the earlier single-seed version of this test
 * fail on one CPU and pass on another; and β_mix is 0.5, so that enough episodes start at the prompt to teach the
 * first answer token, which resets never train.
 */
class DrpoBehaviourTest {

    static final int V = 8;
    static final int EOS = V - 1;
    static final int M = 4;
    static final Gpt2Config CFG = Gpt2Config.of(V, 16, 32, 2, 4);
    static final Tokenizer TOK = TestData.syntheticTokenizer(V, EOS);
    static final long[] SEEDS = {1, 2, 3};
    static final int UPDATES = 100;
    static final int BATCH = 128;
    /**
     * Share of reset episodes. Resets force k ≥ 1 tokens, so the first answer token is learned only from the 1 − β_mix
     * episodes that start at the prompt; at 0.75 some seeds solved every later position while the first token had
     * drifted onto a wrong one (docs/drpo.md).
     */
    static final double BETA_MIX = 0.5;

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

    record Outcome(long seed, double sampledSuccess, double meanTrainScore) {}

    /** One run of {@link #UPDATES} × {@link #BATCH} episodes; {@code betaMix} 0 is plain PPO. */
    static Outcome run(double betaMix, long seed) throws Exception {
        List<Encoded.PromptOnly> rows = task(1, 100 + seed);
        // AdamW η 2e-3 decaying linearly to 0, 4 epochs × 2 minibatches, τ 1, no KL, λ 1, entropy bonus 0.05
        PpoConfig ppo = PpoConfig.builder().setSeed(seed)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(2e-3)
                        .setSchedule(OptimizerConfig.Schedule.LINEAR).setEps(1e-8).build())
                .setTotalEpisodes((long) BATCH * UPDATES).setBatchSize(BATCH).setNumMiniBatches(2)
                .setMicroBatchSize(BATCH / 2).setPpoEpochs(4).setResponseLength(M + 2).setTemperature(1.0).setKlCoef(0.0)
                .setKlEstimator(KlEstimator.K1).setLambda(1.0).setEntCoef(0.05).setNoEosScore(null)
                .setSchedule(TrainingSchedule.of(0, 0)).build();
        List<Encoded.PromptOnly> eval = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            eval.addAll(rows);
        }
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, seed);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, seed + 1000)) {
            PpoTrainer.Result r;
            double sampled;
            if (betaMix == 0) {
                PpoTrainer t = PpoTrainer.builder().setConfig(ppo).setPolicy(policy).setReference(ref).setCritic(critic)
                        .setReward(RewardSource.of(exact(rows))).setTokenizer(TOK).setPrompts(rows).build();
                r = t.train();
                sampled = t.evaluate(eval, r.steps()).score();
            } else {
                DrpoTrainer t = DrpoTrainer.builder().setConfig(DrpoConfig.builder().setPpo(ppo).setBetaMix(betaMix)
                                .setResetSource(ResetSource.REFERENCE_SUMMARY).build())
                        .setPolicy(policy).setReference(ref).setCritic(critic).setReward(RewardSource.of(exact(rows)))
                        .setTokenizer(TOK).setPrompts(rows).build();
                r = t.train();
                sampled = t.evaluate(eval, r.steps()).score();
            }
            double train = r.history().stream().mapToDouble(h -> h.get("objective/scores")).average().orElseThrow();
            return new Outcome(seed, sampled, train);
        }
    }

    @Test
    void resetsSolveASparseExactAnswerTaskThatPpoCannot() throws Exception {
        // from the prompt the target has probability 8^-5 ≈ 3e-5 per sample: 12,800 episodes expect 0.4 hits, and PPO
        // learns nothing from an isolated one
        Outcome ppo = run(0.0, SEEDS[0]);
        System.out.printf("exact-answer task, %d episodes: PPO seed %d success %.3f (train %.3f)%n", BATCH * UPDATES,
                ppo.seed(), ppo.sampledSuccess(), ppo.meanTrainScore());
        assertThat(ppo.sampledSuccess()).isLessThan(0.05);

        List<Outcome> drpo = new ArrayList<>();
        for (long seed : SEEDS) {
            if (drpo.stream().filter(o -> o.sampledSuccess() > 0.5).count() >= 2) {
                break; // the majority of three is already reached: a third seed cannot change the verdict
            }
            Outcome o = run(BETA_MIX, seed);
            drpo.add(o);
            System.out.printf("exact-answer task, %d episodes: DR-PO seed %d success %.3f (train %.3f)%n",
                    BATCH * UPDATES, seed, o.sampledSuccess(), o.meanTrainScore());
        }
        // a majority of seeds solves it from the prompt (measured per-seed success rate: docs/drpo.md)
        long solved = drpo.stream().filter(o -> o.sampledSuccess() > 0.5).count();
        assertThat(solved).as("DR-PO seeds with sampled success > 0.5: %s", drpo).isGreaterThanOrEqualTo(2);
    }
}
