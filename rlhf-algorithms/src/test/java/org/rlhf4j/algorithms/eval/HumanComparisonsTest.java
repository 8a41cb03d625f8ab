package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;

/** Human comparisons: which rows become matchups, which are skipped and why, and the agreement of a judge. */
class HumanComparisonsTest {

    static Tokenizer tok;
    static TldrTask task;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
        task = new TldrTask(tok, TaskConfig.DEFAULT);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static Comparison row(String id, Comparison.Kind kind, Prompt prompt, String a, String b, int choice, Integer conf) {
        return new Comparison(id, kind, prompt, List.of(new Comparison.Summary(a, null, null),
                new Comparison.Summary(b, null, null)), choice, null, "batch18", "valid1", conf);
    }

    @Test
    void tldrRowsThatFitBecomeMatchupsInOrder() {
        Prompt.Reddit post = new Prompt.Reddit("pics", "A title", "A short post.");
        List<Comparison> rows = List.of(
                row("1", Comparison.Kind.TLDR, post, " short", " a longer summary", 1, 7),
                row("2", Comparison.Kind.CNNDM, new Prompt.Article("An article."), " x", " y", 0, null),
                row("3", Comparison.Kind.TLDR, new Prompt.Reddit("pics", "T", "word ".repeat(2000)), " x", " y", 0, 2),
                row("4", Comparison.Kind.TLDR, post, " ok", " fine", 0, null));
        // query_too_long needs a query over the limit even with the post truncated away: a long title
        List<Comparison> withLongTitle = new ArrayList<>(rows);
        withLongTitle.add(row("5", Comparison.Kind.TLDR, new Prompt.Reddit("pics", "title ".repeat(600), "p"), " x",
                " y", 0, 1));
        HumanComparisons h = HumanComparisons.of(withLongTitle, task, 1024, Integer.MAX_VALUE);
        assertThat(h.matchups()).extracting(Matchup::id).containsExactly("1", "3", "4");
        Matchup first = h.matchups().get(0);
        assertThat(first.post()).isEqualTo(Matchup.postText(post));
        assertThat(first.queryIds()).isEqualTo(task.encodeQuery(post).ids());
        assertThat(first.a()).isEqualTo(" short");
        assertThat(first.b()).isEqualTo(" a longer summary");
        assertThat(h.choices()).containsExactly(1, 0, 0);
        assertThat(h.confidences()).containsExactly(7, 2, null);
        assertThat(h.skipped()).isEqualTo(Map.of("cnndm", 1, "query_too_long", 1));

        // a model with few positions: the truncated 512-token query of row 3 does not fit, the short ones do
        HumanComparisons small = HumanComparisons.of(rows, task, 64, Integer.MAX_VALUE);
        assertThat(small.matchups()).extracting(Matchup::id).containsExactly("1", "4");
        assertThat(small.skipped()).isEqualTo(Map.of("cnndm", 1, "too_long_for_the_model", 1));

        // the limit counts matchups and stops reading
        HumanComparisons one = HumanComparisons.of(rows, task, 1024, 1);
        assertThat(one.matchups()).extracting(Matchup::id).containsExactly("1");
        assertThat(one.skipped()).isEmpty();
    }

    @Test
    void badArgumentsAndNothingFittingAreErrors() {
        List<Comparison> rows = BundledTldr.comparisons();
        assertThatThrownBy(() -> HumanComparisons.of(rows, task, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxPositions must be >= 1, got 0");
        assertThatThrownBy(() -> HumanComparisons.of(rows, task, 1024, 0)).hasMessage("limit must be >= 1, got 0");
        assertThatThrownBy(() -> HumanComparisons.of(rows, task, 8, Integer.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("none of the " + rows.size() + " comparisons fits; skipped by reason: {")
                .hasMessageContaining("too_long_for_the_model=");
    }

    @Test
    void agreementJudgesEveryMatchupAgainstTheLabels() {
        Gpt2Config c = new Gpt2Config(Gpt2Config.GPT2_VOCAB, 1024, 16, 1, 2, 64, 1e-5, "gelu_new", Gpt2Config.GPT2_EOS,
                Gpt2Config.GPT2_EOS, Map.of());
        HumanComparisons h = HumanComparisons.of(BundledTldr.comparisons(), task, c.maxPositions(), 6);
        try (NDManager m = NDManager.newBaseManager(); ScalarModel rm = ScalarModel.random(c, m, 3)) {
            RewardModelJudge judge = RewardModelJudge.builder().setModel(rm).setTokenizer(tok).build();
            WinRate.HumanAgreement a = h.agreement(judge);
            List<Judgement> js = judge.judgeAll(h.matchups());
            WinRate.HumanAgreement expected = WinRate.humanAgreement(js,
                    h.choices().stream().mapToInt(Integer::intValue).toArray(), h.confidences().toArray(new Integer[0]));
            assertThat(a).isEqualTo(expected);
            assertThat(a.overall().comparisons()).isEqualTo(6);
        }
    }
}
