package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.TldrTask;

class ModelEmbedderTest {

    /** The mean over one unpadded sequence's hidden states, by hand. */
    static double[] meanHidden(CausalLm lm, NDManager m, int[] ids) {
        long[] l = new long[ids.length];
        float[] mask = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
            mask[i] = 1;
        }
        NDArray h = lm.hidden(m.create(l).expandDims(0), m.create(mask).expandDims(0), null);
        float[] v = h.toFloatArray();
        int d = (int) h.getShape().get(2);
        double[] out = new double[d];
        for (int t = 0; t < ids.length; t++) {
            for (int j = 0; j < d; j++) {
                out[j] += v[t * d + j] / ids.length;
            }
        }
        return out;
    }

    /**
     * A short row batched with a long one (so it is padded): its embedding equals normalise(mean over query+chosen+EOS
     * + mean over query+rejected+EOS) computed on the unpadded sequences, and is symmetric in the responses.
     */
    @Test
    void maskAwareMeanOfBothResponsesMatchesUnpaddedSequences() throws Exception {
        PlantedPreferences data = PlantedPreferences.generate(1, 0, 0, 0, 0, 0, 2, 1, 1);
        Tokenizer tok = data.tokenizer();
        TldrTask task = TldrTask.builder().setTokenizer(tok).build();
        ReductionRow shortRow = ReductionRow.of(1, "t0_1 f2", " g0", " f3 b0 f4");
        ReductionRow longRow = ReductionRow.of(2, "t1_1 t1_2 t1_3 t1_4 f5 f6 f7", " f1 f2 f3 g1", " b1");
        try (NDManager m = NDManager.newBaseManager();
                CausalLm lm = CausalLm.random(Gpt2Config.of(tok.vocabSize(), 32, 16, 1, 2), m, 5)) {
            ModelEmbedder e = new ModelEmbedder(lm, m, task, 8, "tiny");
            double[][] v = e.embed(List.of(shortRow, longRow));
            int[] q = tok.encode(shortRow.prompt());
            double[] mc = meanHidden(lm, m, concat(q, tok.encode(shortRow.chosen()), 0));
            double[] mr = meanHidden(lm, m, concat(q, tok.encode(shortRow.rejected()), 0));
            double[] want = new double[mc.length];
            for (int j = 0; j < want.length; j++) {
                want[j] = mc[j] + mr[j];
            }
            Embedder.normalize(want);
            assertThat(v[0]).containsExactly(want, within(1e-5));
            double[][] swapped = e.embed(List.of(ReductionRow.of(1, shortRow.prompt(), shortRow.rejected(),
                    shortRow.chosen())));
            assertThat(swapped[0]).containsExactly(v[0], within(1e-5));
            assertThat(e.describe()).isEqualTo("model-mean-hidden(tiny)");
        }
    }

    /** The judge's margin is r(chosen) − r(rejected) of the scalar model, and flags only below −threshold. */
    @Test
    void judgeMarginsAndFlags() throws Exception {
        PlantedPreferences data = PlantedPreferences.generate(1, 0, 0, 0, 0, 0, 2, 1, 1);
        Tokenizer tok = data.tokenizer();
        TldrTask task = TldrTask.builder().setTokenizer(tok).build();
        List<ReductionRow> rows = List.of(ReductionRow.of(3, "t0_1 f2", " g0", " f3 b0 f4"),
                ReductionRow.of(7, "t1_1", " f1 g1", " b1"));
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(Gpt2Config.of(tok.vocabSize(), 32, 16, 1, 2), m, 9)) {
            RewardModelJudge j = new RewardModelJudge(rm, task, 1, "rm");
            double[] mg = j.margins(rows);
            for (int i = 0; i < rows.size(); i++) {
                int[] q = tok.encode(rows.get(i).prompt());
                double c = score(rm, m, concat(q, tok.encode(rows.get(i).chosen()), 0));
                double r = score(rm, m, concat(q, tok.encode(rows.get(i).rejected()), 0));
                assertThat(mg[i]).isCloseTo(c - r, within(1e-5));
            }
            double t = Math.abs(mg[0]) / 2 + Math.abs(mg[1]) / 2; // between the two |margins| unless equal
            ReductionReport.JudgeFlags f = j.flag(rows, 0);
            assertThat(f.scored()).isEqualTo(2);
            assertThat(f.flagged()).hasSize((mg[0] < 0 ? 1 : 0) + (mg[1] < 0 ? 1 : 0));
            assertThat(f.agreement()).isEqualTo(((mg[0] > 0 ? 1 : 0) + (mg[1] > 0 ? 1 : 0)) / 2.0);
            ReductionReport.JudgeFlags g = j.flag(rows, t);
            assertThat(g.flagged()).allMatch(x -> x.margin() < -t);
            assertThat(j.flag(rows, 1e9).flagged()).isEmpty();
        }
    }

    static double score(ScalarModel rm, NDManager m, int[] ids) {
        long[] l = new long[ids.length];
        float[] mask = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
            mask[i] = 1;
        }
        return rm.score(m.create(l).expandDims(0), m.create(mask).expandDims(0)).toFloatArray()[0];
    }

    static int[] concat(int[] q, int[] r, int eos) {
        int[] out = new int[q.length + r.length + 1];
        System.arraycopy(q, 0, out, 0, q.length);
        System.arraycopy(r, 0, out, q.length, r.length);
        out[out.length - 1] = eos;
        return out;
    }
}
