package org.rlhf4j.datasets.task;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.Prompt;

/** The query truncation search gives exactly the queries of the step-by-step rule, without its quadratic cost. */
class TldrTruncationTest {

    static Tokenizer tok;

    @BeforeAll
    static void setUp() {
        tok = Gpt2Tokenizers.bundled();
    }

    @AfterAll
    static void tearDown() {
        tok.close();
    }

    /** The rule as it was implemented before the search: encode every cut in turn until one fits. */
    static String stepByStep(Prompt.Reddit p, int max) {
        String body = p.post();
        String text = p.format(body);
        int[] ids = tok.encode(text);
        int full = ids.length;
        boolean truncated = false;
        while (ids.length > max) {
            if (body.isEmpty()) {
                return "error: field 'post': query has " + full + " tokens and still " + ids.length
                        + " with the post removed, limit " + max;
            }
            body = TldrTask.cut(body);
            truncated = true;
            text = p.format(body);
            ids = tok.encode(text);
        }
        return truncated + "|" + text;
    }

    static String searched(Prompt.Reddit p, int max) {
        TldrTask task = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(max).build());
        try {
            EncodedQuery q = task.encodeQuery(p);
            assertThat(q.ids()).isEqualTo(tok.encode(q.text()));
            return q.truncated() + "|" + q.text();
        } catch (TaskLimitException e) {
            return "error: " + e.getMessage();
        }
    }

    static List<Integer> lengthsByRepeatedCut(String s) {
        List<Integer> out = new ArrayList<>();
        out.add(s.length());
        while (!s.isEmpty()) {
            s = TldrTask.cut(s);
            out.add(s.length());
        }
        return out;
    }

    @Test
    void cutLengthsAreTheRepeatedCuts() {
        String[] pieces = {"a", "word", "é", "\uD83D\uDE00", "\uD800", "\uDC00", " ", "  ", "\t", "\n", "\r\n", "\u00A0",
            "\u2003", "猫", "x1"};
        SplittableRandom rng = new SplittableRandom(11);
        for (int t = 0; t < 300; t++) {
            StringBuilder sb = new StringBuilder();
            int n = rng.nextInt(40);
            for (int i = 0; i < n; i++) {
                sb.append(pieces[rng.nextInt(pieces.length)]);
            }
            String s = sb.toString();
            assertThat(TldrTask.cutLengths(s)).as("%s", s.chars().boxed().toList())
                    .containsExactly(lengthsByRepeatedCut(s).stream().mapToInt(Integer::intValue).toArray());
        }
        assertThat(TldrTask.cutLengths("")).containsExactly(0);
    }

    @Test
    void theBundledPostsGiveTheStepByStepQueries() {
        Set<Prompt.Reddit> posts = new LinkedHashSet<>();
        for (Comparison c : BundledTldr.comparisons()) {
            if (c.prompt() instanceof Prompt.Reddit r) {
                posts.add(r);
            }
        }
        for (String split : BundledTldr.SFT_SPLITS) {
            BundledTldr.sft(split).forEach(e -> {
                if (e.prompt() instanceof Prompt.Reddit r) {
                    posts.add(r);
                }
            });
        }
        assertThat(posts).hasSizeGreaterThan(100);
        int i = 0;
        int truncated = 0;
        for (Prompt.Reddit p : posts) {
            // every post at a budget many of them exceed by a little; every eighth also at small budgets (long searches)
            List<Integer> limits = i++ % 8 == 0 ? List.of(24, 60, 300) : List.of(360);
            for (int max : limits) {
                String expected = stepByStep(p, max);
                assertThat(searched(p, max)).as("post %s at %d tokens", p.title(), max).isEqualTo(expected);
                if (expected.startsWith("true|")) {
                    truncated++;
                }
            }
        }
        assertThat(truncated).isGreaterThan(30);
    }

    @Test
    void syntheticPostsGiveTheStepByStepQueries() {
        SplittableRandom rng = new SplittableRandom(5);
        String[] words = {"the", "cat", "ate", "my", "homework", "and", "I", "was", "upset,", "so", "(really)", "1999",
            "café", "naïve", "\uD83D\uDE00", "猫が好き", "https://example.com/a?b=c", "—", "don't"};
        String[] separators = {" ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", " \n", "\u00A0", "\u2003", ""};
        List<String> posts = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            StringBuilder sb = new StringBuilder();
            while (sb.length() < 1000) {
                sb.append(words[rng.nextInt(words.length)]).append(separators[rng.nextInt(separators.length)]);
            }
            posts.add(sb.toString());
        }
        posts.add("word ".repeat(250).trim()); // one paragraph
        posts.add("x".repeat(40) + " " + "ab1".repeat(250)); // no whitespace at the end: cut by characters
        posts.add("ab1".repeat(300)); // no whitespace at all
        posts.add("first line\n" + "y ".repeat(200) + "\n" + "   ".repeat(100) + "end"); // whitespace runs
        int[] limits = {40, 100, 200};
        for (int t = 0; t < posts.size(); t++) {
            Prompt.Reddit p = new Prompt.Reddit("test", "A title", posts.get(t));
            int max = limits[t % limits.length];
            assertThat(searched(p, max)).as("post %d at %d tokens", t, max).isEqualTo(stepByStep(p, max));
        }
    }

    @Test
    void aLongSinglePostKeepsTheLongestCutThatFits() {
        SplittableRandom rng = new SplittableRandom(3);
        String[] words = {"the", "cat", "ate", "my", "homework", "and", "then", "I", "was", "really", "upset", "about"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 100_000) {
            sb.append(words[rng.nextInt(words.length)]).append(' ');
        }
        String post = sb.toString().trim();
        Prompt.Reddit p = new Prompt.Reddit("test", "A long post", post);
        EncodedQuery q = new TldrTask(tok, TaskConfig.DEFAULT).encodeQuery(p);
        assertThat(q.truncated()).isTrue();
        assertThat(q.length()).isLessThanOrEqualTo(512);
        assertThat(q.ids()).isEqualTo(tok.encode(q.text()));
        String kept = q.text().substring(q.text().indexOf("POST: ") + 6, q.text().length() - "\n\nTL;DR:".length());
        assertThat(post).startsWith(kept);
        assertThat(post.charAt(kept.length())).isEqualTo(' ');
        // the next longer cut (one more word) does not fit
        int next = post.indexOf(' ', kept.length() + 1);
        assertThat(tok.encode(p.format(post.substring(0, next))).length).isGreaterThan(512);
    }
}
