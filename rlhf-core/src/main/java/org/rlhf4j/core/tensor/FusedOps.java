package org.rlhf4j.core.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Torch ops that DJL 0.36 does not expose, run as tiny TorchScript modules loaded from the classpath (see
 * {@code docs/decisions/0024-torchscript-fused-ops.md}; the archives are written by {@code scripts/fused_ops.py}).
 *
 * <p>Each op is one torch kernel forward and one fused backward node, where the DJL composition it replaces is many
 * elementwise ops: the tanh GELU of a [2048, 2048] input took 62–83 ms forward + backward scripted against
 * 143–181 ms composed (9 ops), at a fixed cost of about 15 µs per call. Autograd flows through the module to its
 * inputs when the call is made in grad mode (inside a {@code GradientCollector}); outside it the module runs under
 * DJL's no-grad guard (JNI {@code moduleRunMethod} with {@code isTrain} false), and its results are ordinary tensors.
 *
 * <p>When a module cannot be loaded (another engine, an incompatible libtorch) or when the system property
 * {@value #DISABLE_PROPERTY} is {@code false}, {@link #available()} answers false and callers keep their composed
 * ops; the failure is logged once at WARN.
 */
public final class FusedOps {

    /** System property that turns the fused ops off ({@code -Drlhf4j.fusedOps=false}), e.g. to compare timings. */
    public static final String DISABLE_PROPERTY = "rlhf4j.fusedOps";

    private static final Logger LOG = LoggerFactory.getLogger(FusedOps.class);

    private static final String GELU_TANH = "gelu_tanh.pt";

    private FusedOps() {}

    /** Lazily loaded modules, owned by a manager that lives as long as the JVM. */
    private static final class Holder {
        static final PtSymbolBlock GELU = load(GELU_TANH);

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
     * Whether the fused tanh GELU is available (its module loaded).
     *
     * @return true when {@link #geluTanh} can be called
     */
    public static boolean available() {
        return Holder.GELU != null;
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
        PtSymbolBlock module = Holder.GELU;
        if (module == null) {
            throw new IllegalStateException("fused gelu_tanh is not available (see the WARN log, or -D"
                    + DISABLE_PROPERTY + ")");
        }
        if (!(x instanceof PtNDArray) || x.getName() != null) {
            throw new IllegalArgumentException("fused ops need an unnamed PyTorch array; got "
                    + x.getClass().getSimpleName() + " named " + x.getName());
        }
        return IValueUtils.forward(module, new NDList(x), JniUtils.isGradMode()).singletonOrThrow();
    }
}
