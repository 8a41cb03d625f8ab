package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JudgeTemplateTest {

    @Test
    void theFinalChoiceIsParsedFromTheLastPreferredLineOrABareLastLine() {
        assertThat(JudgeTemplate.parseChoice("Comparison: A is shorter.\nPreferred: A")).isEqualTo(Verdict.A);
        assertThat(JudgeTemplate.parseChoice("Comparison: Summary A misses the point.\nPreferred: B\n")).isEqualTo(Verdict.B);
        assertThat(JudgeTemplate.parseChoice("**Comparison:** x\n**Preferred:** \"B\"")).isEqualTo(Verdict.B);
        assertThat(JudgeTemplate.parseChoice("Comparison: x\nPreferred: Summary A.")).isEqualTo(Verdict.A);
        assertThat(JudgeTemplate.parseChoice("preferred: b")).isEqualTo(Verdict.B);
        assertThat(JudgeTemplate.parseChoice("Comparison: A is better than B\n\nB")).isEqualTo(Verdict.B);
        assertThat(JudgeTemplate.parseChoice("A")).isEqualTo(Verdict.A);
        assertThat(JudgeTemplate.parseChoice("Preferred: A\nOn reflection:\nPreferred: B")).isEqualTo(Verdict.B);
        assertThat(JudgeTemplate.parseChoice("Preferred: B\nThat is my answer.")).isEqualTo(Verdict.B);
        // no guessing from free text
        assertThat(JudgeTemplate.parseChoice("Comparison: Summary A is clearly better.")).isEqualTo(Verdict.INVALID);
        assertThat(JudgeTemplate.parseChoice("Preferred: A or B")).isEqualTo(Verdict.INVALID);
        assertThat(JudgeTemplate.parseChoice("Preferred: C")).isEqualTo(Verdict.INVALID);
        assertThat(JudgeTemplate.parseChoice("A and B")).isEqualTo(Verdict.INVALID);
        assertThat(JudgeTemplate.parseChoice("")).isEqualTo(Verdict.INVALID);
        assertThat(JudgeTemplate.parseChoice(null)).isEqualTo(Verdict.INVALID);
    }

    @Test
    void renderingFillsEachPlaceholderOnce() {
        String p = JudgeTemplate.DPO_CONCISE.render("the post", " summary {b} one ", "two");
        assertThat(p).contains("Post:\nthe post\n\nSummary A:\nsummary {b} one\n\nSummary B:\ntwo\n\n")
                .startsWith("Which of the following summaries does a better job of summarizing the most important "
                        + "points in the given forum post, without including unimportant or irrelevant details?")
                .endsWith("Preferred: <\"A\" or \"B\">");
        assertThat(JudgeTemplate.DPO_SIMPLE.render("p", "a", "b")).doesNotContain("precise and concise");
        assertThat(JudgeTemplate.named("letter-only")).isEqualTo(JudgeTemplate.LETTER_ONLY);
        assertThat(JudgeTemplate.named("DPO_SIMPLE")).isEqualTo(JudgeTemplate.DPO_SIMPLE);
        assertThatThrownBy(() -> JudgeTemplate.named("gpt5")).hasMessageContaining("'gpt5'").hasMessageContaining("dpo-concise");
    }

    @Test
    void judgementsCombineBothOrders() {
        assertThat(Judgement.bothOrders(Verdict.A, Verdict.A, "").verdict()).isEqualTo(Verdict.A);
        assertThat(Judgement.bothOrders(Verdict.B, Verdict.B, "").verdict()).isEqualTo(Verdict.B);
        assertThat(Judgement.bothOrders(Verdict.A, Verdict.B, "").verdict()).isEqualTo(Verdict.TIE);
        assertThat(Judgement.bothOrders(Verdict.A, Verdict.INVALID, "").verdict()).isEqualTo(Verdict.INVALID);
        assertThat(Judgement.bothOrders(Verdict.A, Verdict.B, "").positionConsistent()).isFalse();
        assertThat(Judgement.single(Verdict.A, "").bothOrdersAsked()).isFalse();
    }
}
