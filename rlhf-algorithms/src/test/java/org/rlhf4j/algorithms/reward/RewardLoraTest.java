package org.rlhf4j.algorithms.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.datasets.task.Encoded;

/**
 * The reward trainer with a LoRA scalar model (adapter + head over a frozen trunk): it learns the planted preference,
 * leaves the trunk unchanged, saves a PEFT SEQ_CLS adapter, and a stopped run (with LoRA dropout) resumes exactly.
 */
class RewardLoraTest {

    static Map<String, float[]> snapshot(Weights w) {
        Map<String, float[]> out = new LinkedHashMap<>();
        w.asMap().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    @Test
    void learnsOverAFrozenTrunkAndResumesExactly(@TempDir Path dir) throws Exception {
        List<Encoded.Pair> train = RewardTrainerTest.planted(40, 14);
        RewardConfig cfg = RewardTrainerTest.config(8, 4, 1.4, 1e-2, 0); // 7 updates
        LoraConfig lora = new LoraConfig(4, 8, 0.1, List.of("c_attn", "c_proj"), false);
        List<Double> full;
        Map<String, float[]> fullWeights;
        try (NDManager m = NDManager.newBaseManager();
                CausalLm trunk = CausalLm.random(RewardTrainerTest.SMALL, m, 15);
                ScalarModel rm = ScalarModel.lora(trunk, lora, 3)) {
            Map<String, float[]> trunkBefore = snapshot(trunk.weights());
            RunDir run = new RunDir(dir.resolve("a"));
            full = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(RewardTrainerTest.eos31())
                    .setTrainData(train).optRunDir(run).build().train().trainLosses();
            Map<String, float[]> trunkAfter = snapshot(trunk.weights());
            trunkBefore.forEach((k, v) -> assertThat(trunkAfter.get(k)).as(k).containsExactly(v));
            fullWeights = snapshot(rm.weights());
            assertThat(fullWeights.keySet()).contains(ScalarModel.HEAD_WEIGHT, ScalarModel.HEAD_BIAS);
            assertThat(full.get(full.size() - 1)).isLessThan(full.get(0));
            assertThat(run.model().resolve("adapter_config.json")).exists();
            assertThat(run.model().resolve("model.safetensors")).doesNotExist();
        }
        RunDir run = new RunDir(dir.resolve("b"));
        List<Double> resumed = new java.util.ArrayList<>();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm trunk = CausalLm.random(RewardTrainerTest.SMALL, m, 15);
                ScalarModel rm = ScalarModel.lora(trunk, lora, 3)) {
            resumed.addAll(RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(RewardTrainerTest.eos31())
                    .setTrainData(train).optRunDir(run).optStopAfter(4).build().train().trainLosses());
        }
        try (NDManager m = NDManager.newBaseManager();
                CausalLm trunk = CausalLm.random(RewardTrainerTest.SMALL, m, 15);
                ScalarModel rm = ScalarModel.lora(trunk, lora, 77)) { // adapter and head must come from the checkpoint
            resumed.addAll(RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(RewardTrainerTest.eos31())
                    .setTrainData(train).optRunDir(run).build().train().trainLosses());
            Map<String, float[]> w = snapshot(rm.weights());
            w.forEach((k, v) -> {
                float[] u = fullWeights.get(k);
                for (int i = 0; i < v.length; i++) {
                    assertThat(v[i]).as("%s[%d]", k, i).isCloseTo(u[i], within(1e-6f));
                }
            });
        }
        assertThat(resumed).hasSize(full.size());
        for (int i = 0; i < full.size(); i++) {
            assertThat(resumed.get(i)).as("step %d", i).isCloseTo(full.get(i), within(1e-6));
        }
    }
}
