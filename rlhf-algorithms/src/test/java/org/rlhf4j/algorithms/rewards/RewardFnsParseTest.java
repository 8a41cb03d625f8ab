package org.rlhf4j.algorithms.rewards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link RewardFns#parse}: names, weights, arguments and its errors. */
class RewardFnsParseTest {

    static List<Double> weights(CompositeReward c) {
        return c.terms().stream().map(CompositeReward.Term::weight).toList();
    }

    @Test
    void parsesNamesWeightsAndArguments() {
        CompositeReward c = RewardFns.parse("length=0.5, ends_with_eos", 0);
        assertThat(c.names()).containsExactly("length", "ends_with_eos");
        assertThat(weights(c)).containsExactly(0.5, 1.0);

        CompositeReward all = RewardFns.parse("length(5,words)=-1,no_repetition(2),exact_answer(solution)=2,format=1e-1",
                0);
        assertThat(all.names()).containsExactly("length", "no_repetition", "exact_answer", "format");
        assertThat(weights(all)).containsExactly(-1.0, 1.0, 2.0, 0.1);
        RewardInput in = RewardInput.ofText("p", "a b c\n#### 3", Map.of("solution", "3"));
        CompositeReward.Scores s = all.score(List.of(in));
        // length: 5 words ("a b c #### 3") → −0; no_repetition: all bigrams distinct → 0; exact: 1; format: 0
        assertThat(s.of("length")).containsExactly(0.0);
        assertThat(s.of("exact_answer")).containsExactly(1.0);
        assertThat(s.total()).containsExactly(2.0);
        // the default length is TRL's 20 characters
        assertThat(RewardFns.parse("length", 0).score(List.of(RewardInput.ofText("p", "hello", Map.of()))).total())
                .containsExactly(-15.0);
    }

    @Test
    void extraFunctionsJoinByName() {
        RewardFn rm = batch -> batch.stream().map(in -> 2.0).toList();
        CompositeReward c = RewardFns.parse("reward_model=0.5,length", 0, Map.of("reward_model", rm));
        assertThat(c.names()).containsExactly("reward_model", "length");
        assertThatThrownBy(() -> RewardFns.parse("lenght", 0, Map.of("reward_model", rm)))
                .hasMessage("unknown reward function 'lenght'; valid names: length, ends_with_eos, no_repetition, "
                        + "exact_answer, format, reward_model");
        assertThatThrownBy(() -> RewardFns.parse("length", 0, Map.of("length", rm)))
                .hasMessageContaining("'length' clashes with a built-in");
        assertThatThrownBy(() -> RewardFns.parse("reward_model(1)", 0, Map.of("reward_model", rm)))
                .hasMessageContaining("'reward_model' takes at most 0 arguments");
    }

    @Test
    void errorsNameTheBadPart() {
        assertThatThrownBy(() -> RewardFns.parse("foo", 0))
                .hasMessage("unknown reward function 'foo'; valid names: length, ends_with_eos, no_repetition, "
                        + "exact_answer, format");
        assertThatThrownBy(() -> RewardFns.parse("length=abc", 0)).hasMessageContaining("reward weight 'abc'");
        assertThatThrownBy(() -> RewardFns.parse("length=Infinity", 0)).hasMessageContaining("must be finite");
        assertThatThrownBy(() -> RewardFns.parse("", 0)).hasMessageContaining("empty item");
        assertThatThrownBy(() -> RewardFns.parse("length,,format", 0)).hasMessageContaining("empty item");
        assertThatThrownBy(() -> RewardFns.parse("length(5,feet)", 0)).hasMessageContaining("unknown length unit 'feet'");
        assertThatThrownBy(() -> RewardFns.parse("length(x)", 0)).hasMessageContaining("argument 'x'");
        assertThatThrownBy(() -> RewardFns.parse("length(1,chars,2)", 0)).hasMessageContaining("at most 2 arguments");
        assertThatThrownBy(() -> RewardFns.parse("ends_with_eos(1)", 0)).hasMessageContaining("at most 0 arguments");
        assertThatThrownBy(() -> RewardFns.parse("length(5", 0)).hasMessageContaining("unclosed '('");
        assertThatThrownBy(() -> RewardFns.parse("length)", 0)).hasMessageContaining("unbalanced ')'");
        assertThatThrownBy(() -> RewardFns.parse("length,length=2", 0)).hasMessageContaining("'length' twice");
        assertThatThrownBy(() -> RewardFns.parse("no_repetition(0)", 0)).hasMessageContaining("got 0");
    }
}
