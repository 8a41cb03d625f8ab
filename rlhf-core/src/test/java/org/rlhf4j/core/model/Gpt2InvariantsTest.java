package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KV cache, left padding, save/reload and scalar-head invariants of the GPT-2 implementation. */
class Gpt2InvariantsTest {

    static NDManager manager;
    static Gpt2 model;
    static final Gpt2Config CFG = Gpt2Config.of(97, 64, 32, 2, 4);

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        model = Gpt2.random(CFG, manager, 7);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    private static NDArray ids(NDManager m, long[][] rows) {
        int t = rows[0].length;
        long[] flat = new long[rows.length * t];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * t, t);
        }
        return m.create(flat, new Shape(rows.length, t));
    }

    @Test
    void kvCacheDecodingEqualsFullForward() {
        try (NDManager m = manager.newSubManager();
                KvCache cache = new KvCache(CFG.nLayer())) {
            // two sequences, the second left-padded by 3
            long[][] full = {{5, 9, 11, 3, 40, 41, 42, 43, 44, 45}, {0, 0, 0, 7, 8, 9, 50, 51, 52, 53}};
            float[][] maskRows = {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1, 1, 1, 1, 1}};
            NDArray allIds = ids(m, full);
            NDArray allMask = m.create(maskRows);
            NDArray reference = model.forward(allIds, allMask);
            int prompt = 6;
            NDArray first = model.logits(model.hidden(
                    allIds.get(new NDIndex(":, :" + prompt)), allMask.get(new NDIndex(":, :" + prompt)), cache));
            // compare real positions only: a padding query attends to nothing real and its output is unused
            NDArray realMask = allMask.get(new NDIndex(":, :" + prompt)).expandDims(-1);
            assertThat(maxAbsDiff(first.mul(realMask), reference.get(new NDIndex(":, :" + prompt + ", :")).mul(realMask)))
                    .isLessThan(1e-5);
            for (int t = prompt; t < 10; t++) {
                NDArray step = model.logits(model.hidden(
                        allIds.get(new NDIndex(":, " + t + ":" + (t + 1))),
                        allMask.get(new NDIndex(":, " + t + ":" + (t + 1))), cache));
                assertThat(maxAbsDiff(step, reference.get(new NDIndex(":, " + t + ":" + (t + 1) + ", :"))))
                        .as("position %d", t).isLessThan(1e-5);
            }
            assertThat(cache.length()).isEqualTo(10);
        }
    }

    @Test
    void leftPaddingDoesNotChangeLogits() {
        try (NDManager m = manager.newSubManager()) {
            long[][] plain = {{12, 13, 14, 15, 16}};
            NDArray a = model.forward(ids(m, plain), m.ones(new Shape(1, 5)));
            for (int pad : new int[] {1, 4, 9}) {
                long[] row = new long[5 + pad];
                float[] mk = new float[5 + pad];
                for (int i = 0; i < pad; i++) {
                    row[i] = 96; // garbage pad id
                }
                for (int i = 0; i < 5; i++) {
                    row[pad + i] = plain[0][i];
                    mk[pad + i] = 1;
                }
                NDArray b = model.forward(ids(m, new long[][] {row}), m.create(mk, new Shape(1, 5 + pad)));
                NDArray real = b.get(new NDIndex(":, " + pad + ":, :"));
                assertThat(maxAbsDiff(a, real)).as("pad %d", pad).isLessThan(1e-5);
                assertThat(b.isNaN().any().getBoolean()).isFalse();
            }
        }
    }

    @Test
    void savedAndReloadedModelGivesBitIdenticalLogits(@TempDir Path dir) throws Exception {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = ids(m, new long[][] {{1, 2, 3, 4, 5, 6}});
            NDArray mask = m.ones(x.getShape());
            float[] before = model.forward(x, mask).toFloatArray();
            model.save(dir);
            try (Gpt2 again = Gpt2.load(dir, m)) {
                float[] after = again.forward(x, mask).toFloatArray();
                assertThat(after).containsExactly(before);
                assertThat(again.config()).isEqualTo(Gpt2Config.read(dir.resolve("config.json")));
            }
        }
    }

    @Test
    void randomInitIsSeededAndFollowsHfStatistics() {
        try (NDManager m = manager.newSubManager();
                Gpt2 a = Gpt2.random(CFG, m, 3);
                Gpt2 b = Gpt2.random(CFG, m, 3);
                Gpt2 c = Gpt2.random(CFG, m, 4)) {
            NDArray wa = a.weights().get("transformer.wte.weight");
            assertThat(wa.toFloatArray()).containsExactly(b.weights().get("transformer.wte.weight").toFloatArray());
            assertThat(wa.toFloatArray()).isNotEqualTo(c.weights().get("transformer.wte.weight").toFloatArray());
            Gpt2Config big = Gpt2Config.of(1000, 64, 64, 8, 4);
            try (Gpt2 g = Gpt2.random(big, m, 1)) {
                double std = std(g.weights().get("transformer.wte.weight").toFloatArray());
                double projStd = std(g.weights().get("transformer.h.0.mlp.c_proj.weight").toFloatArray());
                assertThat(std).isBetween(0.019, 0.021);
                assertThat(projStd).isBetween(0.02 / 4 * 0.95, 0.02 / 4 * 1.05); // 0.02 / sqrt(2 * 8)
                assertThat(g.weights().get("transformer.h.0.ln_1.weight").toFloatArray()).containsOnly(1f);
            }
            assertThat(a.weights().count()).isEqualTo(CFG.parameterCount());
        }
    }

    @Test
    void scalarModelScoresTheLastRealToken() {
        try (NDManager m = manager.newSubManager();
                ScalarModel rm = ScalarModel.fromLm(model, m, 5)) {
            // prompt left-padded, response right-padded: last real token at index 4 for row 0, 6 for row 1
            long[][] rows = {{0, 0, 5, 6, 7, 0, 0}, {3, 4, 5, 6, 7, 8, 9}};
            float[][] mk = {{0, 0, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1, 1}};
            NDArray x = ids(m, rows);
            NDArray mask = m.create(mk);
            float[] scores = rm.score(x, mask).toFloatArray();
            float[][] values = new float[2][];
            NDArray v = rm.values(x, mask);
            values[0] = v.get(0).toFloatArray();
            values[1] = v.get(1).toFloatArray();
            assertThat(scores[0]).isEqualTo(values[0][4]);
            assertThat(scores[1]).isEqualTo(values[1][6]);
            assertThat(ScalarModel.lastRealIndex(mask).toLongArray()).containsExactly(4, 6);
            rm.setBias(2.5f);
            float[] shifted = rm.score(x, mask).toFloatArray();
            assertThat(shifted[0] - scores[0]).isCloseTo(2.5f, org.assertj.core.api.Assertions.within(1e-5f));
        }
    }

    @Test
    void scalarModelSavesAndLoads(@TempDir Path dir) throws Exception {
        try (NDManager m = manager.newSubManager();
                ScalarModel rm = ScalarModel.random(CFG, m, 11)) {
            rm.setBias(-0.75f);
            rm.save(dir);
            NDArray x = ids(m, new long[][] {{1, 2, 3}});
            NDArray mask = m.ones(x.getShape());
            try (ScalarModel again = ScalarModel.load(dir, m, 0)) {
                assertThat(again.bias()).isEqualTo(-0.75f);
                assertThat(again.score(x, mask).toFloatArray()).containsExactly(rm.score(x, mask).toFloatArray());
            }
            // a plain LM directory gets a fresh head
            Path lmDir = dir.resolve("lm");
            java.nio.file.Files.createDirectories(lmDir);
            model.save(lmDir);
            try (ScalarModel fresh = ScalarModel.load(lmDir, m, 42)) {
                assertThat(fresh.bias()).isZero();
                assertThat(fresh.weights().get(ScalarModel.HEAD_WEIGHT).getShape()).isEqualTo(new Shape(1, 32));
            }
        }
    }

    static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    static double std(float[] v) {
        double mean = 0;
        for (float x : v) {
            mean += x;
        }
        mean /= v.length;
        double var = 0;
        for (float x : v) {
            var += (x - mean) * (x - mean);
        }
        return Math.sqrt(var / v.length);
    }
}
