package org.rlhf4j.datasets.source;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.tokenizer.CompactVocabulary;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.Comparison;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.TldrData;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The compact vocabulary of the tiny preset: the GPT-2 tokens that its TL;DR training text uses. */
public final class TldrVocabulary {

    private static final Logger LOG = LoggerFactory.getLogger(TldrVocabulary.class);

    private TldrVocabulary() {}

    /**
     * Builds a compact vocabulary: every token of the base tokenizer that occurs in the bundled TL;DR texts (SFT
     * queries and references of all splits, comparison queries and responses) and in the SFT rows of another
     * source, queries truncated as training truncates them.
     *
     * @param base the GPT-2 tokenizer (closed here)
     * @param task token limits (queries are truncated as training will truncate them)
     * @param sft the SFT data: {@link DataSource.Bundled} adds nothing, {@link DataSource.Full} adds every SFT split,
     *     a {@link DataSource.File} its SFT rows (rows of other kinds are ignored)
     * @return the compact tokenizer (a {@code tokenizer.json} of its own; see {@link CompactVocabulary})
     * @throws IOException when the file is unreadable
     * @throws IllegalArgumentException when the full data is asked for but not downloaded
     */
    public static HfTokenizer compact(Tokenizer base, TaskConfig task, DataSource sft) throws IOException {
        TldrTask t = new TldrTask(base, task);
        List<String> texts = new ArrayList<>();
        List<SftExample> rows = new ArrayList<>();
        for (String split : BundledTldr.SFT_SPLITS) {
            rows.addAll(BundledTldr.sft(split));
        }
        if (sft instanceof DataSource.Full f) {
            TldrData d = f.data(false);
            for (String split : BundledTldr.SFT_SPLITS) {
                rows.addAll(d.sft(split));
            }
        } else if (sft instanceof DataSource.File f) {
            rows.addAll(f.sftRowsLenient());
        }
        for (SftExample e : rows) {
            texts.add(t.encodeQuery(e.prompt()).text());
            texts.add(e.completion());
        }
        List<PreferencePair> pairs = new ArrayList<>();
        for (String split : BundledTldr.PAIR_SPLITS) {
            pairs.addAll(BundledTldr.pairs(split));
        }
        for (Comparison c : BundledTldr.comparisons()) {
            pairs.add(c.toPair());
        }
        for (PreferencePair p : pairs) {
            texts.add(t.encodeQuery(p.prompt()).text());
            texts.add(p.chosen());
            texts.add(p.rejected());
        }
        int baseSize = base.vocabSize();
        HfTokenizer c = CompactVocabulary.fromTexts(base, texts);
        LOG.info("compact vocabulary: {} of {} GPT-2 tokens (those in {} texts and what spells them)", c.vocabSize(),
                baseSize, texts.size());
        return c;
    }
}
