package org.rlhf4j.algorithms;

import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;

/** Encoded bundled TL;DR rows for algorithm tests (short queries keep tests fast). */
public final class TestData {

    private TestData() {}

    /** The task used by tests: 128-token queries, reference limits for responses. */
    public static TldrTask task(Tokenizer tok) {
        return new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(128).build());
    }

    /** Encoded SFT rows of a bundled split; rows over the limits are skipped (counted by the caller if needed). */
    public static List<Encoded.Sft> sft(Tokenizer tok, String split) {
        TldrTask task = task(tok);
        List<Encoded.Sft> out = new ArrayList<>();
        for (SftExample e : BundledTldr.sft(split)) {
            try {
                out.add(task.encodeSft(e));
            } catch (TaskLimitException ex) {
                // over the response limit: not part of the SFT set (as in the references' filtering)
            }
        }
        return out;
    }

    /** Encoded preference pairs of a bundled split. */
    public static List<Encoded.Pair> pairs(Tokenizer tok, String split) {
        TldrTask task = task(tok);
        List<Encoded.Pair> out = new ArrayList<>();
        for (PreferencePair p : BundledTldr.pairs(split)) {
            try {
                out.add(task.encodePair(p));
            } catch (TaskLimitException ex) {
                // skipped
            }
        }
        return out;
    }
}
