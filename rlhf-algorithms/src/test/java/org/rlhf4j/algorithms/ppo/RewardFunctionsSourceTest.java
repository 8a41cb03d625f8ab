package org.rlhf4j.algorithms.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFn;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.algorithms.rewards.RewardInput;
import org.rlhf4j.algorithms.rewards.RewardModelFn;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;

/** PPO with {@link RewardSource.Functions}: the same trajectory as the legacy sources, plus per-function metrics. */
class RewardFunctionsSourceTest {

    /** {@link PpoTrainerTest#COUNT} as a {@link RewardFn} over completion ids. */
    static final RewardFn COUNT = RewardFn.perSample("count", in -> {
        double s = 0;
        for (int t : in.completionIds()) {
            s += t == PpoTrainerTest.TARGET ? 1 : 0;
        }
        return s;
    });

    /** Trains; the source is built from the run's reward model (seed 3). */
    static List<Map<String, Double>> history(Function<ScalarModel, RewardSource> source, long episodes)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(PpoTrainerTest.CFG, m, 1);
                CausalLm ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(PpoTrainerTest.CFG, m, 2);
                ScalarModel rm = ScalarModel.random(PpoTrainerTest.CFG, m, 3)) {
            return PpoTrainer.builder().setConfig(PpoTrainerTest.config(episodes, 0.05, -1.0)).setPolicy(policy)
                    .setReference(ref).setCritic(critic).setReward(source.apply(rm)).setTokenizer(PpoTrainerTest.TOK)
                    .setPrompts(PpoTrainerTest.prompts(64, 1)).build().train().history();
        }
    }

    static void assertSameLegacyKeys(List<Map<String, Double>> legacy, List<Map<String, Double>> viaFns,
            String name) {
        assertThat(viaFns).hasSameSizeAs(legacy);
        for (int u = 0; u < legacy.size(); u++) {
            Map<String, Double> added = new java.util.LinkedHashMap<>(viaFns.get(u));
            for (Map.Entry<String, Double> e : legacy.get(u).entrySet()) {
                if (e.getKey().startsWith("time/")) {
                    added.remove(e.getKey()); // wall-clock seconds of the phases: differ between any two runs
                    continue;
                }
                // bit-identical: same doubles, key by key
                assertThat(viaFns.get(u).get(e.getKey())).as("update %d, %s", u, e.getKey()).isEqualTo(e.getValue());
                added.remove(e.getKey());
            }
            // only keys are added, and only the per-function ones (the combined score is objective/scores)
            assertThat(added.keySet()).containsExactly("rewards/" + name + "/mean", "rewards/" + name + "/std");
        }
    }

    @Test
    void functionsMatchTheLegacyFunctionSourceAndAddPerFunctionMetrics() throws Exception {
        List<Map<String, Double>> legacy = history(rm -> RewardSource.of(PpoTrainerTest.COUNT), 32 * 2);
        List<Map<String, Double>> viaFns = history(rm -> RewardSource.of(CompositeReward.of(COUNT)), 32 * 2);
        assertSameLegacyKeys(legacy, viaFns, "count");
        // the function's metrics are over its raw scores (objective/scores comes after the missing-EOS rule)
        assertThat(viaFns.get(0).get("rewards/count/mean")).isGreaterThanOrEqualTo(0.0);
        assertThat(viaFns.get(0).get("rewards/count/std")).isGreaterThanOrEqualTo(0.0);
    }

    @Test
    void theRewardModelAdapterMatchesTheLegacyModelSource() throws Exception {
        List<Map<String, Double>> legacy = history(RewardSource::of, 32 * 2);
        List<Map<String, Double>> viaFns = history(
                rm -> RewardSource.of(CompositeReward.of(RewardFns.rewardModel(rm, PpoTrainerTest.EOS, 16))), 32 * 2);
        assertSameLegacyKeys(legacy, viaFns, RewardModelFn.DEFAULT_NAME);
    }

    @Test
    void aResponseNoFunctionAppliesToStopsPpo() {
        RewardFn never = RewardFn.perSample("never", in -> null);
        assertThatThrownBy(() -> history(rm -> RewardSource.of(CompositeReward.of(never)), 32))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("[never] returned null for response 0");
    }

    @Test
    void rewardModelFnScoresAtTheLastRealTokenInMicroBatches() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(PpoTrainerTest.CFG, m, 3)) {
            List<int[]> q = List.of(new int[] {7, 8, 9}, new int[] {10}, new int[] {11, 12}, new int[] {13, 14, 15, 16},
                    new int[] {17});
            List<int[]> r = List.of(new int[] {5, PpoTrainerTest.EOS}, new int[] {5, 6, 7}, new int[] {8},
                    new int[] {1, 2, 3, 4}, new int[] {9, PpoTrainerTest.EOS});
            List<RewardInput> in = new ArrayList<>();
            for (int i = 0; i < q.size(); i++) {
                in.add(new RewardInput("", "", Map.of(), q.get(i), r.get(i)));
            }
            List<Double> got = new RewardModelFn("rm", rm, PpoTrainerTest.EOS, 2).score(in);
            // reference: each pair scored alone, unpadded, at its last token
            for (int i = 0; i < q.size(); i++) {
                try (NDManager s = m.newSubManager()) {
                    ResponseBatch.Tensors t = ResponseBatch.of(List.of(q.get(i)), List.of(r.get(i)), PpoTrainerTest.EOS)
                            .toTensors(s);
                    float want = rm.score(t.ids(), t.mask()).toFloatArray()[0];
                    assertThat(got.get(i)).as("pair %d", i).isCloseTo(want, within(1e-4));
                }
            }
            assertThatThrownBy(() -> new RewardModelFn("rm", rm, 0, 0)).hasMessageContaining("got 0");
        }
    }
}
