package org.rlhf4j.algorithms.reduce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * The planted behaviour: on a redundant data set whose truth is known ({@link PlantedPreferences#standard}), a reward
 * model trained on the codebook's 25% is as accurate as one trained on every row and beats one trained on a random
 * 25% by more than the seeds' spread.
 */
class PlantedReductionTest {

    static final long[] SEEDS = {1, 2, 3};

    @Test
    void codebookQuarterMatchesFullAndBeatsRandomQuarter() throws Exception {
        PlantedPreferences data = PlantedPreferences.standard(7);
        Tokenizer tok = data.tokenizer();
        Gpt2Config cfg = Gpt2Config.of(tok.vocabSize(), 32, 32, 2, 4);
        ReductionBench bench = ReductionBench.builder().setTrain(data.train()).setHeldOut(data.heldOut())
                .setTokenizer(tok).setModels((m, seed) -> ScalarModel.random(cfg, m, seed))
                .optSteps(80).optCodebookSize(32)
                .optLearningRate(3e-3).build();
        List<Double> cb = new ArrayList<>();
        List<Double> rnd = new ArrayList<>();
        List<Double> full = new ArrayList<>();
        ReductionReport rep = bench.report(0.25, 1);
        System.out.printf("planted 25%%: %d rows -> %d kept; contradictory %d, exact duplicates %d, near-duplicates %d,"
                + " not selected %d%n", rep.inputRows(), rep.kept(), rep.contradictory().size(),
                rep.exactDuplicates().size(), rep.nearDuplicates().size(), rep.notSelected());
        assertThat(rep.contradictory()).hasSize(88); // 4 groups of 19 exact copies + 3 flipped
        long t0 = System.nanoTime();
        for (long s : SEEDS) {
            ReductionBench.Run c = bench.run(Selection.CODEBOOK, 0.25, s);
            ReductionBench.Run r = bench.run(Selection.RANDOM, 0.25, s);
            ReductionBench.Run f = bench.run(Selection.FULL, 1.0, s);
            // deterministic (no torch): the codebook covers every rare cluster, the random draw does not
            assertThat(data.coverage(c.lines(), 6)).isEqualTo(16);
            assertThat(c.rows()).isEqualTo(r.rows()).isEqualTo(216);
            cb.add(c.accuracy());
            rnd.add(r.accuracy());
            full.add(f.accuracy());
            System.out.printf("seed %d: codebook %d rows %.3f (rare clusters %d/16) | random %d rows %.3f (rare %d/16)"
                    + " | full %d rows %.3f%n", s, c.rows(), c.accuracy(), data.coverage(c.lines(), 6), r.rows(),
                    r.accuracy(), data.coverage(r.lines(), 6), f.rows(), f.accuracy());
        }
        System.out.printf("planted reduction bench: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        double cbMean = mean(cb);
        double rndMean = mean(rnd);
        double fullMean = mean(full);
        double spread = Math.max(range(cb), range(rnd));
        System.out.printf("means: codebook %.3f random %.3f full %.3f; spread %.3f%n", cbMean, rndMean, fullMean,
                spread);
        // measured on an Intel Xeon @ 2.5 GHz, 1 thread, busy machine: codebook 1.000, random 0.856-0.859
        // (seeds 0.823-0.923), full 0.979-0.989; the margins below leave slack for other CPUs and thread counts
        assertThat(cbMean).as("codebook 25%% within 2 points of the full set").isGreaterThanOrEqualTo(fullMean - 0.02);
        assertThat(cbMean - rndMean).as("codebook beats random by more than the seeds' spread").isGreaterThan(spread);
        assertThat(cb).allMatch(a -> a >= 0.95);
    }

    static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    static double range(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                - v.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }
}
