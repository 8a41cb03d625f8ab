package org.rlhf4j.datasets.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.SkipReason;
import org.rlhf4j.datasets.TldrPost;

class TldrTaskTest {

    static Tokenizer tok;
    static TldrTask task;

    @BeforeAll
    static void setUp() {
        tok = Gpt2Tokenizers.bundled();
        task = new TldrTask(tok, TaskConfig.DEFAULT);
    }

    @AfterAll
    static void tearDown() {
        tok.close();
    }

    @Test
    void knownRowFormatsExactlyAsTheReference() {
        Comparison c = BundledTldr.comparisons().get(0);
        EncodedQuery q = task.encodeQuery(c.prompt());
        String expected = "SUBREDDIT: r/AskReddit\n\nTITLE: My girlfriends grandma caught us making out on her"
                + " couch.\n\nPOST: I was at my girlfriends house for the 3rd time this past weekend and her grandma"
                + " caught us making out on the couch, she was really pissed and yelled at her about us being"
                + " disrespectful, and that i also quit football so now she thinks I'm lazy i guess, she also said"
                + " the usual \"that boy only has one thing on his mind\" phrase and now i don't think she'll even"
                + " let us cuddle on the couch while watching a movie.I'm going to call her around 7:30( so that my"
                + " girlfriend won't be there) and i was just looking for tips on what i should do or say.\n\nTL;DR:";
        assertThat(q.text()).isEqualTo(expected);
        assertThat(q.truncated()).isFalse();
        assertThat(q.ids()).isEqualTo(tok.encode(expected));
    }

    @Test
    void referenceResponseIsSpaceSummaryThenEos() {
        TldrPost post = new TldrPost("t3_x", "train", "pics", "T", "P", "Hello world");
        var sft = (Encoded.Sft) task.encode(post);
        assertThat(sft.response()).containsExactly(18435, 995, 50256);
        assertThat(tok.decode(sft.response())).isEqualTo(" Hello world<|endoftext|>");
        assertThat(sft.response()).isEqualTo(tok.encode(" Hello world<|endoftext|>"));
    }

    @Test
    void truncationCutsThePostAtItsLastNewlineUntilItFits() {
        StringBuilder post = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            post.append("Paragraph number ").append(i).append(" has a few words in it.\n");
        }
        post.append("The end");
        Prompt.Reddit p = new Prompt.Reddit("test", "Title", post.toString());
        TldrTask small = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).build());
        EncodedQuery q = small.encodeQuery(p);
        assertThat(q.truncated()).isTrue();
        assertThat(q.length()).isLessThanOrEqualTo(128);
        assertThat(q.ids()).isEqualTo(tok.encode(q.text()));
        // the kept post is a prefix of the original that ended right before a newline
        String kept = q.text().substring(q.text().indexOf("POST: ") + 6, q.text().length() - "\n\nTL;DR:".length());
        assertThat(post.toString()).startsWith(kept);
        assertThat(post.charAt(kept.length())).isEqualTo('\n');
        assertThat(kept).endsWith("has a few words in it.");
        // one more paragraph would not fit: the cut is the longest that fits
        int next = post.indexOf("\n", kept.length() + 1);
        assertThat(tok.encode(p.format(post.substring(0, next))).length).isGreaterThan(128);
    }

    @Test
    void truncationFallsBackToWhitespaceThenCharacters() {
        assertThat(TldrTask.cut("a b\nc d")).isEqualTo("a b");
        assertThat(TldrTask.cut("a b c")).isEqualTo("a b");
        assertThat(TldrTask.cut("abc")).isEqualTo("ab");
        assertThat(TldrTask.cut("ab\uD83D\uDE00")).isEqualTo("ab");
        String words = "word ".repeat(200).trim();
        TldrTask small = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(64).build());
        EncodedQuery q = small.encodeQuery(new Prompt.Reddit("x", "y", words));
        assertThat(q.length()).isLessThanOrEqualTo(64);
        assertThat(q.text()).endsWith("word\n\nTL;DR:");
    }

    @Test
    void queryThatCannotFitIsRejectedNotCut() {
        TldrTask small = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(16).build());
        assertThatThrownBy(() -> small.encodeQuery(new Prompt.Reddit("x", "a very long title ".repeat(5), "p q")))
                .isInstanceOf(TaskLimitException.class)
                .satisfies(e -> assertThat(((TaskLimitException) e).reason()).isEqualTo(SkipReason.QUERY_TOO_LONG))
                .hasMessageContaining("field 'post': query has")
                .hasMessageEndingWith("with the post removed, limit 16");
        assertThatThrownBy(() -> small.encodeQuery(new Prompt.Raw("word ".repeat(30))))
                .hasMessageStartingWith("field 'prompt': query has 31 tokens, limit 16");
    }

    @Test
    void responseOverTheLimitIsAnExplicitOutcome() {
        TldrPost post = new TldrPost("t3_x", "train", "pics", "T", "P", "word ".repeat(53).trim());
        assertThatThrownBy(() -> task.encode(post))
                .isInstanceOf(TaskLimitException.class)
                .hasMessage("field 'summary': response has 54 tokens (EOS included), limit 53");
        TldrPost fits = new TldrPost("t3_x", "train", "pics", "T", "P", "word ".repeat(52).trim());
        assertThat(((Encoded.Sft) task.encode(fits)).response()).hasSize(53);
        TaskLimitException e = org.junit.jupiter.api.Assertions.assertThrows(TaskLimitException.class,
                () -> task.encode(post));
        assertThat(e.at("train.jsonl", 17).getMessage())
                .isEqualTo("train.jsonl:17: field 'summary': response has 54 tokens (EOS included), limit 53");
    }

    @Test
    void comparisonResponsesUseTheFileTextAndTheRmLimit() {
        Comparison c = BundledTldr.comparisons().get(1);
        Encoded.Pair pair = (Encoded.Pair) task.encode(c);
        assertThat(tok.decode(pair.chosen())).isEqualTo(c.summaries().get(1).text() + "<|endoftext|>");
        assertThat(tok.decode(pair.rejected())).isEqualTo(c.summaries().get(0).text() + "<|endoftext|>");
        TldrTask tight = new TldrTask(tok, TaskConfig.builder().setMaxRmResponseTokens(10).build());
        assertThatThrownBy(() -> tight.encode(c)).hasMessageStartingWith("field 'summaries[1].text': response has");
    }

    @Test
    void promptRowsKeepTheirReference() {
        PromptRow row = BundledTldr.prompts("train").get(0);
        Encoded.PromptOnly e = task.encodePrompt(row);
        assertThat(e.reference()).isEqualTo(tok.encode(row.reference() + "<|endoftext|>"));
        assertThat(e.query().text()).startsWith("SUBREDDIT: r/relationships\n\nTITLE: I (f/22)");
        assertThat(e.query().length()).isLessThanOrEqualTo(512);
    }

    @Test
    void configRejectsNonPositiveLimits() {
        assertThatThrownBy(() -> TaskConfig.builder().setMaxQueryTokens(0).build())
                .hasMessage("maxQueryTokens must be positive, got 0");
        assertThat(TaskConfig.DEFAULT.toBuilder().build()).isEqualTo(TaskConfig.DEFAULT);
        assertThat(TaskConfig.DEFAULT.maxSftResponseTokens()).isEqualTo(53);
        assertThat(TaskConfig.DEFAULT.maxRmResponseTokens()).isEqualTo(169);
    }
}
