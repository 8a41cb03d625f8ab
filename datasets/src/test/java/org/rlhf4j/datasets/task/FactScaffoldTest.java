package org.rlhf4j.datasets.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.SftExample;

/** The facts-then-summary targets and their post-processing, on hand-computed cases. */
class FactScaffoldTest {

    static final Prompt POST = new Prompt.Reddit("relationships", "My boyfriend forgot my birthday",
            "We have been dating for two years. He forgot my birthday last week. I love pizza.\n"
                    + "He apologized but I am still upset about it. The weather is nice today.");
    static final String REFERENCE = " boyfriend of two years forgot my birthday, apologized, still upset";

    @Test
    void factsAreThePostSentencesSharingTheMostContentWordsWithTheSummaryInPostOrder() {
        // shared content words: title 3 (boyfriend forgot birthday), "We have been dating…" 2 (two years),
        // "He forgot…" 2 (forgot birthday), "I love pizza." 0, "He apologized…" 3 (apologized still upset), weather 0
        assertThat(FactScaffold.extractFacts(POST, REFERENCE, 3)).containsExactly("My boyfriend forgot my birthday",
                "We have been dating for two years.", "He apologized but I am still upset about it.");
        assertThat(FactScaffold.extractFacts(POST, REFERENCE, 1)).containsExactly("My boyfriend forgot my birthday");
        assertThat(FactScaffold.extractFacts(POST, REFERENCE, 10)).hasSize(4); // the two with no shared word never
        assertThat(FactScaffold.extractFacts(POST, "pizza pizza", 3)).containsExactly("I love pizza.");
        assertThat(FactScaffold.extractFacts(POST, "the and of", 3)).isEmpty(); // function words only
        assertThatThrownBy(() -> FactScaffold.extractFacts(POST, REFERENCE, 0)).hasMessageContaining("got 0");
    }

    @Test
    void aRawQueryLosesItsSubredditLineAndLabels() {
        Prompt raw = new Prompt.Raw("SUBREDDIT: r/relationships forgot birthday\nTITLE: My boyfriend forgot my birthday\n"
                + "POST: He apologized but I am still upset.\nTL;DR:");
        assertThat(FactScaffold.extractFacts(raw, REFERENCE, 3)).containsExactly("My boyfriend forgot my birthday",
                "He apologized but I am still upset.");
    }

    @Test
    void longSentencesAreCut() {
        String words = "alpha ".repeat(40).strip() + ".";
        List<String> f = FactScaffold.extractFacts(new Prompt.Raw(words + "\n\nTL;DR:"), "alpha", 3);
        assertThat(f).hasSize(1);
        assertThat(f.get(0).split(" ")).hasSize(FactScaffold.MAX_FACT_WORDS);
        assertThat(f.get(0)).endsWith("alpha…");
    }

    @Test
    void targetsRenderFactsThenSummary() {
        SftExample e = FactScaffold.scaffold(new SftExample("1", "train", POST, REFERENCE), 3);
        assertThat(e.completion()).isEqualTo(" Facts:\n- My boyfriend forgot my birthday\n"
                + "- We have been dating for two years.\n- He apologized but I am still upset about it.\n"
                + "Summary: boyfriend of two years forgot my birthday, apologized, still upset");
        assertThat(FactScaffold.render(List.of(), " s ")).isEqualTo(" Facts:\n- (none)\nSummary: s");
        assertThat(FactScaffold.summaryPart(e.completion())).contains(REFERENCE.strip());
        PreferencePair p = FactScaffold.scaffold(new PreferencePair("1", "train", POST, REFERENCE, " I love pizza"), 2);
        String facts = " Facts:\n- My boyfriend forgot my birthday\n- He apologized but I am still upset about it.\n";
        assertThat(p.chosen()).isEqualTo(facts + "Summary: " + REFERENCE.strip());
        assertThat(p.rejected()).isEqualTo(facts + "Summary: I love pizza"); // the chosen one's facts
    }

    @Test
    void theSummaryPartIsTheTextAfterTheLastMarker() {
        assertThat(FactScaffold.summaryPart(" Facts:\n- a\nSummary:  x y \n")).contains("x y");
        assertThat(FactScaffold.summaryPart("Summary: one Summary: two")).contains("two");
        assertThat(FactScaffold.summaryPart("Facts:\n- a\n- b")).isEqualTo(Optional.empty());
        assertThat(FactScaffold.summaryPart("Summary:")).contains("");
    }

    @Test
    void nearlyEveryBundledSftRowGetsFacts() {
        int rows = 0;
        int facts = 0;
        List<String> without = new java.util.ArrayList<>();
        for (SftExample e : BundledTldr.sft("train")) {
            rows++;
            List<String> f = FactScaffold.extractFacts(e.prompt(), e.completion(), 3);
            facts += f.size();
            if (f.isEmpty()) {
                without.add(e.id() + ": " + e.completion());
            }
        }
        System.out.println("bundled train: " + rows + " rows, " + facts + " facts, without facts: " + without);
        // measured on the bundled sample: 144 facts in 50 rows; one reference shares no content word with its post
        assertThat(rows).isEqualTo(50);
        assertThat(facts).isEqualTo(144);
        assertThat(without).hasSize(1);
    }
}
