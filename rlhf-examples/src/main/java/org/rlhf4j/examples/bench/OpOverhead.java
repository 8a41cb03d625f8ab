package org.rlhf4j.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.LrSchedule;
import org.rlhf4j.core.train.Updater;

/**
 * Measures the fixed cost of one DJL op on a tiny tensor ({@code [4,4]} fp32, where arithmetic is negligible) in the
 * ways rlhf4j runs ops: plain, inside an {@link NDScope}, on a per-step sub-manager with {@code tempAttachAll}, under a
 * {@link GradientCollector}, with a Java scalar operand, and the cost of the shape, data type and host-sync queries.
 * Prints one line per case: microseconds per op (median of 5 rounds of {@code n} ops).
 *
 * <pre>java -cp "rlhf-examples/target/rlhf-examples-*.jar:rlhf-examples/target/lib/*" \
 *     org.rlhf4j.examples.bench.OpOverhead [n [MODEL_DIR]]</pre>
 *
 * <p>With a model directory it also times the optimizer tail ({@link Updater#step}) on that model's parameters against
 * the per-tensor form it replaced.
 *
 * <p>scripts/compare/op_overhead.py measures the same cases in PyTorch for comparison.
 */
public final class OpOverhead {

    private OpOverhead() {}

    /** One measured case: runs {@code n} ops. */
    @FunctionalInterface
    private interface Case {
        void run(int n);
    }

    /**
     * Runs the cases and prints µs per op.
     *
     * @param args optional number of ops per round (default 20000), optional model directory
     */
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        if (n <= 0) {
            throw new IllegalArgumentException("n must be > 0, got " + n);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        try (NDManager base = NDManager.newBaseManager()) {
            NDArray a = base.randomNormal(new Shape(4, 4));
            NDArray b = base.randomNormal(new Shape(4, 4));
            NDScope.unregister(a, b);
            Map<String, Case> cases = new LinkedHashMap<>();
            cases.put("add, closed at once", k -> {
                for (int i = 0; i < k; i++) {
                    a.add(b).close();
                }
            });
            cases.put("add, step sub-manager closed per 100 ops", k -> {
                for (int i = 0; i < k; i += 100) {
                    try (NDManager sub = base.newSubManager()) {
                        for (int j = 0; j < 100; j++) {
                            a.add(b).attach(sub);
                        }
                    }
                }
            });
            cases.put("add, result in base manager, closed per 100 ops", k -> {
                NDArray[] rs = new NDArray[100];
                for (int i = 0; i < k; i += 100) {
                    for (int j = 0; j < 100; j++) {
                        rs[j] = a.add(b);
                    }
                    for (NDArray r : rs) {
                        r.close();
                    }
                }
            });
            cases.put("add, in NDScope of 100 ops", k -> {
                for (int i = 0; i < k; i += 100) {
                    try (NDScope s = new NDScope()) {
                        for (int j = 0; j < 100; j++) {
                            a.add(b);
                        }
                    }
                }
            });
            cases.put("add, tempAttachAll'd sub-manager of 100 ops", k -> {
                for (int i = 0; i < k; i += 100) {
                    try (NDManager sub = base.newSubManager()) {
                        sub.tempAttachAll(a, b);
                        for (int j = 0; j < 100; j++) {
                            a.add(b);
                        }
                    }
                }
            });
            cases.put("add(Number 1f) (Java scalar: manager.create + op)", k -> {
                for (int i = 0; i < k; i++) {
                    a.add(1f).close();
                }
            });
            cases.put("TensorOps.add(x, 1.0) (torch.full scalar + op)", k -> {
                for (int i = 0; i < k; i += 100) {
                    try (NDScope s = new NDScope()) {
                        for (int j = 0; j < 100; j++) {
                            TensorOps.add(a, 1.0);
                        }
                    }
                }
            });
            NDArray big = base.randomUniform(0, 1, new Shape(924, 32));
            NDScope.unregister(big);
            cases.put("sqrt [4,4]", k -> {
                for (int i = 0; i < k; i++) {
                    a.abs().sqrt().close();
                }
            });
            cases.put("sqrt [924,32]", k -> {
                for (int i = 0; i < k; i++) {
                    big.sqrt().close();
                }
            });
            cases.put("exp [924,32]", k -> {
                for (int i = 0; i < k; i++) {
                    big.exp().close();
                }
            });
            cases.put("add [924,32]", k -> {
                for (int i = 0; i < k; i++) {
                    big.add(big).close();
                }
            });
            cases.put("addi (in place)", k -> {
                NDArray c = a.duplicate();
                for (int i = 0; i < k; i++) {
                    c.addi(b);
                }
                c.close();
            });
            cases.put("getShape+getDataType of a fresh result (beyond the op)", k -> {
                for (int i = 0; i < k; i++) {
                    try (NDArray r = a.add(b)) {
                        r.getShape();
                        r.getDataType();
                    }
                }
            });
            cases.put("sum().getFloat() (op + host sync)", k -> {
                for (int i = 0; i < k; i++) {
                    try (NDArray r = a.sum()) {
                        r.getFloat();
                    }
                }
            });
            cases.put("manager.create(float[16], shape)", k -> {
                float[] d = new float[16];
                for (int i = 0; i < k; i++) {
                    base.create(d, new Shape(4, 4)).close();
                }
            });
            out.putAll(measure(cases, n));

            // autograd: a leaf that requires grad, ops recorded by the collector
            NDArray w = a.duplicate();
            NDScope.unregister(w);
            w.setRequiresGradient(true);
            Map<String, Case> grad = new LinkedHashMap<>();
            grad.put("add under GradientCollector (recorded)", k -> {
                for (int i = 0; i < k; i += 100) {
                    try (GradientCollector gc = base.getEngine().newGradientCollector();
                            NDManager sub = base.newSubManager()) {
                        for (int j = 0; j < 100; j++) {
                            w.add(b).attach(sub);
                        }
                    }
                }
            });
            out.putAll(measure(grad, n));

            // one AdamW update of a [4,4] tensor: the Java 14-op form vs DJL's one-call native adamUpdate
            NDArray p = a.duplicate();
            NDArray g = b.duplicate();
            NDArray m = base.zeros(new Shape(4, 4), DataType.FLOAT32);
            NDArray v = base.zeros(new Shape(4, 4), DataType.FLOAT32);
            NDScope.unregister(p, g, m, v);
            Map<String, Case> adam = new LinkedHashMap<>();
            adam.put("AdamW per tensor, 14 Java ops (per update)", k -> {
                for (int i = 0; i < k; i += 10) {
                    try (NDScope s = new NDScope()) {
                        for (int j = 0; j < 10; j++) {
                            m.muli(0.9f).addi(g.mul(0.1f));
                            v.muli(0.999f).addi(g.square().muli(0.001f));
                            NDArray denom = v.div(0.5f).sqrt().addi(1e-8f);
                            p.subi(m.div(0.5f).divi(denom).muli(1e-4f));
                        }
                    }
                }
            });
            adam.put("AdamW per tensor, 14 ops on pre-made native scalars", k -> {
                try (NDScope outer = new NDScope()) {
                    NDArray b1 = TensorOps.scalar(m, 0.9);
                    NDArray c1 = TensorOps.scalar(m, 0.1);
                    NDArray b2 = TensorOps.scalar(m, 0.999);
                    NDArray c2 = TensorOps.scalar(m, 0.001);
                    NDArray bc = TensorOps.scalar(m, 0.5);
                    NDArray e = TensorOps.scalar(m, 1e-8);
                    NDArray lr = TensorOps.scalar(m, 1e-4);
                    for (int i = 0; i < k; i += 10) {
                        try (NDScope s = new NDScope()) {
                            for (int j = 0; j < 10; j++) {
                                m.muli(b1).addi(g.mul(c1));
                                v.muli(b2).addi(g.square().muli(c2));
                                NDArray denom = v.div(bc).sqrt().addi(e);
                                p.subi(m.div(bc).divi(denom).muli(lr));
                            }
                        }
                    }
                }
            });
            adam.put("AdamW per tensor, JniUtils.adamUpdate (per update)", k -> {
                for (int i = 0; i < k; i++) {
                    JniUtils.adamUpdate((PtNDArray) p, (PtNDArray) g, (PtNDArray) m, (PtNDArray) v, 1e-4f, 1e-4f, 0f, 1f,
                            -1f, 0.9f, 0.999f, 1e-8f, true);
                }
            });
            out.putAll(measure(adam, n / 10));
        }
        out.forEach((k, us) -> System.out.printf(Locale.ROOT, "%-58s %8.2f us%n", k, us));
        if (args.length > 1) {
            optimizerTail(Path.of(args[1]));
        }
    }

    /**
     * Times the end of a training step on a model's parameters: {@link Updater#step} (clip, guard, AdamW, zero,
     * weight guard) against the per-tensor form it replaced (Java {@code Number} scalars, one host read per tensor
     * for the norm, {@code set(..., 0)}), alternating the two, 5 rounds of 20 steps each; prints the medians.
     */
    private static void optimizerTail(Path modelDir) {
        try (NDManager mgr = NDManager.newBaseManager(); CausalLm lm = CausalLm.load(modelDir, mgr)) {
            Weights w = lm.weights();
            w.setRequiresGradient(true);
            try (GradientCollector gc = mgr.getEngine().newGradientCollector(); NDScope s = new NDScope()) {
                NDArray loss = null;
                for (NDArray p : w.arrays()) {
                    loss = loss == null ? p.square().sum() : loss.add(p.square().sum());
                }
                gc.backward(loss);
            }
            AdamW opt = AdamW.of(w, 0.01);
            Updater updater = new Updater(opt, new LrSchedule.Constant(1e-4, 0), 1.0, 0);
            Map<String, NDArray> m1 = new LinkedHashMap<>();
            Map<String, NDArray> v1 = new LinkedHashMap<>();
            try (NDManager state = mgr.newSubManager()) {
                w.asMap().forEach((k, p) -> {
                    m1.put(k, state.zeros(p.getShape()));
                    v1.put(k, state.zeros(p.getShape()));
                });
                NDScope.unregister(new ai.djl.ndarray.NDList(m1.values()));
                NDScope.unregister(new ai.djl.ndarray.NDList(v1.values()));
                int steps = 20;
                double[][] before = new double[2][5];
                double[][] after = new double[2][5];
                long[] t = {0};
                java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                for (int r = -1; r < 5; r++) {
                    long t0 = System.nanoTime();
                    long c0 = mx.getCurrentThreadCpuTime();
                    for (int i = 0; i < steps; i++) {
                        oldTail(w, m1, v1, ++t[0], opt);
                    }
                    long t1 = System.nanoTime();
                    long c1 = mx.getCurrentThreadCpuTime();
                    for (int i = 0; i < steps; i++) {
                        updater.step(w, 1.0);
                    }
                    long t2 = System.nanoTime();
                    long c2 = mx.getCurrentThreadCpuTime();
                    if (r >= 0) {
                        before[0][r] = (t1 - t0) / 1e3 / steps;
                        after[0][r] = (t2 - t1) / 1e3 / steps;
                        before[1][r] = (c1 - c0) / 1e3 / steps;
                        after[1][r] = (c2 - c1) / 1e3 / steps;
                    }
                }
                for (double[] d : new double[][] {before[0], before[1], after[0], after[1]}) {
                    java.util.Arrays.sort(d);
                }
                String n = "optimizer tail, " + w.asMap().size() + " tensors: ";
                System.out.printf(Locale.ROOT, "%-58s %8.2f us wall, %8.2f us main-thread CPU%n",
                        n + "per-tensor form (before)", before[0][2], before[1][2]);
                System.out.printf(Locale.ROOT, "%-58s %8.2f us wall, %8.2f us main-thread CPU%n",
                        n + "Updater.step (now)", after[0][2], after[1][2]);
            }
            opt.close();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The optimizer tail as written before (the reference of FewerOpsEquivalenceTest). */
    private static void oldTail(Weights w, Map<String, NDArray> m, Map<String, NDArray> v, long t, AdamW decay) {
        double sq = 0;
        try (NDScope scope = new NDScope()) {
            for (NDArray p : w.arrays()) {
                sq += p.getGradient().square().sum().getFloat();
            }
            double norm = Math.sqrt(sq);
            if (norm > 1.0) {
                float scale = (float) (1.0 / (norm + 1e-6));
                w.arrays().forEach(p -> p.getGradient().muli(scale));
            }
            float bc1 = (float) (1 - Math.pow(0.9, t));
            float bc2 = (float) (1 - Math.pow(0.999, t));
            for (Map.Entry<String, NDArray> e : w.asMap().entrySet()) {
                NDArray p = e.getValue();
                NDArray g = p.getGradient();
                NDArray mi = m.get(e.getKey());
                NDArray vi = v.get(e.getKey());
                if (decay.decays(e.getKey())) {
                    p.muli((float) (1 - 1e-4 * 0.01));
                }
                mi.muli(0.9f).addi(g.mul((float) (1 - 0.9)));
                vi.muli(0.999f).addi(g.square().muli((float) (1 - 0.999)));
                NDArray denom = vi.div(bc2).sqrt().addi(1e-8f);
                p.subi(mi.div(bc1).divi(denom).muli(1e-4f));
            }
            w.arrays().forEach(p -> p.getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0f));
        }
        TensorOps.firstNonFinite(w.asMap()); // the old per-tensor cast form is gone; this is the current one
    }

    private static Map<String, Double> measure(Map<String, Case> cases, int n) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Case> e : cases.entrySet()) {
            e.getValue().run(n); // warm-up (JIT)
            double[] t = new double[5];
            for (int r = 0; r < t.length; r++) {
                long t0 = System.nanoTime();
                e.getValue().run(n);
                t[r] = (System.nanoTime() - t0) / 1e3 / n;
            }
            java.util.Arrays.sort(t);
            out.put(e.getKey(), t[t.length / 2]);
        }
        return out;
    }
}
