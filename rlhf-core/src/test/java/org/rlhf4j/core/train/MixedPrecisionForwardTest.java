package org.rlhf4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ForwardHook;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoX;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.model.KvCache;
import org.rlhf4j.core.model.Llama;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * The fp16 forward ({@link MixedPrecision#FP16}) on CPU: float32 logits whose log-probabilities stay within a measured
 * tolerance of the float32 forward for each family, gradients that reach the float32 master weights as float32 and
 * agree with the float32 gradients, and a KV-cached fp16 forward that matches the full one.
 */
class MixedPrecisionForwardTest {

    /**
     * Tolerance on next-token log-probabilities. float16 has an 11-bit significand (unit roundoff 2⁻¹¹ ≈ 4.9e-4);
     * the d = 64 dot products of the linear layers and the float16 logits (|z| up to ~15 here) carry absolute errors
     * of a few 1e-3 into the float32 log-softmax. Measured on the sharpened models (1 thread, x86-64): max |Δ| 6.9e-3
     * GPT-2, 2.6e-3 GPT-NeoX, 2.2e-3 Qwen2, 2.0e-3 Qwen3; 2e-2 leaves a ~3x margin.
     */
    static final double LOGPROB_TOL = 2e-2;

    static final long[][] IDS = {{1, 5, 9, 3, 44, 12, 7, 80}, {0, 0, 7, 2, 61, 33, 90, 4}};
    static final long[][] MASK = {{1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1}};

    /** Next-token log-probabilities of the real tokens, {@code [B, T-1]} with pads set to 0. */
    static NDArray logprobs(CausalLm model, NDArray ids, NDArray mask, ForwardHook hook) {
        NDArray h = model.hidden(ids, mask, null, hook).get(new NDIndex(":, :-1, :"));
        NDArray logits = model.logits(h, hook);
        assertEquals(DataType.FLOAT32, logits.getDataType(), "logits are float32 under every hook");
        NDArray lp = TensorOps.tokenLogprobs(logits, ids.get(new NDIndex(":, 1:")));
        return lp.mul(mask.get(new NDIndex(":, 1:")).toType(DataType.FLOAT32, false));
    }

    /**
     * Multiplies the vocabulary matrices (embedding, head) by 25 so that the random model's next-token distributions
     * are peaked (logit std ≈ 3, mean logprob ≈ −10) as a trained model's are, instead of near-uniform; near-uniform
     * logits would hide the float16 error.
     */
    static void sharpen(CausalLm model) {
        for (Map.Entry<String, NDArray> e : model.weights().asMap().entrySet()) {
            if (e.getValue().getShape().get(0) == model.config().vocabSize()) {
                e.getValue().muli(25f);
            }
        }
    }

    static double check(String family, CausalLm model) {
        sharpen(model);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ids = m.create(IDS);
            NDArray mask = m.create(MASK);
            NDArray fp32 = logprobs(model, ids, mask, ForwardHook.NONE);
            NDArray fp16 = logprobs(model, ids, mask, MixedPrecision.FP16);
            double diff = fp32.sub(fp16).abs().max().getFloat();
            System.out.printf("fp16 vs fp32 %s: max |Δ logprob| = %.3e (mean logprob %.3f)%n", family, diff,
                    fp32.sum().getFloat() / 13);
            assertTrue(diff > 0, family + ": the fp16 forward must actually compute in float16");
            assertTrue(diff < LOGPROB_TOL, family + ": max |Δ logprob| " + diff);

            // KV cache: prefix then one token, fp16 throughout, equals the full fp16 forward at the last position
            try (KvCache cache = new KvCache(model.config().numLayers())) {
                NDArray h1 = model.hidden(ids.get(new NDIndex(":, :-1")), mask.get(new NDIndex(":, :-1")), cache,
                        MixedPrecision.FP16);
                NDArray h2 = model.hidden(ids.get(new NDIndex(":, -1:")), mask.get(new NDIndex(":, -1:")), cache,
                        MixedPrecision.FP16);
                NDArray full = model.hidden(ids, mask, null, MixedPrecision.FP16).get(new NDIndex(":, -1:, :"));
                double cd = h2.sub(full).abs().max().getFloat();
                assertTrue(cd < 1e-2, family + ": cached fp16 forward differs by " + cd);
                h1.close();
            }
            return diff;
        }
    }

    @Test
    void gpt2Fp16LogprobsMatchFp32() {
        try (NDManager m = NDManager.newBaseManager(); Gpt2 model = Gpt2.random(Gpt2Config.of(97, 64, 32, 2, 4), m, 3)) {
            check("gpt2", model);
        }
    }

    @Test
    void gptNeoXFp16LogprobsMatchFp32() {
        try (NDManager m = NDManager.newBaseManager();
                GptNeoX model = GptNeoX.random(GptNeoXConfig.of(97, 64, 32, 2, 2), m, 3)) {
            check("gpt_neox", model);
        }
    }

    @Test
    void llamaFamiliesFp16LogprobsMatchFp32() {
        for (LlamaFamily f : new LlamaFamily[] {LlamaFamily.QWEN2, LlamaFamily.QWEN3}) {
            LlamaConfig c = LlamaConfig.of(f, 97, 64, 32, 2, 4, 2, 48, 1, 2);
            try (NDManager m = NDManager.newBaseManager(); Llama model = Llama.random(c, m, 3)) {
                check(f.name().toLowerCase(), model);
            }
        }
    }

    @Test
    void gradientsReachFloat32MasterWeightsAndAgreeWithFp32() {
        try (NDManager m = NDManager.newBaseManager(); Gpt2 model = Gpt2.random(Gpt2Config.of(97, 64, 32, 2, 4), m, 3)) {
            NDArray ids = m.create(IDS);
            NDArray mask = m.create(MASK);
            Map<String, float[]> g32 = grads(model, ids, mask, ForwardHook.NONE);
            Map<String, float[]> g16 = grads(model, ids, mask, MixedPrecision.FP16);
            double worst = 1;
            for (String name : g32.keySet()) {
                float[] a = g32.get(name);
                float[] b = g16.get(name);
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int i = 0; i < a.length; i++) {
                    assertTrue(Float.isFinite(b[i]), name);
                    dot += (double) a[i] * b[i];
                    na += (double) a[i] * a[i];
                    nb += (double) b[i] * b[i];
                }
                if (na > 0) {
                    worst = Math.min(worst, dot / Math.sqrt(na * nb));
                }
            }
            System.out.printf("fp16 vs fp32 gpt2 gradients: worst per-tensor cosine %.6f%n", worst);
            assertTrue(worst > 0.999, "worst per-tensor gradient cosine " + worst);
        }
    }

    private static Map<String, float[]> grads(CausalLm model, NDArray ids, NDArray mask, ForwardHook hook) {
        model.weights().setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(logprobs(model, ids, mask, hook).sum().neg());
        }
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : model.weights().asMap().entrySet()) {
            NDArray g = e.getValue().getGradient();
            assertEquals(DataType.FLOAT32, g.getDataType(), e.getKey());
            out.put(e.getKey(), g.toFloatArray());
            g.close(); // a getGradient() handle belongs to the parameter's manager (DESIGN.md §7)
        }
        Gradients.zero(model.weights());
        model.weights().setRequiresGradient(false);
        return out;
    }

    @Test
    void computeTypeComposesAndTheFp32PathIsUnchanged() {
        assertEquals(DataType.FLOAT32, ForwardHook.NONE.computeType());
        assertEquals(DataType.FLOAT16, MixedPrecision.FP16.computeType());
        ForwardHook adapter = new ForwardHook() {};
        assertEquals(DataType.FLOAT16, adapter.andThen(MixedPrecision.FP16).computeType());
        assertEquals(DataType.FLOAT16, MixedPrecision.FP16.andThen(adapter).computeType());
        assertSame(ForwardHook.NONE, MixedPrecision.hook(false));
        try (NDManager m = NDManager.newBaseManager(); Gpt2 model = Gpt2.random(Gpt2Config.of(97, 64, 32, 2, 4), m, 3)) {
            NDArray ids = m.create(IDS);
            NDArray mask = m.create(MASK);
            NDArray plain = model.forward(ids, mask);
            NDArray hooked = model.logits(model.hidden(ids, mask, null, MixedPrecision.hook(false)),
                    MixedPrecision.hook(false));
            assertEquals(0f, plain.sub(hooked).abs().max().getFloat(), 0f);
        }
    }

    @Test
    void loraFactorsGetGradientsUnderFp16AndCastsStayOutOfTheWeightManagers() {
        LlamaConfig c = LlamaConfig.of(LlamaFamily.QWEN2, 97, 64, 32, 2, 4, 2, 48, 1, 2);
        try (NDManager m = NDManager.newBaseManager(); Llama base = Llama.random(c, m, 3);
                LoraModel lora = LoraModel.create(base,
                        new LoraConfig(4, 8, 0, java.util.List.of(LoraConfig.ALL_LINEAR), false), 5, false)) {
            // non-zero B, so that A gets a gradient too
            java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
            for (Map.Entry<String, NDArray> e : lora.weights().asMap().entrySet()) {
                if (e.getKey().endsWith("lora_B.weight")) {
                    float[] v = new float[(int) e.getValue().getShape().size()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (rng.nextDouble() - 0.5) * 0.2f;
                    }
                    e.getValue().set(v);
                }
            }
            int baseArrays = ((ai.djl.ndarray.BaseNDManager) base.manager()).getManagedArrays().size();
            int adapterArrays = ((ai.djl.ndarray.BaseNDManager) lora.manager()).getManagedArrays().size();
            Map<String, float[]> g32;
            Map<String, float[]> g16;
            try (NDManager step = m.newSubManager()) {
                NDArray ids = step.create(IDS);
                NDArray mask = step.create(MASK);
                g32 = grads(lora, ids, mask, ForwardHook.NONE);
                g16 = grads(lora, ids, mask, MixedPrecision.FP16);
            }
            assertEquals(2 * 7 * 2, g16.size(), "A and B of 7 linears in 2 layers");
            for (String name : g32.keySet()) {
                float[] a = g32.get(name);
                float[] b = g16.get(name);
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int i = 0; i < a.length; i++) {
                    dot += (double) a[i] * b[i];
                    na += (double) a[i] * a[i];
                    nb += (double) b[i] * b[i];
                }
                assertTrue(nb > 0, name + " gets no gradient under fp16");
                assertTrue(dot / Math.sqrt(na * nb) > 0.999, name + ": cosine " + dot / Math.sqrt(na * nb));
            }
            // the fp16 copies of weights and factors belonged to the step, not to the long-lived managers
            assertEquals(baseArrays, ((ai.djl.ndarray.BaseNDManager) base.manager()).getManagedArrays().size());
            assertEquals(adapterArrays, ((ai.djl.ndarray.BaseNDManager) lora.manager()).getManagedArrays().size());
        }
    }

    @Test
    void fp16ViewsStayWhatTheyWrapAndSaveAsIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        LlamaConfig c = LlamaConfig.of(LlamaFamily.LLAMA, 97, 64, 32, 2, 4, 2, 48, 1, 2);
        try (NDManager m = NDManager.newBaseManager(); Llama base = Llama.random(c, m, 3)) {
            LoraModel lora = LoraModel.create(base, LoraConfig.of(4, 8), 5, false);
            CausalLm view = lora.withHook(MixedPrecision.FP16);
            // still a LoRA model (trainers find its base and adapter), training the view trains the adapter
            assertTrue(view instanceof LoraModel);
            assertSame(lora.weights(), view.weights());
            assertSame(base, ((LoraModel) view).base());
            java.nio.file.Files.createDirectories(dir.resolve("lora"));
            view.save(dir.resolve("lora"));
            assertTrue(LoraModel.isAdapterDir(dir.resolve("lora")), "an fp16 view of a LoRA model saves its adapter");
            // a hooked full model saves the full model
            java.nio.file.Files.createDirectories(dir.resolve("full"));
            base.withHook(MixedPrecision.FP16).save(dir.resolve("full"));
            try (CausalLm back = CausalLm.load(dir.resolve("full"), m)) {
                assertEquals(base.weights().names(), back.weights().names());
            }
            view.close(); // closes the model it views
        }
    }
}
