package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;

/** The reward-model judge on a tiny random reward model: verdicts follow the scores by construction. */
class RewardModelJudgeTest {

    static final Gpt2Config TINY = new Gpt2Config(Gpt2Config.GPT2_VOCAB, 128, 16, 1, 2, 64, 1e-5, "gelu_new",
            Gpt2Config.GPT2_EOS, Gpt2Config.GPT2_EOS, Map.of());

    static Tokenizer tok;
    static NDManager manager;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
        tok.close();
    }

    static List<Matchup> matchups() {
        int[] q1 = tok.encode("POST: my cat ate my homework\n\nTL;DR:");
        int[] q2 = tok.encode("POST: I moved to a new city and know nobody there, any advice?\n\nTL;DR:");
        return List.of(new Matchup("1", "p", q1, "cat ate homework", "the dog did it"),
                new Matchup("2", "p", q2, " lonely in a new city", "need friends, moved recently and it is hard"),
                new Matchup("3", "p", q1, "homework", "cat"),
                new Matchup("4", "p", q2, "new city", "new city "));
    }

    @Test
    void verdictsFollowIndependentlyComputedScoresAndSwapWithTheOrder() {
        try (ScalarModel rm = ScalarModel.random(TINY, manager, 5)) {
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).optMicroBatchSize(3).build();
            List<Matchup> ms = matchups();
            List<Judgement> js = judge.judgeAll(ms);
            for (int i = 0; i < ms.size(); i++) {
                Matchup m = ms.get(i);
                double a = scoreAlone(rm, m.queryIds(), judge.encodeSummary(m.a()));
                double b = scoreAlone(rm, m.queryIds(), judge.encodeSummary(m.b()));
                Verdict expected = m.a().strip().equals(m.b().strip()) ? Verdict.TIE : a > b ? Verdict.A : Verdict.B;
                assertThat(js.get(i).verdict()).as("matchup %s (A=%s, B=%s)", m.id(), a, b).isEqualTo(expected);
                assertThat(judge.judge(m.swapped()).verdict()).isEqualTo(expected.swapped());
            }
            assertThat(js.get(3).verdict()).isEqualTo(Verdict.TIE); // same text up to whitespace
            assertThat(js).extracting(Judgement::bothOrdersAsked).containsOnly(false);
            // micro-batching does not change the verdicts
            RewardModelJudge one = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).optMicroBatchSize(1).build();
            assertThat(one.judgeAll(ms)).extracting(Judgement::verdict)
                    .containsExactlyElementsOf(js.stream().map(Judgement::verdict).toList());
            assertThat(judge.encodeSummary(" a cat ")).containsExactly(257, 3797, Gpt2Config.GPT2_EOS);
        }
    }

    @Test
    void aHeadWithoutWeightsScoresEverythingEquallySoEveryMatchupTies() {
        try (ScalarModel rm = ScalarModel.random(TINY, manager, 6)) {
            rm.weights().get(ScalarModel.HEAD_WEIGHT).set(new float[TINY.nEmbd()]);
            rm.setBias(0.25f);
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).build();
            assertThat(judge.judgeAll(matchups())).extracting(Judgement::verdict).containsOnly(Verdict.TIE);
            List<int[]> q = new ArrayList<>();
            List<int[]> r = new ArrayList<>();
            for (Matchup m : matchups()) {
                q.add(m.queryIds());
                r.add(judge.encodeSummary(m.a()));
            }
            for (double s : judge.score(q, r)) {
                assertThat(s).isCloseTo(0.25, within(1e-6));
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        try (ScalarModel rm = ScalarModel.random(TINY, manager, 7)) {
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).build();
            assertThatThrownBy(() -> judge.judge(new Matchup("x9", "p", null, "a", "b"))).hasMessageContaining("x9");
            assertThatThrownBy(() -> RewardModelJudge.builder().setModel(rm).setTokenizer(tok).optMicroBatchSize(0)
                    .build()).hasMessageContaining("got 0");
        }
    }

    static double scoreAlone(ScalarModel rm, int[] q, int[] r) {
        ResponseBatch b = ResponseBatch.of(List.of(q), List.of(r), Gpt2Config.GPT2_EOS);
        try (NDManager m = rm.manager().newSubManager()) {
            ResponseBatch.Tensors t = b.toTensors(m);
            return rm.score(t.ids(), t.mask()).getFloat(0);
        }
    }
}
