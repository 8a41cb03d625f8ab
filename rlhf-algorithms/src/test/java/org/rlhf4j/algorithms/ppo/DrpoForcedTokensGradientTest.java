package org.rlhf4j.algorithms.ppo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.drpo.DatasetReset;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/**
 * DR-PO inside PpoTrainer's rollout and loss (package-private hooks, hence this package): the rollout's forced
 * tokens are the reference's, and forced positions carry no policy gradient.
 */
class DrpoForcedTokensGradientTest {

    static final int T = 6;

    /** Prompts whose reference has exactly T + 1 tokens, so a forced prefix of T − 1 fits any sample. */
    static List<Encoded.PromptOnly> rows() {
        return PpoTrainerTest.prompts(8, 5).stream().map(p -> {
            int[] ref = new int[T + 1];
            for (int j = 0; j < T; j++) {
                ref[j] = (p.query().ids()[0] + 3 * j) % 30;
            }
            ref[T] = PpoTrainerTest.EOS;
            return new Encoded.PromptOnly(p.id(), new EncodedQuery("", p.query().ids(), false), ref);
        }).toList();
    }

    static PpoTrainer trainer(PpoConfig cfg, ResetStrategy reset, Gpt2 policy, Gpt2 ref, ScalarModel critic) {
        return PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref).setCritic(critic)
                .setReward(RewardSource.of(PpoTrainerTest.COUNT)).setTokenizer(PpoTrainerTest.TOK).setPrompts(rows())
                .optReset(reset).optAlgorithm("drpo").build();
    }

    static PpoConfig cfg() {
        return PpoTrainerTest.config(8, 0.05, -1.0).withBatches(8, 8, 1, 8).toBuilder().setResponseLength(T).build();
    }

    @Test
    void rolloutForcedTokensAreTheReferencePrefix() {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(PpoTrainerTest.CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(PpoTrainerTest.CFG, m, 2)) {
            PpoTrainer t = trainer(cfg(), new DatasetReset(1.0, T), policy, ref, critic);
            List<Encoded.PromptOnly> rows = rows();
            RolloutBatch d = t.collector().collect(rows, 3, true, 11);
            int total = 0;
            for (int b = 0; b < rows.size(); b++) {
                int k = Arrays.stream(d.forcedMask()[b]).sum();
                assertThat(k).as("sample %d", b).isBetween(1, T - 1);
                for (int tt = 0; tt < k; tt++) {
                    assertThat(d.forcedMask()[b][tt]).isEqualTo(1); // a contiguous prefix
                }
                assertThat(Arrays.copyOf(d.responses().get(b), k)).containsExactly(Arrays.copyOf(rows.get(b).reference(), k));
                total += k;
            }
            assertThat(total).isPositive();
            // the same update and sample give the same prefix lengths (the reset stream is seeded by (seed, u, i))
            RolloutBatch again = t.collector().collect(rows, 3, true, 12);
            for (int b = 0; b < rows.size(); b++) {
                assertThat(Arrays.stream(again.forcedMask()[b]).sum()).isEqualTo(Arrays.stream(d.forcedMask()[b]).sum());
            }
            // evaluation-style collection never resets
            RolloutBatch plain = t.collector().collect(rows, 3, false, 11);
            assertThat(Arrays.stream(plain.forcedMask()).flatMapToInt(Arrays::stream).sum()).isZero();
        }
    }

    @Test
    void forcedPositionsCarryNoPolicyGradient() {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(PpoTrainerTest.CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(PpoTrainerTest.CFG, m, 2)) {
            // every response but its last token is forced: T − 1 forced tokens, one sampled
            ResetStrategy allButOne = (p, rng) -> Arrays.copyOf(p.reference(), T - 1);
            PpoConfig c = cfg();
            PpoTrainer t = trainer(c, allButOne, policy, ref, critic);
            RolloutBatch d = t.collector().collect(rows(), 0, true, 11);
            int n = rows().size();
            int[] all = new int[n];
            for (int b = 0; b < n; b++) {
                all[b] = b;
                assertThat(d.batch().responseMask()[b]).containsOnly(1); // T tokens, no EOS in the forced part
                assertThat(Arrays.stream(d.forcedMask()[b]).sum()).isEqualTo(T - 1);
            }
            int width = d.batch().responseWidth();
            float[][] adv = new float[n][width];
            float[][] ret = new float[n][width];
            for (int b = 0; b < n; b++) {
                for (int tt = 0; tt < width; tt++) {
                    adv[b][tt] = (float) Math.sin(1.0 + b * 7 + tt);
                    ret[b][tt] = 0.25f * tt;
                }
            }
            // the policy loss is the only term that sees advantages, so the critic part of the gradient cancels in
            // every comparison below; the full gradient (policy and critic weights) is compared
            double[] base = PpoTrainerTest.gradient(t, d, adv, ret, all, policy, critic);
            float[][] forcedChanged = copy(adv);
            for (int b = 0; b < n; b++) {
                for (int tt = 0; tt < T - 1; tt++) {
                    forcedChanged[b][tt] = 100f * (tt % 2 == 0 ? 1 : -1);
                }
            }
            double[] g1 = PpoTrainerTest.gradient(t, d, forcedChanged, ret, all, policy, critic);
            assertThat(PpoTrainerTest.maxDiff(base, g1)).isLessThan(1e-7);
            // changing the one generated position's advantage does change the gradient: the check has power
            float[][] generatedChanged = copy(adv);
            for (int b = 0; b < n; b++) {
                generatedChanged[b][T - 1] += 3f;
            }
            double[] g2 = PpoTrainerTest.gradient(t, d, generatedChanged, ret, all, policy, critic);
            assertThat(PpoTrainerTest.maxDiff(base, g2)).isGreaterThan(1e-4);
            // and plain PPO (nothing forced) does depend on those positions
            RolloutBatch unforced = RolloutBatch.of(d.batch(), d.queries(), d.responses(),
                    new int[n][width], d.logprobs(), d.refLogprobs(), d.values(), d.entropySum(), d.scores(),
                    d.hasEos());
            double[] p0 = PpoTrainerTest.gradient(t, unforced, adv, ret, all, policy, critic);
            double[] p1 = PpoTrainerTest.gradient(t, unforced, forcedChanged, ret, all, policy, critic);
            assertThat(PpoTrainerTest.maxDiff(p0, p1)).isGreaterThan(1e-4);
        }
    }

    static float[][] copy(float[][] a) {
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }
}
