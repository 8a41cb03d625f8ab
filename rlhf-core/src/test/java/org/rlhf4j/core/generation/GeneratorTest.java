package org.rlhf4j.core.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tensor.TensorOps;

class GeneratorTest {

    static NDManager manager;
    static Gpt2 model;
    static final int EOS = 30;
    static final Gpt2Config CFG = Gpt2Config.of(31, 64, 32, 2, 4);

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        model = Gpt2.random(CFG, manager, 3);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    static List<int[]> prompts() {
        return List.of(new int[] {1, 2, 3, 4, 5}, new int[] {7, 8}, new int[] {9, 10, 11});
    }

    static GenerationConfig sampling(int n) {
        return GenerationConfig.builder(n, EOS).setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).setPadTokenId(0).build();
    }

    @Test
    void sameSeedSameResultDifferentSeedDifferentResult() {
        Rollout a = Generator.generate(model, prompts(), null, sampling(12), 42);
        Rollout b = Generator.generate(model, prompts(), null, sampling(12), 42);
        Rollout c = Generator.generate(model, prompts(), null, sampling(12), 43);
        assertThat(a.responseIds()).isDeepEqualTo(b.responseIds());
        assertThat(a.logprobs()).isDeepEqualTo(b.logprobs());
        assertThat(a.responseIds()).isNotEqualTo(c.responseIds());
    }

    @Test
    void kvCacheAndRecomputationGenerateTheSameTokens() {
        Rollout cached = Generator.generate(model, prompts(), null, sampling(10), 5);
        Rollout full = Generator.generate(model, prompts(), null, sampling(10).withKvCache(false), 5);
        assertThat(cached.responseIds()).isDeepEqualTo(full.responseIds());
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < cached.responseLength(); t++) {
                assertThat(cached.logprobs()[b][t]).isCloseTo(full.logprobs()[b][t], within(1e-4f));
            }
        }
    }

    @Test
    void recordedLogprobsEqualATeacherForcedForwardAtTemperature() {
        GenerationConfig cfg = sampling(8).withTemperature(0.7);
        Rollout r = Generator.generate(model, prompts(), null, cfg, 9);
        try (NDManager m = manager.newSubManager()) {
            for (int b = 0; b < r.batchSize(); b++) {
                int[] p = r.prompt(b);
                int[] y = r.response(b);
                long[] seq = new long[p.length + y.length];
                for (int i = 0; i < p.length; i++) {
                    seq[i] = p[i];
                }
                for (int i = 0; i < y.length; i++) {
                    seq[p.length + i] = y[i];
                }
                NDArray ids = m.create(seq, new Shape(1, seq.length));
                NDArray logits = model.forward(ids, m.ones(ids.getShape())).div(0.7f);
                float[] lp = TensorOps.sequenceLogprobs(logits, ids).toFloatArray();
                for (int t = 0; t < y.length; t++) {
                    assertThat(r.logprobs()[b][t]).as("sample %d token %d", b, t)
                            .isCloseTo(lp[p.length - 1 + t], within(1e-4f));
                }
            }
        }
    }

    @Test
    void greedyEqualsTopK1AndIsArgmax() {
        GenerationConfig greedy = sampling(6).withTemperature(0);
        Rollout g = Generator.generate(model, prompts(), null, greedy, 1);
        Rollout k1 = Generator.generate(model, prompts(), null, sampling(6).withTopKTopP(1, 1.0), 2);
        Rollout tinyP = Generator.generate(model, prompts(), null, sampling(6).withTopKTopP(0, 1e-6), 3);
        assertThat(k1.responseIds()).isDeepEqualTo(g.responseIds());
        assertThat(tinyP.responseIds()).isDeepEqualTo(g.responseIds());
        // first greedy token is the argmax of the prompt's last logits
        try (NDManager m = manager.newSubManager()) {
            NDArray ids = m.create(new long[] {7, 8}, new Shape(1, 2));
            long argmax = model.forward(ids, m.ones(ids.getShape())).get(0).get(1).argMax().getLong();
            assertThat(g.responseIds()[1][0]).isEqualTo((int) argmax);
        }
    }

    @Test
    void topKSamplesOnlyFromTheKMostLikelyTokens() {
        List<int[]> many = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            many.add(new int[] {4, 5});
        }
        GenerationConfig cfg = GenerationConfig.builder(1, EOS).setTopK(3).setPadTokenId(0).build();
        Rollout r = Generator.generate(model, many, null, cfg, 77);
        try (NDManager m = manager.newSubManager()) {
            NDArray ids = m.create(new long[] {4, 5}, new Shape(1, 2));
            float[] logits = model.forward(ids, m.ones(ids.getShape())).get(0).get(1).toFloatArray();
            java.util.Set<Integer> top3 = new java.util.HashSet<>();
            Integer[] idx = new Integer[logits.length];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = i;
            }
            java.util.Arrays.sort(idx, (a, b) -> Float.compare(logits[b], logits[a]));
            top3.addAll(List.of(idx[0], idx[1], idx[2]));
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int b = 0; b < 64; b++) {
                seen.add(r.responseIds()[b][0]);
            }
            assertThat(top3).containsAll(seen);
            assertThat(seen.size()).isGreaterThan(1);
        }
    }

    @Test
    void samplingFollowsTheModelDistribution() {
        // 2000 one-token samples from one prompt: empirical frequencies match softmax(logits) (chi-square-like bound)
        int n = 2000;
        List<int[]> many = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            many.add(new int[] {1});
        }
        GenerationConfig cfg = GenerationConfig.builder(1, EOS).setPadTokenId(0).build();
        Rollout r = Generator.generate(model, many, null, cfg, 123);
        double[] counts = new double[CFG.vocabSize()];
        for (int b = 0; b < n; b++) {
            counts[r.responseIds()[b][0]]++;
        }
        try (NDManager m = manager.newSubManager()) {
            NDArray ids = m.create(new long[] {1}, new Shape(1, 1));
            float[] p = model.forward(ids, m.ones(ids.getShape())).get(0).get(0).softmax(-1).toFloatArray();
            for (int v = 0; v < p.length; v++) {
                double sd = Math.sqrt(n * p[v] * (1 - p[v]));
                assertThat(Math.abs(counts[v] - n * p[v])).as("token %d", v).isLessThan(5 * sd + 2);
            }
        }
    }

    @Test
    void forcedPrefixIsTeacherForcedThenSamplingContinues() {
        List<int[]> forced = List.of(new int[] {20, 21, 22}, new int[0], new int[] {25});
        Rollout r = Generator.generate(model, prompts(), forced, sampling(6), 11);
        assertThat(r.responseIds()[0]).startsWith(20, 21, 22);
        assertThat(r.forcedMask()[0]).startsWith(1, 1, 1, 0);
        assertThat(r.forcedMask()[1]).containsOnly(0);
        assertThat(r.responseIds()[2][0]).isEqualTo(25);
        assertThat(r.forcedMask()[2]).startsWith(1, 0);
        assertThat(r.responseLength()).isEqualTo(6);
        // the continuation after a forced prefix equals generation from prompt+prefix with the same stream position
        assertThatThrownBy(() -> Generator.generate(model, prompts(), List.of(new int[7], new int[0], new int[0]), sampling(6), 1))
                .hasMessageContaining("forced prefix of sample 0 has 7 tokens");
    }

    @Test
    void fixedLengthTruncatesAfterFirstEos() {
        // force EOS in the middle of sample 0's response: everything after it becomes padding
        List<int[]> forced = List.of(new int[] {12, EOS, 13}, new int[0], new int[0]);
        Rollout r = Generator.generate(model, prompts(), forced, sampling(6), 4);
        assertThat(r.responseIds()[0]).containsExactly(12, EOS, 0, 0, 0, 0);
        assertThat(r.responseMask()[0]).containsExactly(1, 1, 0, 0, 0, 0);
        assertThat(r.logprobs()[0][2]).isZero();
        assertThat(r.hasEos(0, EOS)).isTrue();
        assertThat(r.response(0)).containsExactly(12, EOS);
        int[] truncIds = {5, 6, EOS, 7, EOS};
        int[] mask = {1, 1, 1, 1, 1};
        float[] lp = {-1, -2, -3, -4, -5};
        int[] forcedMask = new int[5];
        Generator.truncateAfterEos(truncIds, mask, lp, forcedMask, EOS, 0);
        assertThat(truncIds).containsExactly(5, 6, EOS, 0, 0);
        assertThat(mask).containsExactly(1, 1, 1, 0, 0);
        assertThat(lp).containsExactly(-1, -2, -3, 0, 0);
    }

    @Test
    void stopModeEndsSequencesAtEosAndMinNewTokensSuppressesIt() {
        // a model biased towards EOS: all prompts end immediately unless min tokens are required
        List<int[]> forced = List.of(new int[] {EOS}, new int[] {3, EOS}, new int[] {4, 5, 6});
        GenerationConfig stop = GenerationConfig.builder(8, EOS).setPadTokenId(0).build();
        Rollout r = Generator.generate(model, prompts(), forced, stop, 8);
        assertThat(r.responseMask()[0][0]).isEqualTo(1);
        assertThat(r.length(0)).isEqualTo(1);
        assertThat(r.length(1)).isEqualTo(2);
        assertThat(r.hasEos(1, EOS)).isTrue();
        // min new tokens: EOS never sampled in the first 8 steps, even at high temperature
        GenerationConfig min =
                GenerationConfig.builder(8, EOS).setMinNewTokens(8).setTemperature(3.0).setPadTokenId(0).build();
        List<int[]> many = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            many.add(new int[] {i % 29 + 1});
        }
        Rollout r2 = Generator.generate(model, many, null, min, 5);
        for (int b = 0; b < 32; b++) {
            assertThat(r2.responseIds()[b]).doesNotContain(EOS);
            assertThat(r2.length(b)).isEqualTo(8);
        }
    }

    @Test
    void rejectsBadInputs() {
        assertThatThrownBy(() -> Generator.generate(model, List.of(), null, sampling(2), 0)).hasMessageContaining("no prompts");
        assertThatThrownBy(() -> Generator.generate(model, List.of(new int[0]), null, sampling(2), 0))
                .hasMessageContaining("prompt 0 is empty");
        assertThatThrownBy(() -> Generator.generate(model, List.of(new int[60]), null, sampling(10), 0))
                .hasMessageContaining("exceeds n_positions=64");
        assertThatThrownBy(() -> GenerationConfig.builder(0, 1).setPadTokenId(0).build())
                .hasMessageContaining("maxNewTokens");
        assertThatThrownBy(() -> GenerationConfig.builder(5, 1).setTopP(1.5).setPadTokenId(0).build())
                .hasMessageContaining("topP");
        assertThatThrownBy(() -> GenerationConfig.builder(5, 1).setTemperature(-1).setPadTokenId(0).build())
                .hasMessageContaining("temperature");
    }
}
