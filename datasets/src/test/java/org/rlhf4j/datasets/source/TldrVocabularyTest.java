package org.rlhf4j.datasets.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;

/** The tiny preset's compact tokenizer.json tokenizes all of its training text exactly as GPT-2 does. */
class TldrVocabularyTest {

    /** The tiny preset's token limits. */
    static final TaskConfig TINY = TaskConfig.builder().setMaxQueryTokens(128).build();

    @Test
    void everyBundledTextTokenizesAsGpt2Renumbered() throws Exception {
        try (HfTokenizer gpt2 = Gpt2Tokenizers.bundled();
                HfTokenizer compact = TldrVocabulary.compact(Gpt2Tokenizers.bundled(), TINY, new DataSource.Bundled())) {
            TldrTask task = new TldrTask(gpt2, TINY);
            List<String> texts = new ArrayList<>();
            for (String split : BundledTldr.SFT_SPLITS) {
                for (SftExample e : BundledTldr.sft(split)) {
                    texts.add(task.encodeQuery(e.prompt()).text() + e.completion() + Gpt2Tokenizers.EOS);
                }
            }
            List<PreferencePair> pairs = new ArrayList<>();
            for (String split : BundledTldr.PAIR_SPLITS) {
                pairs.addAll(BundledTldr.pairs(split));
            }
            for (Comparison c : BundledTldr.comparisons()) {
                pairs.add(c.toPair());
            }
            for (PreferencePair p : pairs) {
                texts.add(task.encodeQuery(p.prompt()).text() + p.chosen());
                texts.add(p.rejected());
            }
            Map<Integer, String> gpt2Tokens = new HashMap<>();
            Json.MAPPER.readTree(gpt2.json()).path("model").path("vocab").fields()
                    .forEachRemaining(e -> gpt2Tokens.put(e.getValue().asInt(), e.getKey()));
            JsonNode compactVocab = Json.MAPPER.readTree(compact.json()).path("model").path("vocab");
            int maxSeenId = -1;
            List<int[]> bases = gpt2.encodeAll(texts);
            List<int[]> got = compact.encodeAll(texts);
            for (int t = 0; t < texts.size(); t++) {
                int[] base = bases.get(t);
                int[] expected = new int[base.length];
                for (int i = 0; i < base.length; i++) {
                    expected[i] = compactVocab.get(gpt2Tokens.get(base[i])).asInt();
                    maxSeenId = Math.max(maxSeenId, expected[i]);
                }
                assertThat(got.get(t)).as(texts.get(t)).containsExactly(expected);
            }
            // the seen tokens come first; what only spells them (and the 256 bytes) after
            assertThat(compact.vocabSize()).isGreaterThan(maxSeenId + 256);
            assertThat(compact.eosTokenId()).isLessThanOrEqualTo(maxSeenId);
        }
    }
}
