package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.eval.EvaluationChecks.JudgeAccuracy;
import org.rlhf4j.algorithms.eval.EvaluationChecks.PolicyCheck;
import org.rlhf4j.algorithms.eval.EvaluationChecks.Stats;

/** Flag rules at and around their thresholds, judge-at-chance detection, warnings and ranking, on constructed inputs. */
class EvaluationChecksTest {

    private static final JudgeAccuracy GOOD_JUDGE = new JudgeAccuracy("reward model", 70, 100); // CI [0.604, 0.781]
    private static final JudgeAccuracy CHANCE_JUDGE = new JudgeAccuracy("reward model", 50, 97); // CI [0.417, 0.612]

    // ---- degenerate responses ----

    @Test
    void dominantTokenShareComparesTokensWithoutSurroundingWhitespace() {
        assertThat(EvaluationChecks.dominantTokenShare(List.of())).isEqualTo(1.0);
        assertThat(EvaluationChecks.dominantTokenShare(List.of("I"))).isEqualTo(1.0);
        assertThat(EvaluationChecks.dominantTokenShare(List.of("I", " I", " I", " I\n"))).isEqualTo(1.0);
        assertThat(EvaluationChecks.dominantTokenShare(List.of(" The", " cat", " sat", " the"))).isEqualTo(0.25);
    }

    @Test
    void aResponseIsDegenerateWhenOneTokenIsNinetyPercentOrMore() {
        // "I I I I I I I I I." : 9 of 10 tokens are "I" -> exactly the threshold
        List<String> nine = new ArrayList<>(Collections.nCopies(9, " I"));
        nine.add(".");
        assertThat(EvaluationChecks.dominantTokenShare(nine)).isEqualTo(0.9);
        assertThat(EvaluationChecks.degenerate(EvaluationChecks.dominantTokenShare(nine))).isTrue();
        // 8 of 9: 0.889, below
        List<String> eight = new ArrayList<>(Collections.nCopies(8, " I"));
        eight.add(".");
        assertThat(EvaluationChecks.degenerate(EvaluationChecks.dominantTokenShare(eight))).isFalse();
        assertThat(EvaluationChecks.degenerate(EvaluationChecks.dominantTokenShare(List.of()))).isTrue();
    }

    // ---- policy flags ----

    @Test
    void degenerateAtHalfOrMore() {
        assertThat(EvaluationChecks.flags(new Stats(32, 16, 0, 20, 20))).containsExactly(PolicyFlag.DEGENERATE);
        assertThat(EvaluationChecks.flags(new Stats(32, 15, 0, 20, 20))).isEmpty();
        assertThat(EvaluationChecks.flags(new Stats(3, 2, 0, 20, 20))).containsExactly(PolicyFlag.DEGENERATE);
        assertThat(EvaluationChecks.flags(new Stats(3, 1, 0, 20, 20))).isEmpty();
    }

    @Test
    void lengthCollapseBelowAQuarterOfTheReferences() {
        // references 20 tokens: threshold 5.0, strict
        assertThat(EvaluationChecks.flags(new Stats(32, 0, 0, 5.0, 20))).isEmpty();
        assertThat(EvaluationChecks.flags(new Stats(32, 0, 0, 4.99, 20))).containsExactly(PolicyFlag.LENGTH_COLLAPSE);
        assertThat(EvaluationChecks.flags(new Stats(32, 0, 0, 1.0, Double.NaN))).isEmpty(); // unknown: not checked
        assertThat(EvaluationChecks.flags(new Stats(32, 0, 0, 0.0, 0.0))).isEmpty();
    }

    @Test
    void noEosWhenMoreThanHalfLackIt() {
        assertThat(EvaluationChecks.flags(new Stats(32, 0, 16, 20, 20))).isEmpty();
        assertThat(EvaluationChecks.flags(new Stats(32, 0, 17, 20, 20))).containsExactly(PolicyFlag.NO_EOS);
        assertThat(EvaluationChecks.flags(new Stats(1, 0, 1, 20, 20))).containsExactly(PolicyFlag.NO_EOS);
    }

    @Test
    void flagsComeInDeclarationOrderAndWriteTheirKeys() {
        assertThat(EvaluationChecks.flags(new Stats(4, 4, 4, 1, 20)))
                .containsExactly(PolicyFlag.DEGENERATE, PolicyFlag.LENGTH_COLLAPSE, PolicyFlag.NO_EOS);
        assertThat(PolicyFlag.LENGTH_COLLAPSE.key()).isEqualTo("length_collapse");
        assertThat(org.rlhf4j.core.io.Json.compact(List.of(PolicyFlag.NO_EOS))).isEqualTo("[\"no_eos\"]");
    }

    @Test
    void statsCountAnEvaluationsSummaries() {
        // 4 summaries: an empty one (EOS only), "I" repeated without EOS, a normal one, a normal one without EOS
        PolicyEvaluation e = evaluation("ppo", List.of(
                new PolicyEvaluation.Summary("a", "", 1, true, 1.0),
                new PolicyEvaluation.Summary("b", "I I I", 53, false, 1.0),
                new PolicyEvaluation.Summary("c", "my cat is ill", 6, true, 0.2),
                new PolicyEvaluation.Summary("d", "my dog is ill too", 53, false, 0.2)), 28.25, 24.0, null);
        Stats s = EvaluationChecks.stats(e);
        assertThat(s).isEqualTo(new Stats(4, 2, 2, 28.25, 24.0));
        assertThat(EvaluationChecks.check(e).flags()).containsExactly(PolicyFlag.DEGENERATE); // 2 of 4; no_eos 2 of 4 is not most
    }

    @Test
    void statsRejectImpossibleCounts() {
        assertThatThrownBy(() -> new Stats(0, 0, 0, 1, 1)).hasMessageContaining("0, 0, 0");
        assertThatThrownBy(() -> new Stats(2, 3, 0, 1, 1)).hasMessageContaining("2, 3, 0");
        assertThatThrownBy(() -> new JudgeAccuracy("rm", 5, 4)).hasMessageContaining("correct=5, pairs=4");
    }

    // ---- the judge ----

    @Test
    void judgeAtChanceWhenItsIntervalContainsOneHalf() {
        assertThat(CHANCE_JUDGE.accuracy()).isEqualTo(50.0 / 97);
        assertThat(CHANCE_JUDGE.atChance()).isTrue();
        assertThat(CHANCE_JUDGE.informative()).isFalse();
        // 57/100: [0.472, 0.663] contains 0.5; 60/100: [0.502, 0.691] does not
        assertThat(new JudgeAccuracy("rm", 57, 100).atChance()).isTrue();
        assertThat(new JudgeAccuracy("rm", 60, 100).atChance()).isFalse();
        assertThat(new JudgeAccuracy("rm", 60, 100).informative()).isTrue();
        // 30/100: [0.219, 0.396], below chance: neither at chance nor informative
        JudgeAccuracy below = new JudgeAccuracy("rm", 30, 100);
        assertThat(below.atChance()).isFalse();
        assertThat(below.informative()).isFalse();
        assertThat(new JudgeAccuracy("rm", 0, 0).atChance()).isTrue();
    }

    // ---- warnings ----

    @Test
    void warnsAboutAChanceJudgeWithItsNumbers() {
        List<String> w = EvaluationChecks.warnings(CHANCE_JUDGE, List.of(check("sft", new Stats(32, 0, 0, 20, 20), 10)));
        assertThat(w).containsExactly("The reward model's held-out accuracy is 0.515 (95% CI [0.417, 0.612], 50 of 97 "
                + "pairs): the interval includes 0.5, so it is at chance and the scores and win rates it gives carry no "
                + "information about summary quality.");
    }

    @Test
    void warnsAboutABelowChanceOrUnknownJudge() {
        List<PolicyCheck> one = List.of(check("sft", new Stats(32, 0, 0, 20, 20), 10));
        assertThat(EvaluationChecks.warnings(new JudgeAccuracy("reward model", 30, 100), one)).singleElement()
                .asString().contains("0.300").contains("[0.219, 0.396]").contains("below chance");
        assertThat(EvaluationChecks.warnings(null, one)).singleElement().asString().contains("unknown");
        assertThat(EvaluationChecks.warnings(new JudgeAccuracy("reward model", 0, 0), one)).singleElement().asString()
                .contains("not evaluated");
    }

    @Test
    void noWarningsForAGoodJudgeAndUnflaggedPolicies() {
        assertThat(EvaluationChecks.warnings(GOOD_JUDGE, List.of(check("sft", new Stats(32, 0, 0, 20, 20), 10))))
                .isEmpty();
    }

    @Test
    void oneSentencePerFlagNamingThePolicyAndTheNumbers() {
        PolicyCheck ppo = check("ppo", new Stats(32, 32, 0, 1.0, 25.0), 17);
        PolicyCheck sft = check("sft", new Stats(32, 0, 30, 49.8, 25.0), 8);
        assertThat(ppo.flags()).containsExactly(PolicyFlag.DEGENERATE, PolicyFlag.LENGTH_COLLAPSE);
        List<String> w = EvaluationChecks.warnings(GOOD_JUDGE, List.of(sft, ppo));
        assertThat(w).containsExactly(
                "sft is flagged no_eos: 30 of 32 responses (94%) end without EOS within the token budget (flagged above 50%).",
                "ppo is flagged degenerate: 32 of 32 responses (100%) are empty or one repeated token (flagged at 50% or more).",
                "ppo is flagged length_collapse: its mean response length, 1.0 tokens, is 4% of the references' 25.0 "
                        + "(flagged below 25%).");
    }

    // ---- ranking ----

    @Test
    void aChanceJudgeRanksNobody() {
        EvaluationChecks.Ranking r = EvaluationChecks.rank(CHANCE_JUDGE, List.of(
                check("sft", new Stats(32, 0, 0, 20, 20), 10), check("dpo", new Stats(32, 0, 0, 20, 20), 20)));
        assertThat(r.order()).containsExactly("dpo", "sft");
        assertThat(r.best()).isNull();
        assertThat(r.note()).isEqualTo("No policy is ranked best: the reward model judging the win rates is at chance "
                + "(held-out accuracy 0.515, 95% CI [0.417, 0.612]).");
        assertThat(EvaluationChecks.rank(null, List.of(check("sft", new Stats(32, 0, 0, 20, 20), 10))).best()).isNull();
    }

    @Test
    void aFlaggedPolicyIsNeverBestAndOverlappingIntervalsAreSaid() {
        // win rates: ppo 24/32 (flagged), dpo 20/32 [45.3%, 77.1%], drpo 12/32 [22.9%, 54.7%], sft 10/32
        List<PolicyCheck> checks = List.of(check("sft", new Stats(32, 0, 0, 20, 20), 10),
                check("ppo", new Stats(32, 32, 0, 1, 20), 24), check("dpo", new Stats(32, 0, 0, 20, 20), 20),
                check("drpo", new Stats(32, 0, 0, 20, 20), 12));
        EvaluationChecks.Ranking r = EvaluationChecks.rank(GOOD_JUDGE, checks);
        assertThat(r.order()).containsExactly("ppo", "dpo", "drpo", "sft");
        assertThat(r.best()).isEqualTo("dpo");
        assertThat(r.note()).isEqualTo("dpo ranks best by win rate: 62.5% (95% CI [45.3%, 77.1%]). Ranked above it but "
                + "flagged: ppo (degenerate, length_collapse). Its interval overlaps drpo's (37.5%, 95% CI [22.9%, "
                + "54.7%]), so their order is not established.");
    }

    @Test
    void everyPolicyFlaggedRanksNobody() {
        EvaluationChecks.Ranking r = EvaluationChecks.rank(GOOD_JUDGE, List.of(check("ppo", new Stats(32, 32, 0, 1, 20), 24)));
        assertThat(r.best()).isNull();
        assertThat(r.note()).contains("every policy with a win rate is flagged");
    }

    @Test
    void assessCollectsChecksWarningsAndRanking() {
        PolicyEvaluation ppo = evaluation("ppo", List.of(new PolicyEvaluation.Summary("a", "", 1, true, 1.0),
                new PolicyEvaluation.Summary("b", "", 1, true, 1.0)), 1.0, 24.0,
                new WinRate.Result(2, 2, 0, 0, 0, 1.0, null));
        EvaluationChecks.Assessment a = EvaluationChecks.assess(CHANCE_JUDGE, List.of(ppo));
        assertThat(a.policies()).singleElement().extracting(PolicyCheck::flags).asList()
                .containsExactly(PolicyFlag.DEGENERATE, PolicyFlag.LENGTH_COLLAPSE);
        assertThat(a.warnings()).hasSize(3);
        assertThat(a.warnings().get(0)).contains("at chance");
        assertThat(a.ranking().best()).isNull();
    }

    private static PolicyCheck check(String name, Stats s, int winsOf32) {
        return new PolicyCheck(name, s, EvaluationChecks.flags(s),
                new WinRate.Result(32, winsOf32, 32 - winsOf32, 0, 0, winsOf32 / 32.0, null));
    }

    private static PolicyEvaluation evaluation(String name, List<PolicyEvaluation.Summary> summaries, double meanLength,
            double referenceLength, WinRate.Result win) {
        long eos = summaries.stream().filter(PolicyEvaluation.Summary::eos).count();
        return new PolicyEvaluation(name, summaries.size(), Map.of(), 0.0, meanLength, (double) eos / summaries.size(),
                referenceLength, null, null, null, null, null, null, "reference", win == null ? null : "rm", win, List.of(),
                summaries);
    }
}
