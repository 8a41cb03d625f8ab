package org.rlhf4j.algorithms.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.task.FactScaffold;
import org.rlhf4j.datasets.task.TldrTask;

/** A scaffolded policy's outputs are evaluated by their summary part; missing markers are counted and flagged. */
class ScaffoldedEvaluationTest {

    static Tokenizer tok;
    static TldrTask task;
    static List<PromptRow> prompts;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
        task = TestData.task(tok);
        prompts = BundledTldr.prompts("valid").subList(0, 4);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    /** The protocol output of each prompt, its reference as the summary; the first {@code broken} lack the marker. */
    static Map<String, String> outputs(int broken) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < prompts.size(); i++) {
            PromptRow p = prompts.get(i);
            String full = FactScaffold.render(FactScaffold.extractFacts(p.prompt(), p.reference(), 3), p.reference());
            out.put(p.id(), i < broken ? full.substring(0, full.indexOf(FactScaffold.SUMMARY_MARKER)) : full);
        }
        return out;
    }

    @Test
    void theSummaryPartIsEvaluatedAndOutputsWithoutTheMarkerAreCountedAndFlagged() throws Exception {
        PolicyEvaluation one = PolicyEvaluator.builder().setSummaries(outputs(1)).setTask(task).setPrompts(prompts)
                .optScaffold(true).build().evaluate();
        assertThat(one.withoutSummaryMarker()).isEqualTo(1);
        assertThat(one.summaries().get(1).summary()).isEqualTo(prompts.get(1).reference().strip());
        assertThat(one.summaries().get(0).summary()).startsWith(" Facts:\n- "); // as written
        assertThat(EvaluationChecks.check(one).flags()).isEmpty(); // 1 of 4 is not "more than half"
        PolicyEvaluation three = PolicyEvaluator.builder().setSummaries(outputs(3)).setTask(task).setPrompts(prompts)
                .optName("scaffolded").optScaffold(true).build().evaluate();
        assertThat(three.withoutSummaryMarker()).isEqualTo(3);
        EvaluationChecks.PolicyCheck c = EvaluationChecks.check(three);
        assertThat(c.flags()).containsExactly(PolicyFlag.NO_SUMMARY_MARKER);
        assertThat(EvaluationChecks.warnings(null, List.of(c))).containsExactly("scaffolded is flagged "
                + "no_summary_marker: 3 of 4 scaffolded outputs (75%) have no \"Summary:\" marker and were evaluated as "
                + "written (flagged above 50%).");
        // not scaffolded: nothing is cut and nothing counted
        PolicyEvaluation plain = PolicyEvaluator.builder().setSummaries(outputs(0)).setTask(task).setPrompts(prompts)
                .build().evaluate();
        assertThat(plain.withoutSummaryMarker()).isNull();
        assertThat(plain.summaries().get(0).summary()).startsWith(" Facts:");
        PolicyEvaluation cut = PolicyEvaluator.builder().setSummaries(outputs(0)).setTask(task).setPrompts(prompts)
                .optScaffold(true).build().evaluate();
        assertThat(cut.rouge()).isEqualTo(new Rouge.Scores(1, 1, 1));
        assertThat(plain.rouge().rouge1()).isLessThan(1.0);
    }

    @Test
    void theGroundingJudgeSeesTheSummaryPartNotTheFacts() throws Exception {
        try (FakeChatServer s = new FakeChatServer(r -> FakeChatServer.Response.reply(GroundingJudgeTest.reply(true)));
                LlmJudge client = LlmJudgeTest.judge(s).build()) {
            GroundingJudge g = GroundingJudge.builder().setClient(client).build();
            PolicyEvaluation e = PolicyEvaluator.builder().setSummaries(outputs(0)).setTask(task).setPrompts(prompts)
                    .optScaffold(true).optGroundingJudge(g).build().evaluate();
            assertThat(e.hallucination().rate()).isZero();
            assertThat(e.hallucination().valid()).isEqualTo(4);
            assertThat(e.groundingJudge()).startsWith("llm:judge-model/factual");
            assertThat(s.requests()).hasSize(4);
            for (int i = 0; i < 4; i++) {
                String prompt = s.requests().get(i).prompt();
                assertThat(prompt).contains("Summary:\n" + prompts.get(i).reference().strip() + "\n\nSTEP 1");
                assertThat(prompt).doesNotContain("Facts:\n- ");
            }
        }
    }
}
