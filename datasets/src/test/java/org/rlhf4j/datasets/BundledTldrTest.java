package org.rlhf4j.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.rlhf4j.datasets.io.ReadReport;

class BundledTldrTest {

    @Test
    void carperSplitsHaveFiftyRowsEach() {
        for (String split : BundledTldr.SFT_SPLITS) {
            assertThat(BundledTldr.sft(split)).as(split).hasSize(50);
            assertThat(BundledTldr.prompts(split)).as(split).hasSize(50);
        }
        for (String split : List.of("train", "test", "valid1")) {
            assertThat(BundledTldr.pairs(split)).as(split).hasSize(50);
            assertThat(BundledTldr.pairsReport(split).skippedTotal()).as(split).isZero();
        }
        // valid2 has 50 rows, three of them (lines 44, 45, 47) with an empty rejected summary "TL;DR: "
        assertThat(BundledTldr.pairs("valid2")).hasSize(47);
        ReadReport valid2 = BundledTldr.pairsReport("valid2");
        assertThat(valid2.lines()).isEqualTo(50);
        assertThat(valid2.rows()).isEqualTo(47);
        assertThat(valid2.skipped()).isEqualTo(Map.of("empty_field", 3L));
        assertThat(valid2.skipExamples()).containsExactly(
                "carper-comparisons-valid2.jsonl:44: field 'rejected': empty after the 'TL;DR:' prefix",
                "carper-comparisons-valid2.jsonl:45: field 'rejected': empty after the 'TL;DR:' prefix",
                "carper-comparisons-valid2.jsonl:47: field 'rejected': empty after the 'TL;DR:' prefix");
    }

    @Test
    void carperPromptsParseBackIntoRedditPosts() {
        for (String split : BundledTldr.SFT_SPLITS) {
            assertThat(BundledTldr.sft(split)).allSatisfy(e -> assertThat(e.prompt()).isInstanceOf(Prompt.Reddit.class));
        }
        for (String split : BundledTldr.PAIR_SPLITS) {
            assertThat(BundledTldr.pairs(split))
                    .allSatisfy(p -> assertThat(p.prompt()).isInstanceOf(Prompt.Reddit.class));
        }
        SftExample first = BundledTldr.sft("train").get(0);
        Prompt.Reddit r = (Prompt.Reddit) first.prompt();
        assertThat(r.subreddit()).isEqualTo("relationships");
        assertThat(r.title()).isEqualTo("I (f/22) have to figure out if I want to still know these girls or not and"
                + " would hate to sound insulting");
        assertThat(r.post()).startsWith("Not sure if this belongs here but it's worth a try. \n\nBackstory:\n");
        assertThat(first.completion()).isEqualTo(" I still have contact with an old ex's friends but can't stand to"
                + " see or talk to him. His friends are really nice ,so how do I tell them I possibly want to unfriend"
                + " them on Facebook because of him?");
        assertThat(first.split()).isEqualTo("train");
    }

    @Test
    void carperPairsLoseTheirTldrPrefix() {
        PreferencePair p = BundledTldr.pairs("train").get(0);
        assertThat(p.chosen()).isEqualTo(" Snooped, found something, should I admit what I found so we can have a"
                + " more honest conversation about it with less denial on her part?");
        assertThat(p.rejected()).isEqualTo(" I snooped, we talked about it, she wants to work it out, I'm not sure."
                + "  Is the snooping worth it?");
        assertThat(BundledTldr.pairs("valid1").get(0).chosen()).startsWith(" I'm bisexual, I'm in a relationship");
        for (String split : BundledTldr.PAIR_SPLITS) {
            assertThat(BundledTldr.pairs(split)).allSatisfy(x -> {
                assertThat(x.chosen()).doesNotContain("TL;DR").startsWith(" ").doesNotStartWith("  ");
                assertThat(x.rejected()).doesNotContain("TL;DR").startsWith(" ").doesNotStartWith("  ");
            });
        }
    }

    @Test
    void batch18HeadHasHundredTldrRowsSplitEighteenAndEightyTwo() {
        List<Comparison> rows = BundledTldr.comparisons();
        assertThat(rows).hasSize(100);
        Map<String, Integer> perKind = new TreeMap<>();
        Map<String, Integer> perSplit = new TreeMap<>();
        for (Comparison c : rows) {
            perKind.merge(c.kind().name(), 1, Integer::sum);
            perSplit.merge(c.split(), 1, Integer::sum);
        }
        assertThat(perKind).isEqualTo(Map.of("TLDR", 100));
        assertThat(perSplit).isEqualTo(Map.of("valid1", 18, "valid2", 82));
        assertThat(rows.stream().filter(c -> c.choice() == 0).count()).isEqualTo(56);
        assertThat(rows).allSatisfy(c -> assertThat(c.batch()).isEqualTo("batch18"));
    }

    @Test
    void comparisonMapsChosenAndRejectedByChoice() {
        Comparison first = BundledTldr.comparisons().get(0);
        assertThat(first.choice()).isZero();
        assertThat(first.id()).isEqualTo("t3_js7re");
        assertThat(first.confidence()).isEqualTo(2);
        assertThat(first.chosen().policy()).isEqualTo("sup4_6b_p.95");
        assertThat(first.chosen().text()).startsWith(" my girlfriends grandma got mad at us");
        assertThat(first.rejected().policy()).isEqualTo("ref");
        assertThat(first.rejected().text()).startsWith(" Me and my gf got caught making out");

        Comparison second = BundledTldr.comparisons().get(1);
        assertThat(second.choice()).isEqualTo(1);
        assertThat(second.chosen().policy()).isEqualTo("sup4_6b_p.95");
        assertThat(second.chosen().text()).startsWith(" my girlfriends grandma got mad at us");
        assertThat(second.rejected().policy()).isEqualTo("sup4_6b_t0.7");
        assertThat(second.rejected().text()).startsWith(" Girlfriends grandma caught us");

        PreferencePair pair = second.toPair();
        assertThat(pair.chosen()).isEqualTo(second.summaries().get(1).text());
        assertThat(pair.rejected()).isEqualTo(second.summaries().get(0).text());
        assertThat(pair.split()).isEqualTo("valid2");
    }

    @Test
    void unknownSplitIsRejectedWithTheValidNames() {
        assertThatThrownBy(() -> BundledTldr.sft("valid1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown split 'valid1'; bundled splits are [train, valid, test]");
        assertThatThrownBy(() -> BundledTldr.open("nope.jsonl")).hasMessageContaining("nope.jsonl");
    }
}
