package org.rlhf4j.core.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.lora.LoraAdapter;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.Llama;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.train.MixedPrecision;

/**
 * The generator with the preallocated KV cache, one host copy per step and the early stop of truncation mode gives
 * the same rollouts as the generator before them ({@link LegacyGenerator}: concatenating cache, two host reads per
 * step, all steps): same tokens, masks and forced masks, log-probabilities within float rounding, for greedy,
 * sampling, top-k, top-p, forced prefixes, min_new_tokens, several EOS ids, STOP and truncation modes, with and
 * without the cache, on GPT-2, grouped-query and sliding-window Llamas, a LoRA model and an fp16 view.
 */
class DecodeParityTest {

    static NDManager manager;
    static Gpt2 gpt2;
    static final int EOS = 30;

    /** Largest |Δ logprob| seen, reported at the end. */
    static double worst;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        gpt2 = Gpt2.random(Gpt2Config.of(31, 64, 32, 2, 4), manager, 3);
    }

    @AfterAll
    static void tearDown() {
        System.out.printf("DecodeParityTest: max |Δ logprob| new vs legacy generator = %.3e%n", worst);
        gpt2.close();
        manager.close();
    }

    static List<int[]> prompts() {
        return List.of(new int[] {1, 2, 3, 4, 5}, new int[] {7, 8}, new int[] {9, 10, 11}, new int[] {13});
    }

    /** Asserts identical rollouts (log-probabilities within {@code tol}) and returns the largest |Δ logprob|. */
    static double assertSameRollout(Rollout got, Rollout want, double tol, String what) {
        assertThat(got.promptIds()).as(what).isDeepEqualTo(want.promptIds());
        assertThat(got.promptMask()).as(what).isDeepEqualTo(want.promptMask());
        assertThat(got.responseIds()).as(what).isDeepEqualTo(want.responseIds());
        assertThat(got.responseMask()).as(what).isDeepEqualTo(want.responseMask());
        assertThat(got.forcedMask()).as(what).isDeepEqualTo(want.forcedMask());
        double max = 0;
        for (int b = 0; b < want.batchSize(); b++) {
            for (int t = 0; t < want.responseLength(); t++) {
                float g = got.logprobs()[b][t];
                float w = want.logprobs()[b][t];
                // a forced EOS inside min_new_tokens has logprob −∞ in both
                double d = Float.compare(g, w) == 0 ? 0 : Math.abs(g - w);
                assertThat(Double.isNaN(d)).as("%s: logprob [%d][%d] %s vs %s", what, b, t, g, w).isFalse();
                if (want.responseMask()[b][t] == 0) {
                    assertThat(got.logprobs()[b][t]).as("%s: padding logprob [%d][%d]", what, b, t).isZero();
                }
                max = Math.max(max, d);
            }
        }
        assertThat(max).as("%s: max |Δ logprob|", what).isLessThanOrEqualTo(tol);
        worst = Math.max(worst, max);
        return max;
    }

    static Rollout both(CausalLm model, List<int[]> prompts, List<int[]> forced, GenerationConfig cfg, long seed,
            double tol, String what) {
        Rollout got = Generator.generate(model, prompts, forced, cfg, seed);
        Rollout want = LegacyGenerator.generate(model, prompts, forced, cfg, seed);
        assertSameRollout(got, want, tol, what);
        return got;
    }

    @Test
    void everySamplerModeAndCacheSettingMatchesTheLegacyGenerator() {
        List<GenerationConfig> samplers = List.of(
                GenerationConfig.builder(12, EOS).setTemperature(0).build(),
                GenerationConfig.builder(12, EOS).setTemperature(1).build(),
                GenerationConfig.builder(12, EOS).setTemperature(0.7).build(),
                GenerationConfig.builder(12, EOS).setTopK(5).build(),
                GenerationConfig.builder(12, EOS).setTopP(0.8).build(),
                GenerationConfig.builder(12, EOS).setTemperature(1.3).setTopK(4).setTopP(0.9).build());
        List<List<int[]>> forcedVariants = new ArrayList<>();
        forcedVariants.add(null);
        forcedVariants.add(List.of(new int[] {20, 21, 22}, new int[0], new int[] {25}, new int[] {26, 27}));
        forcedVariants.add(List.of(new int[] {12, EOS}, new int[] {EOS}, new int[0], new int[] {3, 4, 17, 5}));
        int n = 0;
        for (int i = 0; i < samplers.size(); i++) {
            for (EosMode mode : EosMode.values()) {
                for (boolean kv : new boolean[] {true, false}) {
                    GenerationConfig.Builder b = samplers.get(i).toBuilder().setEosMode(mode).setUseKvCache(kv)
                            .setPadTokenId(0);
                    if (i % 2 == 1) {
                        b.setMinNewTokens(3);
                    }
                    if (i % 3 == 2) {
                        b.setExtraEosTokenIds(List.of(17, 5, 6, 7)); // several EOS ids, one inside a forced prefix
                    }
                    List<int[]> forced = forcedVariants.get((i + mode.ordinal() + (kv ? 0 : 1)) % 3);
                    both(gpt2, prompts(), forced, b.build(), 100 + n, 1e-5,
                            "sampler " + i + " " + mode + " kv=" + kv + " forced=" + (forced != null));
                    n++;
                }
            }
        }
        assertThat(n).isEqualTo(24);
    }

    @Test
    void truncationStopsEarlyYetReturnsTheFullWidthRolloutOfAllSteps() {
        // half the vocabulary ends a sequence: every row holds an EOS long before step 24
        List<Integer> manyEos = new ArrayList<>();
        for (int id = 0; id < 15; id++) {
            manyEos.add(id);
        }
        GenerationConfig cfg = GenerationConfig.builder(24, EOS).setExtraEosTokenIds(manyEos).setPadTokenId(29)
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).setTemperature(1.5).build();
        for (long seed = 0; seed < 4; seed++) {
            Rollout r = both(gpt2, prompts(), null, cfg, seed, 1e-5, "many EOS, seed " + seed);
            assertThat(r.responseLength()).isEqualTo(24);
            int longest = 0;
            for (int b = 0; b < r.batchSize(); b++) {
                longest = Math.max(longest, r.length(b));
                assertThat(cfg.isEos(r.responseIds()[b][r.length(b) - 1])).isTrue();
            }
            // every row ended well before the last step, so the early stop skipped steps
            assertThat(longest).as("seed %d", seed).isLessThan(23);
        }
        // forced EOS everywhere: the loop ends after step 1, the rollout still has maxNewTokens columns of padding
        List<int[]> forced = List.of(new int[] {EOS}, new int[] {3, EOS}, new int[] {EOS}, new int[] {4, EOS, 5});
        GenerationConfig one = GenerationConfig.builder(10, EOS).setPadTokenId(0)
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
        for (boolean kv : new boolean[] {true, false}) {
            Rollout r = both(gpt2, prompts(), forced, one.withKvCache(kv), 3, 1e-5, "forced EOS kv=" + kv);
            assertThat(r.responseIds()[3]).containsExactly(4, EOS, 0, 0, 0, 0, 0, 0, 0, 0);
            assertThat(r.responseMask()[3]).containsExactly(1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
            assertThat(r.forcedMask()[3]).containsExactly(1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
            assertThat(r.logprobs()[3][2]).isZero();
        }
    }

    @Test
    void edgeShapesMatch() {
        GenerationConfig cfg = GenerationConfig.builder(1, EOS).setPadTokenId(0).build();
        both(gpt2, List.of(new int[] {4}), null, cfg, 1, 1e-5, "B=1, one token");
        both(gpt2, prompts(), List.of(new int[] {9}, new int[] {8}, new int[0], new int[0]), cfg, 1, 1e-5,
                "one token, forced");
        // the prompt plus maxNewTokens fill the context exactly (the cache's capacity)
        GenerationConfig full = GenerationConfig.builder(59, EOS).setPadTokenId(0)
                .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
        both(gpt2, prompts(), null, full, 2, 1e-5, "context filled");
    }

    @Test
    void groupedQueryAndSlidingWindowLlamasMatch() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                Llama gqa = Llama.random(LlamaConfig.of(LlamaFamily.LLAMA, 97, 64, 32, 2, 4, 2, 48, 1, 2), m, 7);
                CausalLm window = CausalLm.load(TestSupport.resource("llama-parity/mistral-window"), m)) {
            for (EosMode mode : EosMode.values()) {
                GenerationConfig cfg = GenerationConfig.builder(10, 2).setEosMode(mode).setPadTokenId(0)
                        .setTopK(20).build();
                both(gqa, prompts(), null, cfg, 5, 1e-5, "llama GQA " + mode);
                // 5-token prompt + 10 new: the window of 4 binds at every step
                GenerationConfig w = cfg.toBuilder().setEosTokenId(window.config().eosTokenId()).build();
                both(window, prompts(), List.of(new int[] {6}, new int[0], new int[0], new int[0]), w, 6, 1e-5,
                        "mistral window " + mode);
            }
        }
    }

    @Test
    void loraAndFp16ViewsPassTheCacheThrough() {
        try (NDManager m = NDManager.newBaseManager();
                CausalLm base = Llama.random(LlamaConfig.of(LlamaFamily.QWEN2, 97, 32, 32, 2, 4, 2, 48, 1, 2), m, 3);
                LoraModel lora = LoraModel.create(base,
                        new LoraConfig(4, 8, 0, List.of(LoraConfig.ALL_LINEAR), false), 1, false)) {
            SplittableRandom rng = new SplittableRandom(6);
            for (Map.Entry<String, NDArray> e : lora.weights().asMap().entrySet()) {
                if (e.getKey().endsWith(LoraAdapter.B_SUFFIX)) {
                    NDArray r = Weights.normal(e.getValue().getManager(), e.getValue().getShape(), 0.1, rng);
                    e.getValue().set(r.toFloatArray());
                    r.close();
                }
            }
            GenerationConfig cfg = GenerationConfig.builder(8, 2).setPadTokenId(0)
                    .setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
            both(lora, prompts(), null, cfg, 4, 1e-5, "LoRA");
            both(lora.withHook(MixedPrecision.FP16), prompts(), null, cfg, 4, 1e-3, "LoRA fp16");
        }
        GenerationConfig cfg = GenerationConfig.builder(8, EOS).setPadTokenId(0).build();
        both(gpt2.withHook(MixedPrecision.FP16), prompts(), null, cfg, 4, 1e-3, "GPT-2 fp16");
    }
}
