package org.rlhf4j.core.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.HfGenerationConfig;

/**
 * Several EOS ids (Llama 3 instruct: {@code eos_token_id} is a list and a turn ends with {@code <|eot_id|>}): any of
 * them ends a sequence, and a single id behaves exactly as before.
 */
class MultiEosGenerationTest {

    static NDManager manager;
    static Gpt2 model;
    static final int EOS = 30;
    static final int EOT = 17;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        model = Gpt2.random(Gpt2Config.of(31, 64, 32, 2, 4), manager, 3);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    static List<int[]> prompts() {
        return List.of(new int[] {1, 2, 3, 4, 5}, new int[] {7, 8}, new int[] {9, 10, 11});
    }

    @Test
    void stopModeEndsAtAnyEosId() {
        List<int[]> forced = List.of(new int[] {12, EOT, 13}, new int[] {3, EOS}, new int[] {4, 5, 6});
        GenerationConfig one = GenerationConfig.builder(8, EOS).setPadTokenId(0).build();
        GenerationConfig two = one.toBuilder().setExtraEosTokenIds(List.of(EOT)).build();
        assertThat(two.eosTokenIds()).containsExactly(EOS, EOT);
        assertThat(two.isEos(EOT)).isTrue();
        assertThat(one.isEos(EOT)).isFalse();
        Rollout r1 = Generator.generate(model, prompts(), forced, one, 8);
        Rollout r2 = Generator.generate(model, prompts(), forced, two, 8);
        // with one id, <|eot_id|> is an ordinary token: sample 0 goes on
        assertThat(r1.length(0)).isGreaterThan(2);
        // with both, sample 0 ends at <|eot_id|> (kept, mask 1), sample 1 still at EOS
        assertThat(r2.length(0)).isEqualTo(2);
        assertThat(r2.response(0)).containsExactly(12, EOT);
        assertThat(r2.length(1)).isEqualTo(2);
        assertThat(r2.responseMask()[0]).startsWith(1, 1);
    }

    @Test
    void fixedLengthTruncatesAfterTheFirstOfAnyEosId() {
        List<int[]> forced = List.of(new int[] {12, EOT, 13}, new int[] {EOS, EOT}, new int[0]);
        GenerationConfig cfg = GenerationConfig.builder(6, EOS).setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE)
                .setPadTokenId(0).setEosTokenIds(List.of(EOS, EOT)).build();
        Rollout r = Generator.generate(model, prompts(), forced, cfg, 4);
        assertThat(r.responseIds()[0]).containsExactly(12, EOT, 0, 0, 0, 0);
        assertThat(r.responseMask()[0]).containsExactly(1, 1, 0, 0, 0, 0);
        assertThat(r.responseIds()[1]).containsExactly(EOS, 0, 0, 0, 0, 0);
        int[] ids = {5, EOT, 6, EOS};
        int[] mask = {1, 1, 1, 1};
        float[] lp = {-1, -2, -3, -4};
        Generator.truncateAfterEos(ids, mask, lp, new int[4], cfg::isEos, 0);
        assertThat(ids).containsExactly(5, EOT, 0, 0);
        assertThat(mask).containsExactly(1, 1, 0, 0);
    }

    @Test
    void minNewTokensSuppressesEveryEosId() {
        GenerationConfig cfg = GenerationConfig.builder(6, EOS).setMinNewTokens(6).setTemperature(3.0)
                .setPadTokenId(0).setEosTokenIds(List.of(EOS, EOT, 5)).build();
        List<int[]> many = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            many.add(new int[] {i % 29 + 1});
        }
        Rollout r = Generator.generate(model, many, null, cfg, 5);
        for (int b = 0; b < 32; b++) {
            assertThat(r.responseIds()[b]).doesNotContain(EOS, EOT, 5);
            assertThat(r.length(b)).isEqualTo(6);
        }
        // without the extra ids, the same hot sampling does produce them (the suppression is what removed them)
        Rollout plain = Generator.generate(model, many, null, cfg.toBuilder().setExtraEosTokenIds(List.of()).build(), 5);
        boolean seen = false;
        for (int[] ids : plain.responseIds()) {
            for (int t : ids) {
                seen |= t == EOT || t == 5;
            }
        }
        assertThat(seen).isTrue();
    }

    @Test
    void anExtraIdThatNeverOccursChangesNothing() {
        GenerationConfig one = GenerationConfig.builder(10, EOS).setPadTokenId(0).build();
        Rollout a = Generator.generate(model, prompts(), null, one, 42);
        int unused = -1;
        for (int t = 0; t < 31 && unused < 0; t++) {
            boolean occurs = false;
            for (int[] ids : a.responseIds()) {
                for (int x : ids) {
                    occurs |= x == t;
                }
            }
            if (!occurs && t != EOS) {
                unused = t;
            }
        }
        assertThat(unused).isNotNegative();
        Rollout b = Generator.generate(model, prompts(), null,
                one.toBuilder().setExtraEosTokenIds(List.of(unused)).build(), 42);
        assertThat(b.responseIds()).isDeepEqualTo(a.responseIds());
        assertThat(b.responseMask()).isDeepEqualTo(a.responseMask());
        assertThat(b.logprobs()).isDeepEqualTo(a.logprobs());
    }

    @Test
    void settingsFromGenerationConfigJson() {
        HfGenerationConfig llama = new HfGenerationConfig(28, List.of(30, 17), null, true, 0.6, 0.9, null, 12, null,
                null, Map.of());
        GenerationConfig g = GenerationConfig.builder(llama, 64, 0).build();
        assertThat(g.eosTokenId()).isEqualTo(30);
        assertThat(g.extraEosTokenIds()).containsExactly(17);
        assertThat(g.padTokenId()).isEqualTo(30); // no pad_token_id: the first EOS id
        assertThat(g.temperature()).isEqualTo(0.6);
        assertThat(g.topP()).isEqualTo(0.9);
        assertThat(g.topK()).isEqualTo(50); // transformers' default when sampling
        assertThat(g.maxNewTokens()).isEqualTo(12);
        // do_sample absent: greedy, as transformers; caller's defaults where the file is silent
        HfGenerationConfig gpt2 = new HfGenerationConfig(null, List.of(), 0, null, 0.7, null, null, null, 20, null,
                Map.of());
        GenerationConfig greedy = GenerationConfig.builder(gpt2, 16, 30).build();
        assertThat(greedy.greedy()).isTrue();
        assertThat(greedy.eosTokenIds()).containsExactly(30);
        assertThat(greedy.padTokenId()).isZero();
        assertThat(greedy.maxNewTokens()).isEqualTo(16);
    }
}
