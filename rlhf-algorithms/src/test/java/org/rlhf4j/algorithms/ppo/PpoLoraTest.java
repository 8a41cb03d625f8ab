package org.rlhf4j.algorithms.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.model.Weights;

/**
 * PPO with LoRA: the policy, the reference, a LoRA reward model trained over the same SFT directory and the critic
 * (its copy) share one frozen base; only the policy adapter and the critic's adapter and head train; a stopped run
 * resumes to the same adapters.
 */
class PpoLoraTest {

    static final LoraConfig LORA = new LoraConfig(4, 8, 0, List.of(), false);

    /** A base model directory and a LoRA reward model (adapter + head) saved over it. */
    static Path[] dirs(Path dir) throws Exception {
        Path base = Files.createDirectories(dir.resolve("sft"));
        Path rm = Files.createDirectories(dir.resolve("rm"));
        try (NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.random(PpoTrainerTest.CFG, m, 1);
                ScalarModel r = ScalarModel.lora(lm, LORA, 7).optBasePath(base.toAbsolutePath())) {
            lm.save(base);
            r.save(rm);
        }
        return new Path[] {base, rm};
    }

    static Map<String, float[]> snapshot(Weights w) {
        Map<String, float[]> out = new LinkedHashMap<>();
        w.asMap().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    static PpoTrainer.Builder trainer(PpoModels models, RunDir run, long stopAfter) {
        return PpoTrainer.builder()
                .setConfig(PpoTrainerTest.config(32, 0.05, null, 1e-2).withBatches(4 * 8, 8, 2, 4).toBuilder().setPpoEpochs(2)
                        .build()).setPolicy(models.policy())
                .setReference(models.reference()).setCritic(models.critic())
                .setReward(RewardSource.of(PpoTrainerTest.COUNT)).setTokenizer(PpoTrainerTest.TOK)
                .setPrompts(PpoTrainerTest.prompts(64, 1)).optRunDir(run).optStopAfter(stopAfter);
    }

    @Test
    void oneBaseServesPolicyReferenceRewardModelAndCritic(@TempDir Path dir) throws Exception {
        Path[] d = dirs(dir);
        try (PpoModels models = PpoModels.load(d[0], d[1], Device.cpu(), 0, LORA, 3)) {
            LoraModel policy = (LoraModel) models.policy();
            CausalLm base = policy.base();
            assertThat(models.reference()).isSameAs(base);
            assertThat(models.rewardModel().base()).containsSame(base);
            assertThat(models.critic().base()).containsSame(base);
            assertThat(models.critic().weights()).isNotSameAs(models.rewardModel().weights());
            // the distinct parameter tensors of the four models: one base + policy adapter + 2 × (adapter + head)
            Map<NDArray, Boolean> seen = new IdentityHashMap<>();
            long held = 0;
            for (Weights w : List.of(policy.weights(), base.weights(), models.reference().weights(),
                    models.rewardModel().weights(), models.critic().weights())) {
                for (NDArray a : w.arrays()) {
                    if (seen.put(a, true) == null) {
                        held += a.size() * 4;
                    }
                }
            }
            long baseBytes = base.weights().count() * 4;
            long extra = (policy.weights().count() + models.rewardModel().weights().count()
                    + models.critic().weights().count()) * 4;
            assertThat(held).isEqualTo(baseBytes + extra);
            assertThat(extra).isLessThan(baseBytes / 4);
            // the critic starts as the reward model
            assertThat(snapshot(models.critic().weights()).keySet())
                    .isEqualTo(snapshot(models.rewardModel().weights()).keySet());

            Map<String, float[]> baseBefore = snapshot(base.weights());
            Map<String, float[]> rmBefore = snapshot(models.rewardModel().weights());
            RunDir run = new RunDir(dir.resolve("run"));
            PpoTrainer.Result r = trainer(models, run, 0).build().train();
            assertThat(r.steps()).isEqualTo(4);
            Map<String, float[]> baseAfter = snapshot(base.weights());
            baseBefore.forEach((k, v) -> assertThat(baseAfter.get(k)).as(k).containsExactly(v));
            Map<String, float[]> rmAfter = snapshot(models.rewardModel().weights());
            rmBefore.forEach((k, v) -> assertThat(rmAfter.get(k)).as(k).containsExactly(v)); // frozen
            assertThat(run.model().resolve("adapter_model.safetensors")).exists();
            assertThat(run.model().resolve("critic/adapter_model.safetensors")).exists();
            assertThat(run.model().resolve("model.safetensors")).doesNotExist();
            JsonNode rc = Json.MAPPER.readTree(Files.readString(run.runConfig()));
            assertThat(rc.get("adapters").get("policy").get("r").asInt()).isEqualTo(4);
            assertThat(rc.get("adapters").get("critic").get("r").asInt()).isEqualTo(4);
        }
    }

    @Test
    void aStoppedLoraPpoRunResumesToTheSameAdapters(@TempDir Path dir) throws Exception {
        Path[] d = dirs(dir);
        Map<String, float[]> policyA;
        Map<String, float[]> criticA;
        try (PpoModels models = PpoModels.load(d[0], d[1], Device.cpu(), 0, LORA, 3)) {
            trainer(models, new RunDir(dir.resolve("a")), 0).build().train();
            policyA = snapshot(models.policy().weights());
            criticA = snapshot(models.critic().weights());
        }
        RunDir run = new RunDir(dir.resolve("b"));
        try (PpoModels models = PpoModels.load(d[0], d[1], Device.cpu(), 0, LORA, 3)) {
            trainer(models, run, 2).build().train();
        }
        assertThat(run.checkpoint(2).resolve("critic/optimizer.safetensors")).exists();
        try (PpoModels models = PpoModels.load(d[0], d[1], Device.cpu(), 0, LORA, 99)) {
            PpoTrainer.Result r = trainer(models, run, 0).build().train();
            assertThat(r.startStep()).isEqualTo(2);
            Map<String, float[]> p = snapshot(models.policy().weights());
            Map<String, float[]> c = snapshot(models.critic().weights());
            p.forEach((k, v) -> assertClose(k, v, policyA.get(k)));
            c.forEach((k, v) -> assertClose(k, v, criticA.get(k)));
        }
    }

    static void assertClose(String name, float[] a, float[] b) {
        assertThat(a).as(name).hasSameSizeAs(b);
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i]).as("%s[%d]", name, i).isCloseTo(b[i], within(1e-5f));
        }
    }
}
