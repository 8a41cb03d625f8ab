package org.rlhf4j.algorithms.grpo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Weights;

/** GRPO with a LoRA policy and β > 0: the reference is the frozen base, and only the adapter moves. */
class GrpoLoraTest {

    static Map<String, float[]> snapshot(Weights w) {
        Map<String, float[]> out = new LinkedHashMap<>();
        w.asMap().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    @Test
    void trainsTheAdapterAgainstTheBaseAsReference() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(CausalLm.random(GrpoTrainerTest.CFG, m, 1), null,
                        new LoraConfig(4, 16, 0, java.util.List.of(), false), 2)) {
            CausalLm base = Adapters.sharedReference(policy);
            Map<String, float[]> baseBefore = snapshot(base.weights());
            Map<String, float[]> adapterBefore = snapshot(policy.weights());
            GrpoTrainer t = GrpoTrainer.builder().setConfig(GrpoTrainerTest.config(2, 1, 0.04)).setPolicy(policy)
                    .optReference(base).setReward(CompositeReward.of(GrpoTrainerTest.COUNT))
                    .setTokenizer(GrpoTrainerTest.TOK).setPrompts(GrpoTrainerTest.prompts(64, 1)).build();
            GrpoTrainer.Result r = t.train();
            assertThat(r.steps()).isEqualTo(2);
            // the first update's KL to the reference is 0: a fresh adapter is the base
            assertThat(r.history().get(0).get("kl")).isCloseTo(0.0, org.assertj.core.api.Assertions.within(1e-6));
            Map<String, float[]> baseAfter = snapshot(base.weights());
            baseBefore.forEach((k, v) -> assertThat(baseAfter.get(k)).as(k).containsExactly(v));
            Map<String, float[]> adapterAfter = snapshot(policy.weights());
            assertThat(adapterAfter.entrySet()).anySatisfy(e -> assertThat(e.getValue())
                    .isNotEqualTo(adapterBefore.get(e.getKey())));
            assertThat(((LoraModel) policy).base()).isSameAs(base);
        }
    }
}
