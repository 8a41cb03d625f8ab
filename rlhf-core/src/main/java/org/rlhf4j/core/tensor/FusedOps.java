package org.rlhf4j.core.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Torch ops that DJL 0.36 does not expose, run as tiny TorchScript modules loaded from the classpath (see
 * {@code docs/decisions/0024-torchscript-fused-ops.md}; the archives are written by {@code scripts/fused_ops.py}).
 *
 * <p>Each op is one torch kernel forward and one fused backward node, where the DJL composition it replaces is many
 * elementwise ops: the tanh GELU of a [2048, 2048] input took 62–83 ms forward + backward scripted against
 * 143–181 ms composed (9 ops), SiLU at [2048, 1536] 20 ms against 31 ms (2 ops), at a fixed cost of about 15 µs
 * per call. Autograd flows through the module to its
 * inputs when the call is made in grad mode (inside a {@code GradientCollector}); outside it the module runs under
 * DJL's no-grad guard (JNI {@code moduleRunMethod} with {@code isTrain} false), and its results are ordinary tensors.
 *
 * <p>The optimizer module ({@code optim.pt}: {@link #adamw}, {@link #norms}) takes lists of tensors and runs torch's
 * in-place AdamW and {@code _foreach_norm} over all of them in one call, under no-grad
 * ({@code docs/decisions/0026-fused-optimizer-tail.md}).
 *
 * <p>When a module cannot be loaded (another engine, an incompatible libtorch) or when the system property
 * {@value #DISABLE_PROPERTY} is {@code false}, {@link #available()} answers false and callers keep their composed
 * ops; the failure is logged once at WARN. ({@link #tokenLogprobsAndEntropy} is DJL ops only: its scripted form lost.)
 */
public final class FusedOps {

    /** System property that turns the fused ops off ({@code -Drlhf4j.fusedOps=false}), e.g. to compare timings. */
    public static final String DISABLE_PROPERTY = "rlhf4j.fusedOps";

    private static final Logger LOG = LoggerFactory.getLogger(FusedOps.class);


    private FusedOps() {}

    /** Lazily loaded modules, owned by a manager that lives as long as the JVM. */
    private static final class Holder {
        static final PtSymbolBlock GELU = load("gelu_tanh.pt");
        static final PtSymbolBlock SILU = load("silu.pt");
        static final PtSymbolBlock OPTIM = load("optim.pt");

        private static PtSymbolBlock load(String resource) {
            if (!Boolean.parseBoolean(System.getProperty(DISABLE_PROPERTY, "true"))) {
                LOG.info("fused ops disabled by -D{}=false", DISABLE_PROPERTY);
                return null;
            }
            try (InputStream in = FusedOps.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IOException("missing classpath resource " + resource);
                }
                NDManager base = NDManager.newBaseManager();
                if (!(base instanceof PtNDManager pt)) {
                    base.close();
                    throw new IllegalStateException("engine " + base.getEngine().getEngineName() + " is not PyTorch");
                }
                return JniUtils.loadModule(pt, in, true, false);
            } catch (IOException | RuntimeException | LinkageError e) {
                LOG.warn("cannot load TorchScript op {}; using composed ops instead: {}", resource, e.toString());
                return null;
            }
        }
    }

    /**
     * Whether the fused ops are available (all their modules loaded).
     *
     * @return true when {@link #geluTanh} and {@link #silu} can be called
     */
    public static boolean available() {
        return Holder.GELU != null && Holder.SILU != null;
    }

    /**
     * Whether the optimizer module ({@link #adamw}, {@link #norms}) is available.
     *
     * @return true when it loaded
     */
    public static boolean optimizerAvailable() {
        return Holder.OPTIM != null;
    }

    /**
     * Whether {@link #adamw} and {@link #norms} apply to these tensors: the optimizer module loaded and every tensor a
     * float32 PyTorch array (other types and engines keep their composed forms).
     *
     * @param tensors the parameters
     * @return true when the optimizer module can take them
     */
    public static boolean optimizerApplies(List<NDArray> tensors) {
        if (!optimizerAvailable()) {
            return false;
        }
        for (NDArray x : tensors) {
            if (!(x instanceof PtNDArray) || x.getDataType() != DataType.FLOAT32) {
                return false;
            }
        }
        return true;
    }

    /**
     * One AdamW update of every tensor, in place, in one call: {@code torch.optim.AdamW}'s single-tensor algorithm
     * ({@code foreach=False}; bit-identical to it under torch 2.13, checked when the archive was written):
     *
     * <pre>
     * θ ← θ·(1 − η·λ)                               (tensors with decays[i] only)
     * m ← m + (1 − β₁)(g − m)                       (lerp)
     * v ← β₂·v + (1 − β₂)·g·g                       (addcmul)
     * θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)   (addcdiv)
     * </pre>
     *
     * <p>One temporary per tensor (the denominator) where DJL's ops need five parameter-sized ones: at GPT-2's
     * [50257, 512] embedding a fresh 103 MB array costs ~30 ms of page faults before any arithmetic.
     *
     * @param params θ, updated in place
     * @param grads g, same shapes and types (float32)
     * @param expAvgs m, updated in place
     * @param expAvgSqs v, updated in place
     * @param decays per tensor, whether weight decay applies
     * @param lr η
     * @param beta1 β₁
     * @param beta2 β₂
     * @param eps ε
     * @param weightDecay λ
     * @param step t ≥ 1, the update's number (bias correction)
     * @throws IllegalStateException when the module is not {@link #optimizerAvailable()}
     * @throws IllegalArgumentException when the lists differ in length
     */
    public static void adamw(List<NDArray> params, List<NDArray> grads, List<NDArray> expAvgs,
            List<NDArray> expAvgSqs, boolean[] decays, double lr, double beta1, double beta2, double eps,
            double weightDecay, long step) {
        int n = params.size();
        if (grads.size() != n || expAvgs.size() != n || expAvgSqs.size() != n || decays.length != n) {
            throw new IllegalArgumentException("adamw needs lists of one length, got params " + n + ", grads "
                    + grads.size() + ", exp_avgs " + expAvgs.size() + ", exp_avg_sqs " + expAvgSqs.size()
                    + ", decays " + decays.length);
        }
        if (step < 1) {
            throw new IllegalArgumentException("step must be >= 1, got " + step);
        }
        List<IValue> args = new ArrayList<>();
        try {
            args.add(IValue.listFrom(pt(params)));
            args.add(IValue.listFrom(pt(grads)));
            args.add(IValue.listFrom(pt(expAvgs)));
            args.add(IValue.listFrom(pt(expAvgSqs)));
            args.add(IValue.listFrom(decays));
            args.add(IValue.from(lr));
            args.add(IValue.from(beta1));
            args.add(IValue.from(beta2));
            args.add(IValue.from(eps));
            args.add(IValue.from(weightDecay));
            args.add(IValue.from(step));
            IValueUtils.runMethod(module(Holder.OPTIM, "optimizer"), "adamw_", args.toArray(new IValue[0])).close();
        } finally {
            args.forEach(IValue::close);
        }
    }

    /**
     * The L2 norm of every tensor, ‖g_i‖₂ as float32, in one call and one device→host copy (torch's
     * {@code _foreach_norm}, what {@code clip_grad_norm_} uses; no squared temporary per tensor).
     *
     * @param tensors the tensors (gradients), float32
     * @return their norms, in order
     * @throws IllegalStateException when the module is not {@link #optimizerAvailable()}
     */
    public static float[] norms(List<NDArray> tensors) {
        if (tensors.isEmpty()) {
            return new float[0];
        }
        PtNDArray[] xs = pt(tensors);
        try (IValue list = IValue.listFrom(xs);
                IValue out = IValueUtils.runMethod(module(Holder.OPTIM, "optimizer"), "norms", list);
                NDManager tmp = xs[0].getManager().newSubManager()) {
            return out.toTensor((PtNDManager) tmp).toFloatArray();
        }
    }

    private static PtNDArray[] pt(List<NDArray> xs) {
        PtNDArray[] out = new PtNDArray[xs.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(xs.get(i) instanceof PtNDArray p)) {
                throw new IllegalArgumentException("fused ops need PyTorch arrays; got " + xs.get(i).getClass().getSimpleName());
            }
            out[i] = p;
        }
        return out;
    }

    private static PtSymbolBlock module(PtSymbolBlock module, String name) {
        if (module == null) {
            throw new IllegalStateException("fused " + name + " is not available (see the WARN log, or -D"
                    + DISABLE_PROPERTY + ")");
        }
        return module;
    }

    /**
     * The tanh-approximate GELU ½x(1 + tanh(√(2/π)(x + 0.044715x³))) as torch's single op ({@code
     * F.gelu(x, approximate="tanh")}, HF {@code NewGELUActivation}/{@code gelu_pytorch_tanh}); differentiable in
     * grad mode, any float type. The result belongs to {@code x}'s manager.
     *
     * @param x the input, a PyTorch array without a name (DJL reads TorchScript inputs' names as argument names)
     * @return the activation, of x's shape and type
     * @throws IllegalStateException when the op is not {@link #available()}
     * @throws IllegalArgumentException when x is not an unnamed PyTorch array
     */
    public static NDArray geluTanh(NDArray x) {
        return run(Holder.GELU, "gelu_tanh", x).singletonOrThrow();
    }

    /**
     * SiLU (swish) x·σ(x) as torch's single op ({@code F.silu}, HF {@code ACT2FN["silu"]}, the activation of
     * {@code LlamaMLP}); differentiable in grad mode (torch's fused {@code silu_backward}), any float type. The
     * result belongs to {@code x}'s manager.
     *
     * @param x the input, a PyTorch array without a name
     * @return the activation, of x's shape and type
     * @throws IllegalStateException when the op is not {@link #available()}
     * @throws IllegalArgumentException when x is not an unnamed PyTorch array
     */
    public static NDArray silu(NDArray x) {
        return run(Holder.SILU, "silu", x).singletonOrThrow();
    }

    /**
     * Log-probabilities of given labels and the entropy of each row from one log-softmax: with ℓ = log_softmax(z),
     * {@code logp = ℓ[..., y]} and H = −Σ_v exp(ℓ_v)·ℓ_v, where computing them apart ({@code TensorOps.tokenLogprobs}
     * and {@code TensorOps.entropy}) takes two log-softmaxes of the same [..., V] logits and two backward passes
     * through them. DJL ops (gather, exp, mul, sum), differentiable w.r.t. the logits in grad mode: at [2048, 50257]
     * forward + backward took 1.6 s against 2.0 s apart and 1.9 s as one TorchScript module (decision 0024).
     *
     * @param logits {@code [..., V]} float logits
     * @param labels {@code [...]} integer ids in [0, V), of logits' leading shape
     * @return {@code (logp, H)}, each {@code [...]} in the logits' type, belonging to the logits' manager
     * @throws IllegalArgumentException when the labels' shape is not the logits' leading shape
     */
    public static NDList tokenLogprobsAndEntropy(NDArray logits, NDArray labels) {
        NDArray y = labels(logits, labels);
        NDArray logp = logits.logSoftmax(-1);
        return new NDList(logp.gather(y.expandDims(-1), -1).squeeze(-1),
                logp.exp().mul(logp).sum(new int[] {-1}).neg());
    }

    /** Labels as int64, checked against the logits' leading shape. */
    private static NDArray labels(NDArray logits, NDArray labels) {
        long[] z = logits.getShape().getShape();
        if (z.length == 0 || !labels.getShape().equals(logits.getShape().slice(0, z.length - 1))) {
            throw new IllegalArgumentException("labels of shape " + labels.getShape()
                    + " do not match logits of shape " + logits.getShape() + " (expected [..., V] and [...])");
        }
        return labels.getDataType() == DataType.INT64 ? labels : labels.toType(DataType.INT64, false);
    }

    private static NDList run(PtSymbolBlock module, String name, NDArray... xs) {
        if (module == null) {
            throw new IllegalStateException("fused " + name + " is not available (see the WARN log, or -D"
                    + DISABLE_PROPERTY + ")");
        }
        for (NDArray x : xs) {
            if (!(x instanceof PtNDArray) || x.getName() != null) {
                throw new IllegalArgumentException("fused ops need unnamed PyTorch arrays; got "
                        + x.getClass().getSimpleName() + " named " + x.getName());
            }
        }
        return IValueUtils.forward(module, new NDList(xs), JniUtils.isGradMode());
    }
}
