package org.rlhf4j.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.Checkpoint;

class CompactVocabTokenizerTest {

    @Test
    void renumbersSeenTokensAndRoundTripsThroughACheckpoint(@TempDir Path dir) throws Exception {
        try (CompactVocabTokenizer t = CompactVocabTokenizer.fromTexts(Gpt2Tokenizers.bundled(),
                List.of("Hello world", " the cat sat"))) {
            // seen base ids: 262 ( the), 3797 ( cat), 3332 ( sat), 995 ( world), 15496 (Hello), 50256 (EOS), in id order
            assertThat(t.vocabSize()).isEqualTo(7); // 6 ids + unknown
            assertThat(t.encode("Hello world")).containsExactly(4, 1);
            assertThat(t.eosTokenId()).isEqualTo(5);
            assertThat(t.decode(t.encode(" the cat sat world"))).isEqualTo(" the cat sat world");
            int[] unknown = t.encode(" zebra");
            assertThat(unknown).containsOnly(t.unknownId());
            assertThat(t.decode(new int[] {4, t.unknownId(), 1})).isEqualTo("Hello world");
            t.save(dir);
            assertThat(dir.resolve("tokenizer.json")).exists();
            try (Tokenizer back = Checkpoint.tokenizerFor(dir)) {
                assertThat(back).isInstanceOf(CompactVocabTokenizer.class);
                assertThat(back.encode("Hello world")).containsExactly(4, 1);
                assertThat(back.vocabSize()).isEqualTo(7);
            }
        }
        Files.writeString(dir.resolve(CompactVocabTokenizer.FILE), "{\"base_vocab_size\": 50257, \"base_ids\": [1, 1]}");
        assertThatThrownBy(() -> Checkpoint.tokenizerFor(dir)).hasMessageContaining("vocab_map.json").hasMessageContaining("twice");
        Files.writeString(dir.resolve(CompactVocabTokenizer.FILE), "{\"base_vocab_size\": 50257, \"base_ids\": [1, 2]}");
        assertThatThrownBy(() -> Checkpoint.tokenizerFor(dir)).hasMessageContaining("EOS");
    }
}
