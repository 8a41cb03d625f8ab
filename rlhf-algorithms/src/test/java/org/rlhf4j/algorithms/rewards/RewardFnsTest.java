package org.rlhf4j.algorithms.rewards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every built-in on hand-computed cases. */
class RewardFnsTest {

    static final int EOS = 0;

    static RewardInput text(String completion) {
        return RewardInput.ofText("prompt", completion, Map.of());
    }

    static RewardInput ids(int... completionIds) {
        return new RewardInput("p", "c", Map.of(), new int[] {7}, completionIds);
    }

    static RewardInput answer(String completion, Object answer) {
        Map<String, Object> f = new HashMap<>();
        f.put("answer", answer);
        return RewardInput.ofText("q", completion, f);
    }

    static List<Double> score(RewardFn fn, RewardInput... in) {
        return fn.score(Arrays.asList(in));
    }

    @Test
    void lengthDefaultsToTrlQuickStartMinusAbsoluteDistanceTo20Chars() {
        RewardFn fn = RewardFns.length();
        assertThat(fn.name()).isEqualTo("length");
        // "hello": 5 chars → −|5 − 20| = −15; "": −20; 20 chars: 0 (+0.0, not −0.0); 26 chars: −6
        assertThat(score(fn, text("hello"), text(""), text("abcdefghijklmnopqrst"), text("abcdefghijklmnopqrstuvwxyz")))
                .containsExactly(-15.0, -20.0, 0.0, -6.0);
        // code points, as Python's len: "héllo😀" is 6 code points (7 UTF-16 units) → −14
        assertThat(score(fn, text("héllo😀"))).containsExactly(-14.0);
    }

    @Test
    void lengthInWordsAndTokens() {
        // "a b  c d": 4 words → −|4 − 3| = −1; "  ": 0 words → −3
        assertThat(score(RewardFns.length(3, RewardFns.Unit.WORDS), text("a b  c d"), text("  ")))
                .containsExactly(-1.0, -3.0);
        // tokens count EOS: [1,2,3,EOS] = 4 → 0; [1,2] → −2
        assertThat(score(RewardFns.length(4, RewardFns.Unit.TOKENS), ids(1, 2, 3, EOS), ids(1, 2)))
                .containsExactly(0.0, -2.0);
        assertThatThrownBy(() -> RewardFns.length(-1, RewardFns.Unit.CHARS)).hasMessageContaining("-1");
    }

    @Test
    void endsWithEosLooksAtTheLastId() {
        RewardFn fn = RewardFns.endsWithEos(EOS);
        assertThat(fn.name()).isEqualTo("ends_with_eos");
        assertThat(score(fn, ids(3, 4, EOS), ids(3, 4), ids(), ids(EOS, 3))).containsExactly(1.0, 0.0, 0.0, 0.0);
    }

    @Test
    void noRepetitionIsMinusTheShareOfRepeatedNgrams() {
        RewardFn bigrams = RewardFns.noRepetition(2);
        assertThat(bigrams.name()).isEqualTo("no_repetition");
        // "the cat the cat": bigrams (the cat) (cat the) (the cat): 2 distinct of 3 → 2/3 − 1 = −1/3; case-blind
        assertThat(score(bigrams, text("the cat the cat"), text("The cat THE cat")).get(0)).isCloseTo(-1.0 / 3,
                within(1e-12));
        assertThat(score(bigrams, text("The cat THE cat")).get(0)).isCloseTo(-1.0 / 3, within(1e-12));
        // all distinct → 0; fewer words than n → 0; empty → 0
        assertThat(score(bigrams, text("a b c"), text("a"), text(""))).containsExactly(0.0, 0.0, 0.0);
        // default n = 3: "a a a a a" has 3 trigrams, 1 distinct → 1/3 − 1 = −2/3
        assertThat(score(RewardFns.noRepetition(RewardFns.DEFAULT_NGRAM), text("a a a a a")).get(0))
                .isCloseTo(-2.0 / 3, within(1e-12));
        assertThatThrownBy(() -> RewardFns.noRepetition(0)).hasMessageContaining("0");
    }

    @Test
    void extractAnswerRule() {
        assertThat(RewardFns.extractAnswer("x #### 1 #### 2")).isEqualTo(" 2");
        assertThat(RewardFns.extractAnswer("so \\boxed{1} then \\boxed{\\frac{1}{3}} done")).isEqualTo("\\frac{1}{3}");
        assertThat(RewardFns.extractAnswer("\\boxed{12")).isEqualTo("12");
        assertThat(RewardFns.extractAnswer("step 1\nstep 2\n  42 \n\n")).isEqualTo("  42 ");
        assertThat(RewardFns.extractAnswer("")).isEmpty();
        assertThat(RewardFns.normalise("  New \t York\n")).isEqualTo("new york");
    }

    @Test
    void exactAnswerComparesNormalisedFinalAnswers() {
        RewardFn fn = RewardFns.exactAnswer("answer");
        assertThat(fn.name()).isEqualTo("exact_answer");
        assertThat(score(fn,
                answer("48 / 2 = 24\n#### 72", "72"), // GSM8K marker
                answer("The answer is \\boxed{72}.", "72"), // boxed
                answer("work\n72\n\n", "72"), // last non-blank line
                answer("the answer is 72", "72"), // last line is the whole sentence: no match
                answer("#### new   YORK", "New York"), // whitespace and case normalised
                answer("72", "Natalia sold 48 clips...\n#### 72"), // the gold answer is extracted the same way
                answer("#### 73", "72"),
                answer("", "72"),
                answer("#### 72", 72))) // non-string fields compare by toString
                .containsExactly(1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0);
    }

    @Test
    void exactAnswerIsNotApplicableWithoutTheField() {
        RewardFn fn = RewardFns.exactAnswer("answer");
        assertThat(score(fn, text("#### 72"), answer("#### 72", null))).containsExactly(null, null);
        assertThat(score(RewardFns.exactAnswer("solution"), answer("#### 72", "72"))).containsExactly((Double) null);
    }

    @Test
    void formatDefaultIsTrlThinkFormat() {
        RewardFn fn = RewardFns.format();
        assertThat(fn.name()).isEqualTo("format");
        // TRL's think_format_reward docstring examples: [1.0, 0.0]
        assertThat(score(fn, text("<think>\nThis is my reasoning.\n</think>\nThis is my answer."),
                text("<think>\nThis is my reasoning.\nThis is my answer."))).containsExactly(1.0, 0.0);
        // a second <think> right after the first is rejected; text before <think> is rejected
        assertThat(score(fn, text("<think>a<think>b</think>c"), text("x<think>a</think>"))).containsExactly(0.0, 0.0);
    }

    @Test
    void formatMatchesTheWholeCompletion() {
        RewardFn fn = RewardFns.format(Pattern.compile("\\d+"));
        assertThat(score(fn, text("123"), text("12a"), text("a12"))).containsExactly(1.0, 0.0, 0.0);
    }

    @Test
    void namedAndPerSample() {
        RewardFn fn = RewardFn.perSample("half", in -> in.completion().isEmpty() ? null : 0.5);
        assertThat(fn.name()).isEqualTo("half");
        assertThat(score(fn, text("x"), text(""))).containsExactly(0.5, null);
        RewardFn lambda = batch -> batch.stream().map(in -> 1.0).toList();
        assertThat(lambda.name()).isEqualTo(RewardFn.DEFAULT_NAME);
        assertThat(RewardFn.named("one", lambda).name()).isEqualTo("one");
        assertThatThrownBy(() -> RewardFn.named("a b", lambda)).hasMessageContaining("'a b'");
        assertThatThrownBy(() -> RewardFn.named("a/b", lambda)).hasMessageContaining("'a/b'");
    }

    @Test
    void batchDecodesPromptsAndCompletions() {
        var tok = org.rlhf4j.algorithms.TestData.syntheticTokenizer(8, EOS);
        List<RewardInput> b = RewardInput.batch(tok, List.of(new int[] {1, 2}), List.of(new int[] {3, EOS}),
                List.of(Map.of("answer", "3")));
        assertThat(b.get(0).prompt()).isEqualTo("[1, 2]");
        assertThat(b.get(0).completion()).isEqualTo("[3, 0]");
        assertThat(b.get(0).field("answer")).isEqualTo("3");
        assertThatThrownBy(() -> RewardInput.batch(tok, List.of(), List.of(new int[] {3}), null))
                .hasMessageContaining("0 prompts");
    }
}
