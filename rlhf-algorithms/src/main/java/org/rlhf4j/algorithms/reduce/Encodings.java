package org.rlhf4j.algorithms.reduce;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.datasets.PreferencePair;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/** Encodes rows the way the {@code reward} command does, for the model embedder and the judge. */
final class Encodings {

    private Encodings() {}

    /**
     * Encodes a row as a pair: the parsed row through {@link TldrTask#pairSample}, or, for a text-only row, a
     * {@link PreferencePair} whose prompt is {@link Prompt#parse}d.
     */
    static Encoded.Pair encode(TldrTask task, ReductionRow r) {
        try {
            return r.row() != null ? task.pairSample(r.row())
                    : task.encodePair(new PreferencePair("line" + r.line(), "train", Prompt.parse(r.prompt()),
                            r.chosen(), r.rejected()));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("line " + r.line() + ": " + e.getMessage(), e);
        }
    }

    /** The (query, chosen) and (query, rejected) batches of some rows. */
    static ResponseBatch.Tensors[] tensors(NDManager m, List<Encoded.Pair> pairs, long pad) {
        List<int[]> q = new ArrayList<>();
        List<int[]> c = new ArrayList<>();
        List<int[]> r = new ArrayList<>();
        for (Encoded.Pair p : pairs) {
            q.add(p.query().ids());
            c.add(p.chosen());
            r.add(p.rejected());
        }
        return new ResponseBatch.Tensors[] {ResponseBatch.of(q, c, pad).toTensors(m),
            ResponseBatch.of(q, r, pad).toTensors(m)};
    }
}
