package org.rlhf4j.algorithms.dpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.algorithms.common.RunConfigMismatchException;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Weights;

/**
 * DPO with a LoRA policy: the reference is the policy's frozen base (the same object, no copy), its log-probs are the
 * base's, only the adapter trains, and a stopped run resumes to the same adapter.
 */
class DpoLoraTest {

    static final LoraConfig LORA = new LoraConfig(4, 8, 0, List.of(), false);

    static DpoTrainer.Builder trainer(DpoConfig cfg, CausalLm policy, CausalLm reference) {
        return DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                .setTokenizer(DpoTrainerTest.TOK).setTrainData(DpoTrainerTest.TRAIN).optEvalData(DpoTrainerTest.EVAL);
    }

    static Map<String, float[]> snapshot(Weights w) {
        Map<String, float[]> out = new LinkedHashMap<>();
        w.asMap().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    static long bytes(Weights w) {
        long b = 0;
        for (NDArray a : w.arrays()) {
            b += a.size() * a.getDataType().getNumOfBytes();
        }
        return b;
    }

    static float[] logprobs(CausalLm model, NDManager m) {
        long[] ids = {3, 7, 1, 12, 12, 13, 15};
        NDArray x = m.create(ids, new Shape(1, ids.length));
        return model.nextTokenLogprobs(x, m.ones(x.getShape())).toFloatArray();
    }

    @Test
    void theReferenceIsTheFrozenBaseAndOnlyTheAdapterTrains(@TempDir Path dir) throws Exception {
        DpoConfig cfg = DpoTrainerTest.config(4, 2, 1, 1e-2).toBuilder().setPrecomputeReferenceLogprobs(false).build();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(Gpt2.random(Toy.MODEL, m, 21), null, LORA, 5)) {
            LoraModel lora = (LoraModel) policy;
            CausalLm reference = Adapters.sharedReference(policy);
            assertThat(reference).isSameAs(lora.base());
            Map<String, float[]> baseBefore = snapshot(reference.weights());
            float[] baseLp = logprobs(reference, m);
            // a fresh adapter (B = 0) is the base exactly
            assertThat(logprobs(policy, m)).containsExactly(baseLp);

            RunDir run = new RunDir(dir.resolve("run"));
            DpoTrainer.Result r = trainer(cfg, policy, reference).optRunDir(run).build().train();
            assertThat(r.trainLosses().get(r.trainLosses().size() - 1)).isLessThan(r.trainLosses().get(0));

            // the base (= the reference) is bit-for-bit unchanged; the reference's log-probs are the base's
            Map<String, float[]> baseAfter = snapshot(reference.weights());
            assertThat(baseAfter.keySet()).isEqualTo(baseBefore.keySet());
            baseBefore.forEach((k, v) -> assertThat(baseAfter.get(k)).as(k).containsExactly(v));
            assertThat(logprobs(reference, m)).containsExactly(baseLp);
            lora.setAdapterEnabled(false);
            assertThat(logprobs(policy, m)).containsExactly(baseLp);
            lora.setAdapterEnabled(true);
            float[] trained = logprobs(policy, m);
            double moved = 0;
            for (int i = 0; i < trained.length; i++) {
                moved = Math.max(moved, Math.abs(trained[i] - baseLp[i]));
            }
            assertThat(moved).isGreaterThan(1e-3);

            // one copy of the base in memory: the distinct parameter tensors of policy + reference are the base's
            // and the adapter's, nothing else
            Map<NDArray, Boolean> distinct = new IdentityHashMap<>();
            long held = 0;
            for (Weights w : List.of(policy.weights(), reference.weights(), lora.base().weights())) {
                for (NDArray a : w.arrays()) {
                    if (distinct.put(a, true) == null) {
                        held += a.size() * a.getDataType().getNumOfBytes();
                    }
                }
            }
            long base = bytes(reference.weights());
            long adapter = bytes(policy.weights());
            assertThat(held).isEqualTo(base + adapter);
            assertThat(policy.weights().names()).allSatisfy(n -> assertThat(n).containsPattern("lora_[AB]"));
            System.out.printf("DPO LoRA held parameter bytes: base %d + adapter %d = %d (full DPO: 2 x %d = %d)%n",
                    base, adapter, held, base, 2 * base);

            // the final model is the adapter (PEFT files), the run config records it
            assertThat(run.model().resolve("adapter_config.json")).exists();
            assertThat(run.model().resolve("adapter_model.safetensors")).exists();
            assertThat(run.model().resolve("model.safetensors")).doesNotExist();
            JsonNode rc = Json.MAPPER.readTree(Files.readString(run.runConfig()));
            assertThat(rc.get("adapters").get("policy").get("r").asInt()).isEqualTo(4);
        }
    }

    @Test
    void aFullCopyOfTheBaseIsStillRefusedWhenItIsThePolicy() {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(Gpt2.random(Toy.MODEL, m, 21), null, LORA, 5)) {
            assertThatThrownBy(() -> trainer(DpoTrainerTest.config(4, 2, 1, 1e-2), policy, policy).build())
                    .hasMessageContaining("not the policy itself");
        }
    }

    @Test
    void aStoppedLoraRunResumesToTheSameAdapter(@TempDir Path dir) throws Exception {
        // lr 3e-3 as DpoTrainerTest's resume test: at 1e-2 this test failed once in a full `mvn verify` (8e-4 loss
        // difference; 2 torch threads, late in a long test JVM) and never alone: presumably last-bit differences of
        // the kernels that Adam's normalised steps amplify at a high learning rate
        DpoConfig cfg = DpoTrainerTest.config(4, 2, 1, 3e-3).toBuilder().setSchedule(TrainingSchedule.of(0, 0)).build();
        Map<String, float[]> uninterrupted;
        List<Double> lossesA;
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(Gpt2.random(Toy.MODEL, m, 21), null, LORA, 5)) {
            lossesA = trainer(cfg, policy, Adapters.sharedReference(policy)).optRunDir(new RunDir(dir.resolve("a")))
                    .build().train().trainLosses();
            uninterrupted = snapshot(policy.weights());
        }
        RunDir run = new RunDir(dir.resolve("b"));
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(Gpt2.random(Toy.MODEL, m, 21), null, LORA, 5)) {
            trainer(cfg, policy, Adapters.sharedReference(policy)).optRunDir(run).optStopAfter(3).build().train();
        }
        assertThat(run.checkpoint(3).resolve("adapter_model.safetensors")).exists();
        assertThat(run.checkpoint(3).resolve("optimizer.safetensors")).exists();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(Gpt2.random(Toy.MODEL, m, 21), null, LORA, 999)) {
            // a different adapter seed: the adapter must come from the checkpoint
            DpoTrainer.Result r = trainer(cfg, policy, Adapters.sharedReference(policy)).optRunDir(run).build().train();
            assertThat(r.startStep()).isEqualTo(3);
            for (int i = 0; i < r.trainLosses().size(); i++) {
                assertThat(r.trainLosses().get(i)).as("resumed update %d", 3 + i)
                        .isCloseTo(lossesA.get(3 + i), within(1e-6));
            }
            Map<String, float[]> resumed = snapshot(policy.weights());
            assertThat(resumed.keySet()).isEqualTo(uninterrupted.keySet());
            resumed.forEach((k, v) -> {
                float[] u = uninterrupted.get(k);
                for (int i = 0; i < v.length; i++) {
                    assertThat(v[i]).as("%s[%d]", k, i).isCloseTo(u[i], within(1e-6f));
                }
            });
        }
        // other LoRA settings are refused, naming the field
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = Adapters.withAdapter(Gpt2.random(Toy.MODEL, m, 21), null,
                        new LoraConfig(2, 8, 0, List.of(), false), 5)) {
            assertThatThrownBy(() -> trainer(cfg, policy, Adapters.sharedReference(policy)).optRunDir(run)
                    .optExistingRun(org.rlhf4j.algorithms.common.ExistingRun.RESUME).build().train())
                    .isInstanceOf(RunConfigMismatchException.class).hasMessageContaining("adapters.policy.r");
        }
        // and so is a full fine-tuning run in the LoRA run's directory
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(Toy.MODEL, m, 21);
                Gpt2 reference = policy.copy(m)) {
            assertThatThrownBy(() -> trainer(cfg, policy, reference).optRunDir(run)
                    .optExistingRun(org.rlhf4j.algorithms.common.ExistingRun.RESUME).build().train())
                    .isInstanceOf(RunConfigMismatchException.class).hasMessageContaining("adapters");
        }
    }
}
