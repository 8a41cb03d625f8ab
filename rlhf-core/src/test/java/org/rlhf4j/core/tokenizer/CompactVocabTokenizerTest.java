package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.Checkpoint;

/** Directories written before compact vocabularies had a tokenizer.json of their own still load. */
class CompactVocabTokenizerTest {

    @Test
    void readsLegacyVocabMapDirectories(@TempDir Path dir) throws Exception {
        try (HfTokenizer gpt2 = Gpt2Tokenizers.bundled()) {
            gpt2.save(dir);
        }
        // base ids 262 ( the), 995 ( world), 3332 ( sat), 3797 ( cat), 15496 (Hello), 50256 (EOS); 6 = unknown
        Files.writeString(dir.resolve(CompactVocabTokenizer.FILE),
                "{\"base_vocab_size\":50257,\"unknown_id\":6,\"base_ids\":[262,995,3332,3797,15496,50256]}");
        try (Tokenizer t = Checkpoint.tokenizerFor(dir)) {
            assertThat(t).isInstanceOf(CompactVocabTokenizer.class);
            CompactVocabTokenizer c = (CompactVocabTokenizer) t;
            assertThat(t.vocabSize()).isEqualTo(7);
            assertThat(t.encode("Hello world")).containsExactly(4, 1);
            assertThat(t.eosTokenId()).isEqualTo(5);
            assertThat(t.decode(t.encode(" the cat sat world"))).isEqualTo(" the cat sat world");
            assertThat(t.encode(" zebra")).containsOnly(c.unknownId());
            assertThat(t.decode(new int[] {4, c.unknownId(), 1})).isEqualTo("Hello world");
            Path again = dir.resolve("again");
            Files.createDirectories(again);
            t.save(again);
            try (Tokenizer back = Checkpoint.tokenizerFor(again)) {
                assertThat(back).isInstanceOf(CompactVocabTokenizer.class);
                assertThat(back.encode("Hello world")).containsExactly(4, 1);
            }
        }
        Files.writeString(dir.resolve(CompactVocabTokenizer.FILE), "{\"base_vocab_size\": 50257, \"base_ids\": [1, 1]}");
        assertThatThrownBy(() -> Checkpoint.tokenizerFor(dir)).hasMessageContaining("vocab_map.json").hasMessageContaining("twice");
        Files.writeString(dir.resolve(CompactVocabTokenizer.FILE), "{\"base_vocab_size\": 50257, \"base_ids\": [1, 2]}");
        assertThatThrownBy(() -> Checkpoint.tokenizerFor(dir)).hasMessageContaining("EOS");
    }
}
