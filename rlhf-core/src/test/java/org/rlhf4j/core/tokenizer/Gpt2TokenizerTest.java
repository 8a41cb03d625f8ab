package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.ModelFormatException;

class Gpt2TokenizerTest {

    static HfTokenizer tok;

    @BeforeAll
    static void open() {
        tok = Gpt2Tokenizers.bundled();
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void helloWorldIsGpt2Ids() {
        assertThat(tok.encode("Hello world")).containsExactly(15496, 995);
        assertThat(tok.vocabSize()).isEqualTo(50257);
        assertThat(tok.eosTokenId()).isEqualTo(50256);
    }

    @Test
    void knownEncodings() {
        // GPT-2 ids, checked against OpenAI's encoder: " TL;DR:" and the EOS literal
        assertThat(tok.encode("<|endoftext|>")).containsExactly(50256);
        assertThat(tok.encode(" hello<|endoftext|>")).containsExactly(23748, 50256);
        assertThat(tok.encode("TL;DR:")).containsExactly(14990, 26, 7707, 25);
    }

    @Test
    void utf8RoundTrip() {
        String[] texts = {
            "héllo wörld — ünïcödé", "日本語のテキスト", "emoji 🤖🚀 and\ttabs\nnewlines  double  spaces",
            "mixed: Ελληνικά, русский, العربية", "  leading and trailing  ", ""
        };
        for (String t : texts) {
            assertThat(tok.decode(tok.encode(t))).isEqualTo(t);
        }
    }

    @Test
    void neverTruncates() {
        String longText = "word ".repeat(3000);
        int[] ids = tok.encode(longText);
        assertThat(ids.length).isGreaterThan(2900);
        assertThat(tok.decode(ids)).isEqualTo(longText);
    }

    @Test
    void batchEncodingEqualsSingle() {
        var texts = java.util.List.of("a b c", "SUBREDDIT: r/test", "Hello world");
        var batch = tok.encodeAll(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(batch.get(i)).containsExactly(tok.encode(texts.get(i)));
        }
    }

    @Test
    void decodeCanSkipSpecialTokens() {
        int[] ids = {15496, 995, 50256};
        assertThat(tok.decode(ids)).isEqualTo("Hello world<|endoftext|>");
        assertThat(tok.decode(ids, true)).isEqualTo("Hello world");
    }

    @Test
    void savedJsonLoadsBack(@TempDir Path dir) throws Exception {
        tok.save(dir);
        try (HfTokenizer t2 = HfTokenizer.load(dir.resolve("tokenizer.json"))) {
            assertThat(t2.encode("Hello world")).containsExactly(15496, 995);
        }
    }

    @Test
    void badFilesNameTheFile(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("tokenizer.json");
        Files.writeString(bad, "{not json");
        assertThatThrownBy(() -> HfTokenizer.load(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(bad.toString());
        assertThatThrownBy(() -> HfTokenizer.load(dir.resolve("missing.json")))
                .hasMessageContaining("missing.json").hasMessageContaining("not found");
        Path merges = dir.resolve("merges.txt");
        Files.writeString(merges, "#version: 0.2\na b c\n");
        Path vocab = dir.resolve("vocab.json");
        Files.writeString(vocab, "{\"a\":0,\"b\":1,\"ab\":2,\"<|endoftext|>\":3}");
        assertThatThrownBy(() -> Gpt2Tokenizers.fromFiles(vocab, merges)).hasMessageContaining("merges line 2");
    }
}
