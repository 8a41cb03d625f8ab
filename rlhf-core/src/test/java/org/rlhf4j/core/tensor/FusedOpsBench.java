package org.rlhf4j.core.tensor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Timing harness of decision 0024 (not a test: runs only with {@code -Drlhf4j.bench=true}): forward + backward of
 * the fused ops against their DJL compositions, best of N, interleaved, in one JVM.
 */
@EnabledIfSystemProperty(named = "rlhf4j.bench", matches = "true")
class FusedOpsBench {

    private static final NDManager ROOT = NDManager.newBaseManager();

    private static PtSymbolBlock load(String resource) throws Exception {
        try (InputStream in = FusedOps.class.getResourceAsStream(resource)) {
            return JniUtils.loadModule((PtNDManager) ROOT, in, true, false);
        }
    }

    private static NDList call(PtSymbolBlock b, NDArray... xs) {
        return IValueUtils.forward(b, new NDList(xs), JniUtils.isGradMode());
    }

    private static void sync(NDArray a) {
        a.getFloat(new long[a.getShape().dimension()]);
    }

    /** Runs each candidate reps times round-robin; prints best and median in ms. */
    private static void compare(String title, int reps, Map<String, Runnable> candidates) {
        Map<String, List<Double>> times = new LinkedHashMap<>();
        candidates.keySet().forEach(k -> times.put(k, new ArrayList<>()));
        for (Runnable r : candidates.values()) {
            r.run(); // warm-up
        }
        for (int i = 0; i < reps; i++) {
            for (Map.Entry<String, Runnable> e : candidates.entrySet()) {
                long t0 = System.nanoTime();
                e.getValue().run();
                times.get(e.getKey()).add((System.nanoTime() - t0) / 1e6);
            }
        }
        System.out.println("== " + title + " (best / median of " + reps + ", ms)");
        times.forEach((k, v) -> {
            List<Double> s = v.stream().sorted().toList();
            System.out.printf(Locale.ROOT, "  %-28s %9.2f %9.2f%n", k, s.get(0), s.get(s.size() / 2));
        });
    }

    /** Forward + backward of sum(f(x) * g) w.r.t. x, in a sub-manager closed afterwards. */
    private static Runnable fwdBwd(NDArray x, NDArray g, Function<NDArray, NDArray> f) {
        return () -> {
            try (NDManager sub = x.getManager().newSubManager()) {
                NDArray xx = x.duplicate();
                xx.attach(sub);
                xx.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(f.apply(xx).mul(g).sum());
                }
                sync(xx.getGradient());
            }
        };
    }

    @Test
    void silu() throws Exception {
        PtSymbolBlock silu = load("silu.pt");
        PtSymbolBlock siluMul = load("silu_mul.pt");
        int reps = Integer.getInteger("rlhf4j.bench.reps", 9);
        try (NDManager m = ROOT.newSubManager()) {
            m.getEngine().setRandomSeed(1);
            for (Shape s : List.of(new Shape(2048, 1536), new Shape(64, 64))) {
                NDArray x = m.randomNormal(s);
                NDArray u = m.randomNormal(s);
                NDArray g = m.randomNormal(s);
                Map<String, Runnable> c = new LinkedHashMap<>();
                c.put("composed g*sigmoid(g)", fwdBwd(x, g, z -> z.mul(Activation.sigmoid(z))));
                c.put("scripted silu", fwdBwd(x, g, z -> call(silu, z).singletonOrThrow()));
                c.put("composed g*sig(g)*u", fwdBwd(x, g, z -> z.mul(Activation.sigmoid(z)).mul(u)));
                c.put("scripted silu(g)*u (2 calls)", fwdBwd(x, g, z -> call(silu, z).singletonOrThrow().mul(u)));
                c.put("scripted silu_mul", fwdBwd(x, g, z -> call(siluMul, z, u).singletonOrThrow()));
                compare("silu fwd+bwd " + s, s.get(0) > 64 ? reps : 200, c);
                Map<String, Runnable> f = new LinkedHashMap<>();
                f.put("fwd composed g*sig(g)*u", () -> { try (NDManager sub = m.newSubManager()) {
                    NDArray xx = x.duplicate(); xx.attach(sub); sync(xx.mul(Activation.sigmoid(xx)).mul(u)); } });
                f.put("fwd scripted silu_mul", () -> { try (NDManager sub = m.newSubManager()) {
                    NDArray xx = x.duplicate(); xx.attach(sub); sync(call(siluMul, xx, u).singletonOrThrow()); } });
                compare("silu fwd " + s, s.get(0) > 64 ? reps : 200, f);
            }
        }
    }

    @Test
    void tokenLogprobs() throws Exception {
        PtSymbolBlock lse = load("token_logprobs_lse.pt");
        PtSymbolBlock ce = load("token_logprobs.pt");
        PtSymbolBlock gather = load("token_logprobs_gather.pt");
        PtSymbolBlock both = load("logprobs_entropy.pt");
        int reps = Integer.getInteger("rlhf4j.bench.reps", 5);
        try (NDManager m = ROOT.newSubManager()) {
            m.getEngine().setRandomSeed(1);
            List<Shape> shapes = Boolean.getBoolean("rlhf4j.bench.bigOnly") ? List.of(new Shape(2048, 50257))
                    : List.of(new Shape(64, 924), new Shape(2048, 50257));
            for (Shape s : shapes) {
                long n = s.get(0);
                NDArray z = m.randomNormal(s).mul(3);
                NDArray y = m.randomInteger(0, s.get(1), new Shape(n), DataType.INT64);
                NDArray g = m.randomNormal(new Shape(n));
                NDArray g2 = m.randomNormal(new Shape(n));
                Map<String, Runnable> c = new LinkedHashMap<>();
                c.put("(c) DJL logSoftmax.gather", fwdBwd(z, g, zz -> TensorOps.tokenLogprobs(zz, y)));
                c.put("(a) scripted gather-lse", fwdBwd(z, g, zz -> call(lse, zz, y).singletonOrThrow()));
                c.put("(b) scripted -cross_entropy", fwdBwd(z, g, zz -> call(ce, zz, y).singletonOrThrow()));
                c.put("(c') scripted log_softmax.gather", fwdBwd(z, g, zz -> call(gather, zz, y).singletonOrThrow()));
                int r = n > 64 ? reps : 200;
                compare("token logprobs fwd+bwd " + s, r, c);
                Map<String, Runnable> e = new LinkedHashMap<>();
                e.put("DJL tokenLogprobs + entropy", fwdBwd(z, g, zz ->
                        TensorOps.tokenLogprobs(zz, y).add(TensorOps.entropy(zz).mul(g2))));
                e.put("scripted lse + DJL entropy", fwdBwd(z, g, zz ->
                        call(lse, zz, y).singletonOrThrow().add(TensorOps.entropy(zz).mul(g2))));
                e.put("scripted logprobs_entropy", fwdBwd(z, g, zz -> {
                    NDList o = call(both, zz, y);
                    return o.get(0).add(o.get(1).mul(g2));
                }));
                e.put("DJL one logSoftmax", fwdBwd(z, g, zz -> {
                    NDList o = FusedOps.tokenLogprobsAndEntropy(zz, y);
                    return o.get(0).add(o.get(1).mul(g2));
                }));
                compare("logprobs + entropy fwd+bwd " + s, r, e);
                Map<String, Runnable> f = new LinkedHashMap<>();
                f.put("fwd (c) DJL", () -> { try (NDManager sub = m.newSubManager()) {
                    NDArray zz = z.duplicate(); zz.attach(sub); sync(TensorOps.tokenLogprobs(zz, y)); } });
                f.put("fwd (a) lse", () -> { try (NDManager sub = m.newSubManager()) {
                    NDArray zz = z.duplicate(); zz.attach(sub); sync(call(lse, zz, y).singletonOrThrow()); } });
                f.put("fwd (b) ce", () -> { try (NDManager sub = m.newSubManager()) {
                    NDArray zz = z.duplicate(); zz.attach(sub); sync(call(ce, zz, y).singletonOrThrow()); } });
                compare("token logprobs fwd only (incl. a copy of z) " + s, r, f);
            }
        }
    }
}
