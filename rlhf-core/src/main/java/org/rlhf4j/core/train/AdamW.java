package org.rlhf4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.rlhf4j.core.tensor.FusedOps;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.model.Weights;

/**
 * AdamW (Loshchilov &amp; Hutter 2019) with decoupled weight decay and a no-decay group, as PyTorch's
 * {@code torch.optim.AdamW}:
 *
 * <pre>
 * θ ← θ − η·λ·θ                      (decay group only)
 * m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
 * θ ← θ − η · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * </pre>
 *
 * <p>With the PyTorch engine and float32 parameters the update is one call of torch's own in-place kernels over every
 * tensor ({@link FusedOps#adamw}, bit-identical to {@code torch.optim.AdamW(foreach=False)}: θ ← θ − (η/(1−β₁ᵗ))·m /
 * (√v/√(1−β₂ᵗ) + ε)); otherwise it is composed from DJL ops as written above (the same update up to float32
 * rounding). At GPT-2's 50,257 × 512 embedding the composed form makes five 103 MB temporaries per update, the call
 * one.
 *
 * <p>rlhf4j implements it rather than using DJL's {@code Adam} because the moments must be saved for exact resume
 * and split into parameter groups (biases and LayerNorm weights get no decay, as in TRL/HF Trainer). Moments live in
 * the optimizer's own manager and are never part of a per-step scope.
 */
public final class AdamW implements AutoCloseable {

    /**
     * transformers' {@code Trainer.get_decay_parameter_names} name patterns, searched in the lower-cased name:
     * {@code bias}, {@code layernorm}, {@code rmsnorm}, {@code (^|.)norm($|.)}, {@code _norm($|.)} (Llama's
     * {@code input_layernorm} / {@code model.norm}, GPT-NeoX's {@code final_layer_norm}, Qwen3's {@code q_norm}).
     */
    private static final java.util.regex.Pattern HF_NO_DECAY =
            java.util.regex.Pattern.compile("bias|layernorm|rmsnorm|(?:^|\\.)norm(?:$|\\.)|_norm(?:$|\\.)");

    /**
     * The default no-decay rule: biases and normalisation weights, as HF Trainer's
     * {@code get_decay_parameter_names}: its name patterns plus GPT-2's {@code nn.LayerNorm} modules ({@code ln_1},
     * {@code ln_2}, {@code ln_f}), which it excludes by type.
     */
    public static final Predicate<String> NO_DECAY_BIAS_AND_NORM =
            name -> HF_NO_DECAY.matcher(name.toLowerCase(java.util.Locale.ROOT)).find() || name.contains(".ln_")
                    || name.startsWith("ln_") || name.contains("ln_f.");

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Predicate<String> noDecay;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long t;
    private LossScaler lossScaler;

    /**
     * Creates the optimizer with zero moments for every parameter.
     *
     * @param weights the parameters
     * @param beta1 β₁ (default 0.9)
     * @param beta2 β₂ (default 0.999)
     * @param eps ε (default 1e-8; the N+ TL;DR references use 1e-5)
     * @param weightDecay λ (default 0)
     * @param noDecay names excluded from weight decay
     */
    public AdamW(Weights weights, double beta1, double beta2, double eps, double weightDecay, Predicate<String> noDecay) {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("eps must be > 0, got " + eps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.noDecay = noDecay;
        this.manager = weights.manager().newSubManager();
        this.manager.setName("adamw");
        for (Map.Entry<String, NDArray> e : weights.asMap().entrySet()) {
            NDArray p = e.getValue();
            NDArray mi = manager.zeros(p.getShape(), DataType.FLOAT32);
            NDArray vi = manager.zeros(p.getShape(), DataType.FLOAT32);
            NDScope.unregister(mi, vi);
            m.put(e.getKey(), mi);
            v.put(e.getKey(), vi);
        }
    }

    /**
     * Creates the optimizer with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8) and the given decay.
     *
     * @param weights the parameters
     * @param weightDecay λ
     * @return the optimizer
     */
    public static AdamW of(Weights weights, double weightDecay) {
        return new AdamW(weights, 0.9, 0.999, 1e-8, weightDecay, NO_DECAY_BIAS_AND_NORM);
    }

    /**
     * Returns the number of updates applied.
     *
     * @return t
     */
    public long stepCount() {
        return t;
    }

    /**
     * Returns whether a parameter is in the decay group.
     *
     * @param name parameter name
     * @return true when weight decay applies
     */
    public boolean decays(String name) {
        return weightDecay > 0 && !noDecay.test(name);
    }

    /**
     * Applies one update with the parameters' current gradients. Call outside a gradient collector.
     *
     * @param weights the parameters (same names as at construction)
     * @param lr the learning rate η
     */
    public void update(Weights weights, double lr) {
        t++;
        // (a step η/(1−β₁ᵗ) or a decay η·λ beyond float32's range, as a diverging schedule makes, cannot be a torch
        // Scalar for float32 tensors: the composed form then writes the infinities the weight guard reports)
        if (FusedOps.optimizerApplies(weights.arrays()) && Math.abs(lr / (1 - Math.pow(beta1, t))) <= Float.MAX_VALUE
                && Math.abs(lr * weightDecay) <= Float.MAX_VALUE) {
            // one call over every tensor, torch.optim.AdamW's own in-place kernels (FusedOps.adamw)
            try (NDScope scope = new NDScope()) {
                List<NDArray> ps = new ArrayList<>();
                List<NDArray> gs = new ArrayList<>();
                List<NDArray> ms = new ArrayList<>();
                List<NDArray> vs = new ArrayList<>();
                boolean[] decay = new boolean[weights.asMap().size()];
                for (Map.Entry<String, NDArray> e : weights.asMap().entrySet()) {
                    NDArray mi = m.get(e.getKey());
                    if (mi == null) {
                        throw new IllegalArgumentException("optimizer has no state for parameter '" + e.getKey() + "'");
                    }
                    decay[ps.size()] = decays(e.getKey());
                    ps.add(e.getValue());
                    gs.add(e.getValue().getGradient());
                    ms.add(mi);
                    vs.add(v.get(e.getKey()));
                }
                FusedOps.adamw(ps, gs, ms, vs, decay, lr, beta1, beta2, eps, weightDecay, t);
            }
            return;
        }
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        try (NDScope scope = new NDScope()) {
            for (Map.Entry<String, NDArray> e : weights.asMap().entrySet()) {
                NDArray p = e.getValue();
                NDArray g = p.getGradient();
                NDArray mi = m.get(e.getKey());
                NDArray vi = v.get(e.getKey());
                if (mi == null) {
                    throw new IllegalArgumentException("optimizer has no state for parameter '" + e.getKey() + "'");
                }
                if (decays(e.getKey())) {
                    p.muli((float) (1 - lr * weightDecay));
                }
                mi.muli((float) beta1).addi(g.mul((float) (1 - beta1)));
                vi.muli((float) beta2).addi(g.square().muli((float) (1 - beta2)));
                NDArray denom = vi.div(bc2).sqrt().addi((float) eps);
                p.subi(mi.div(bc1).divi(denom).muli((float) lr));
            }
        }
    }

    /**
     * Attaches the fp16 loss scaler whose state ({@link LossScaler#toMetadata()}) is saved and loaded with this
     * optimizer's, so that a resumed mixed-precision run continues with the same scale.
     *
     * @param scaler the scaler, or null to detach
     */
    public void setLossScaler(LossScaler scaler) {
        this.lossScaler = scaler;
    }

    /**
     * Saves the moments ({@code m.NAME}, {@code v.NAME}), the step count and, with an attached loss scaler, its state
     * (metadata {@code loss_scale}, {@code loss_scale_growth_tracker}, {@code loss_scale_overflows}).
     *
     * @param file target safetensors file
     * @throws IOException on write failure
     */
    public void save(Path file) throws IOException {
        Map<String, NDArray> all = new LinkedHashMap<>();
        m.forEach((k, a) -> all.put("m." + k, a));
        v.forEach((k, a) -> all.put("v." + k, a));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("step", Long.toString(t));
        if (lossScaler != null) {
            meta.putAll(lossScaler.toMetadata());
        }
        SafeTensors.write(file, all, meta);
    }

    /**
     * Restores moments, step count and (with an attached loss scaler) the scaler's state saved by {@link #save}.
     *
     * @param file the safetensors file
     * @throws ModelFormatException when a moment is missing or has the wrong shape, or a loss scaler is attached and
     *     the file has no scaler state
     */
    public void load(Path file) throws ModelFormatException {
        try (SafeTensors st = SafeTensors.open(file); NDScope scope = new NDScope()) {
            for (String k : m.keySet()) {
                copyInto(st, "m." + k, m.get(k));
                copyInto(st, "v." + k, v.get(k));
            }
            String step = st.metadata().get("step");
            if (step == null) {
                throw new ModelFormatException(file, "missing metadata field 'step'");
            }
            t = Long.parseLong(step);
            if (lossScaler != null) {
                try {
                    lossScaler.restore(LossScaler.stateFromMetadata(st.metadata()));
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(file, "fp16 loss scaler state: " + e.getMessage()
                            + " (was the checkpoint written by an fp32 run?)");
                }
            }
        }
    }

    private void copyInto(SafeTensors st, String name, NDArray target) throws ModelFormatException {
        SafeTensors.Entry e = st.entries().get(name);
        if (e == null) {
            throw new ModelFormatException(st.file(), "missing tensor '" + name + "'");
        }
        if (!e.shape().equals(target.getShape())) {
            throw new ModelFormatException(
                    st.file(), "tensor '" + name + "' has shape " + e.shape() + ", expected " + target.getShape());
        }
        // NDArray.set(direct buffer) makes the tensor *use* that buffer's memory (DJL keeps a reference), so the
        // read-only file mapping is copied into a writable buffer first; writing into the mapping would SIGSEGV.
        java.nio.ByteBuffer mapped = st.map(name);
        java.nio.ByteBuffer owned = java.nio.ByteBuffer.allocateDirect(mapped.remaining()).order(java.nio.ByteOrder.nativeOrder());
        owned.put(mapped).flip();
        target.set(owned);
    }

    /** Releases the moments. */
    @Override
    public void close() {
        manager.close();
    }
}
