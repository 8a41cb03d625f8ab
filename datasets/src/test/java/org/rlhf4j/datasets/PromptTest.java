package org.rlhf4j.datasets;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromptTest {

    @Test
    void parsesCarperSingleNewlineLayout() {
        Prompt p = Prompt.parse("SUBREDDIT: r/pics\nTITLE: A cat\nPOST: line one\nline two\nTL;DR: ");
        assertThat(p).isEqualTo(new Prompt.Reddit("pics", "A cat", "line one\nline two"));
        assertThat(p.text()).isEqualTo("SUBREDDIT: r/pics\n\nTITLE: A cat\n\nPOST: line one\nline two\n\nTL;DR:");
    }

    @Test
    void parsesReferenceLayoutAndRoundTrips() {
        String q = "SUBREDDIT: r/pics\n\nTITLE: A cat\n\nPOST: a\n\nb TL;DR: inside\n\nTL;DR:";
        Prompt p = Prompt.parse(q);
        assertThat(p).isEqualTo(new Prompt.Reddit("pics", "A cat", "a\n\nb TL;DR: inside"));
        assertThat(p.text()).isEqualTo(q);
    }

    @Test
    void parsesPromptWithoutTldrLine() {
        assertThat(Prompt.parse("SUBREDDIT: r/x\nTITLE: t\nPOST: p"))
                .isEqualTo(new Prompt.Reddit("x", "t", "p"));
    }

    @Test
    void keepsOtherPromptsVerbatim() {
        String s = "Summarize: hello\nTL;DR:";
        assertThat(Prompt.parse(s)).isEqualTo(new Prompt.Raw(s));
        String twoLineTitle = "SUBREDDIT: r/x\nTITLE: a\nb\nPOST: p\nTL;DR:";
        assertThat(Prompt.parse(twoLineTitle)).isEqualTo(new Prompt.Raw(twoLineTitle));
    }

    @Test
    void articleUsesTheCnnDmTemplate() {
        assertThat(new Prompt.Article("News.").text()).isEqualTo("Article:\nNews.\n\nTL;DR:\n");
    }
}
