package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.task.TldrTask;

/** The per-policy evaluation on bundled prompts with tiny random models. */
class PolicyEvaluatorTest {

    static final Gpt2Config TINY = new Gpt2Config(Gpt2Config.GPT2_VOCAB, 192, 16, 1, 2, 64, 1e-5, "gelu_new",
            Gpt2Config.GPT2_EOS, Gpt2Config.GPT2_EOS, Map.of());

    static Tokenizer tok;
    static NDManager manager;
    static TldrTask task;
    static List<PromptRow> prompts;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
        manager = NDManager.newBaseManager();
        task = TestData.task(tok); // 128-token queries + 53 new tokens fit 192 positions
        prompts = BundledTldr.prompts("valid").subList(0, 6);
    }

    @AfterAll
    static void close() {
        manager.close();
        tok.close();
    }

    @Test
    void generatedSummariesAreMeasuredAndJudged() {
        try (Gpt2 policy = Gpt2.random(TINY, manager, 1);
                Gpt2 same = policy.copy(manager);
                ScalarModel rm = ScalarModel.random(TINY, manager, 2)) {
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).build();
            List<PromptRow> rows = new ArrayList<>(prompts);
            rows.add(new PromptRow("no-ref", "valid", prompts.get(0).prompt(), null));
            PolicyEvaluator.Builder b = PolicyEvaluator.builder().setPolicy(policy).setTask(task).setPrompts(rows)
                    .optName("sft").optRewardModel(rm).optReferencePolicy(same).optJudge(judge).optMaxNewTokens(5)
                    .optBatchSize(4).optSeed(3).optNumSamples(2);
            PolicyEvaluation e = b.build().evaluate();
            assertThat(e.name()).isEqualTo("sft");
            assertThat(e.prompts()).isEqualTo(6);
            assertThat(e.skipped()).containsEntry("no_reference", 1);
            assertThat(e.temperature()).isEqualTo(0.0);
            assertThat(e.summaries()).hasSize(6);
            assertThat(e.meanLength()).isEqualTo(
                    e.summaries().stream().mapToInt(PolicyEvaluation.Summary::tokens).average().orElseThrow());
            assertThat(e.meanLength()).isBetween(1.0, 5.0);
            // KL to an identical reference is exactly zero (same tokens, same log-probs)
            assertThat(e.kl()).isCloseTo(0.0, within(1e-5));
            assertThat(e.klTemperature()).isEqualTo(1.0);
            // a random model almost never emits EOS within 5 tokens: the penalised score is the no-EOS score
            assertThat(e.eosFraction()).isZero();
            assertThat(e.summaries()).allSatisfy(s -> {
                assertThat(s.eos()).isFalse();
                assertThat(s.dominantTokenShare()).isBetween(1.0 / s.tokens(), 1.0);
            });
            // the references' length, encoded as " " + text + EOS
            assertThat(e.referenceMeanLength()).isEqualTo(prompts.stream()
                    .mapToInt(p -> tok.encode(" " + p.reference().strip()).length + 1).average().orElseThrow());
            assertThat(e.rmScoreNoEosPenalized()).isEqualTo(-1.0);
            assertThat(e.rmScore()).isNotNull().isNotEqualTo(-1.0);
            assertThat(e.opponentRmScore()).isNotNull();
            assertThat(e.winRate().comparisons()).isEqualTo(6);
            assertThat(e.winRate().invalid()).isZero();
            assertThat(e.judge()).isEqualTo("rm");
            assertThat(e.opponent()).isEqualTo("reference");
            assertThat(e.samples()).hasSize(2);
            assertThat(e.samples().get(0).opponent()).isEqualTo(prompts.get(0).reference());
            assertThat(e.samples().get(0).detail()).startsWith("rm: A=");
            // seeded and deterministic
            PolicyEvaluation again = b.build().evaluate();
            assertThat(again.summaries()).isEqualTo(e.summaries());
            assertThat(again.winRate()).isEqualTo(e.winRate());
        }
    }

    @Test
    void klAgainstAnotherModelIsSampledAtItsOwnTemperature() {
        try (Gpt2 policy = Gpt2.random(TINY, manager, 1);
                Gpt2 other = Gpt2.random(TINY, manager, 9)) {
            PolicyEvaluator.Builder b = PolicyEvaluator.builder().setPolicy(policy).setTask(task).setPrompts(prompts)
                    .optReferencePolicy(other).optMaxNewTokens(4).optSeed(3);
            PolicyEvaluation greedy = b.build().evaluate();
            PolicyEvaluation sampled = b.optTemperature(1.0).build().evaluate();
            // the KL sample at τ = 1 is the same draw whether the summaries are greedy or sampled at τ = 1
            assertThat(greedy.kl()).isNotNull().isNotZero();
            assertThat(sampled.kl()).isCloseTo(klOfSampledSummaries(b), within(1e-9));
            assertThat(greedy.rmScore()).isNull();
            assertThat(greedy.winRate()).isNull();
        }
    }

    private static double klOfSampledSummaries(PolicyEvaluator.Builder b) {
        return b.optTemperature(1.0).build().evaluate().kl();
    }

    @Test
    void givenSummariesEqualToTheReferencesScorePerfectRougeAndTie() {
        try (ScalarModel rm = ScalarModel.random(TINY, manager, 2)) {
            Map<String, String> given = new HashMap<>();
            for (PromptRow p : prompts) {
                given.put(p.id(), p.reference().strip());
            }
            given.remove(prompts.get(5).id());
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).build();
            PolicyEvaluation e = PolicyEvaluator.builder().setSummaries(given).setTask(task).setPrompts(prompts)
                    .optRewardModel(rm).optJudge(judge).build().evaluate();
            assertThat(e.prompts()).isEqualTo(5);
            assertThat(e.skipped()).containsEntry("no_summary", 1);
            assertThat(e.rouge()).isEqualTo(new Rouge.Scores(1, 1, 1));
            assertThat(e.winRate().ties()).isEqualTo(5);
            assertThat(e.winRate().winRate()).isEqualTo(0.5);
            assertThat(e.rmScore()).isCloseTo(e.opponentRmScore(), within(1e-6));
            assertThat(e.eosFraction()).isEqualTo(1.0);
            // the summaries are the references: same lengths, every one ending with EOS, none degenerate
            assertThat(e.meanLength()).isEqualTo(e.referenceMeanLength());
            assertThat(EvaluationChecks.check(e).flags()).isEmpty();
            assertThat(e.temperature()).isNull();
            assertThat(e.kl()).isNull();
            // against another "policy" whose summaries are shorter
            Map<String, String> other = new HashMap<>();
            for (PromptRow p : prompts) {
                other.put(p.id(), "short");
            }
            PolicyEvaluation vs = PolicyEvaluator.builder().setSummaries(given).setTask(task).setPrompts(prompts)
                    .optJudge(judge).optOpponent("short", other).build().evaluate();
            assertThat(vs.opponent()).isEqualTo("short");
            assertThat(vs.winRate().comparisons()).isEqualTo(5);
            assertThat(vs.winRate().ties()).isZero();
            assertThat(vs.samples().get(0).opponent()).isEqualTo("short");
        }
    }

    @Test
    void badSettingsAreRejectedWithTheValue() {
        assertThatThrownBy(() -> PolicyEvaluator.builder().setTask(task).setPrompts(prompts).build())
                .hasMessageContaining("exactly one");
        assertThatThrownBy(() -> PolicyEvaluator.builder().setSummaries(Map.of()).setTask(task).setPrompts(prompts)
                .optKlTemperature(0).build()).hasMessageContaining("got 0.0");
        assertThatThrownBy(() -> PolicyEvaluator.builder().setSummaries(Map.of()).setTask(task).setPrompts(prompts)
                .build().evaluate()).hasMessageContaining("no_summary=6");
    }
}
