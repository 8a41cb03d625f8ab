package org.rlhf4j.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.rlhf4j.core.model.ForwardHook;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.Weights;

/**
 * The LoRA matrices of one adapter and the {@link ForwardHook} that adds them to a frozen transformer's linear layers:
 * y = x Wᵀ + b + s·(dropout_p(x) Aᵀ) Bᵀ for every adapted module ({@link Module}).
 *
 * <p>The matrices live in a {@link Weights} named {@code <module>.lora_A.weight} ({@code [r, in]}) and
 * {@code <module>.lora_B.weight} ({@code [out, r]}), PEFT's state-dict names without the {@code base_model.model.}
 * prefix, in forward order. The set may hold other trainable tensors too (a scalar model's head); the adapter only
 * reads its own names. The base model's weights are never read or written here, except by {@link #mergeInto}.
 *
 * <p><b>Dropout</b> ({@code lora_dropout} p &gt; 0, training mode only): each adapted call draws a keep-mask over its
 * input from a Java {@link SplittableRandom} (keep with probability 1 − p, kept values scaled by 1/(1 − p), as
 * {@code nn.Dropout}), in forward order. The stream is re-seeded by {@link #setDropoutSeed}; a trainer that seeds it
 * with {@code Seeds.derive(runSeed, step, stream)} before each step draws the same masks on every device and after a
 * resume. With p = 0 or outside training mode the input is used as it is (PEFT: {@code nn.Identity}).
 */
public final class LoraAdapter implements ForwardHook {

    /** Suffix of the down-projection A ({@code [r, in]}). */
    public static final String A_SUFFIX = ".lora_A.weight";

    /** Suffix of the up-projection B ({@code [out, r]}). */
    public static final String B_SUFFIX = ".lora_B.weight";

    /**
     * A linear layer of the base transformer that can carry an adapter.
     *
     * @param name the HF module path ({@code model.layers.0.self_attn.q_proj})
     * @param in input features
     * @param out output features
     * @param conv1d whether the base weight is a GPT-2 {@code Conv1D} stored {@code [in, out]} (PEFT's
     *     {@code fan_in_fan_out}); a {@code nn.Linear} stores {@code [out, in]}
     */
    public record Module(String name, long in, long out, boolean conv1d) {

        /**
         * Returns the name of the base weight.
         *
         * @return {@code name + ".weight"}
         */
        public String weightName() {
            return name + ".weight";
        }
    }

    private final LoraConfig config;
    private final LoraPatterns patterns;
    private final Map<String, Integer> ranks = new LinkedHashMap<>();
    private final Map<String, Double> scalings = new LinkedHashMap<>();
    private final List<Module> modules;
    private final Map<String, Module> byName;
    private final Weights weights;
    private boolean enabled = true;
    private boolean training;
    private SplittableRandom dropoutRng;

    private LoraAdapter(LoraConfig config, LoraPatterns patterns, List<Module> modules, Weights weights,
            long dropoutSeed) {
        this.config = config;
        this.patterns = patterns;
        this.modules = List.copyOf(modules);
        Map<String, Module> m = new LinkedHashMap<>();
        for (Module mod : modules) {
            m.put(mod.name(), mod);
            // per-module r and α (PEFT LoraModel._create_and_replace); s = α/r, or α/√r with rsLoRA
            int r = patterns.rankOf(mod.name(), config.r());
            double alpha = patterns.alphaOf(mod.name(), config.alpha());
            ranks.put(mod.name(), r);
            scalings.put(mod.name(), config.useRslora() ? alpha / Math.sqrt(r) : alpha / r);
        }
        this.byName = m;
        this.weights = weights;
        this.dropoutRng = new SplittableRandom(dropoutSeed);
    }

    /**
     * Returns the linear layers of a transformer, in state-dict (forward) order: every rank-2 {@code .weight} inside
     * a block ({@code .h.N.} or {@code .layers.N.}); embeddings and the output projection lie outside the blocks and
     * are never adapted (PEFT's {@code all-linear} also excludes the output layer).
     *
     * @param config the transformer's configuration (GPT-2's layers are {@code Conv1D})
     * @param base the transformer's weights (HF names)
     * @return the modules
     */
    public static List<Module> linearModules(ModelConfig config, Weights base) {
        boolean conv1d = config instanceof Gpt2Config;
        List<Module> out = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : base.asMap().entrySet()) {
            String name = e.getKey();
            Shape s = e.getValue().getShape();
            if (!name.endsWith(".weight") || s.dimension() != 2 || !name.matches(".*\\.(h|layers)\\.\\d+\\..*")) {
                continue;
            }
            String module = name.substring(0, name.length() - ".weight".length());
            // Conv1D stores [in, out] (transformers pytorch_utils.Conv1D); nn.Linear stores [out, in]
            out.add(conv1d ? new Module(module, s.get(0), s.get(1), true) : new Module(module, s.get(1), s.get(0), false));
        }
        return List.copyOf(out);
    }

    /**
     * Creates a fresh adapter on every module of {@code candidates} that the configuration's targets select, as PEFT's
     * {@code init_lora_weights=True}: A Kaiming-uniform with a = √5 ({@code reset_lora_parameters} in
     * {@code peft/tuners/lora/layer.py}: gain √(2/(1+a²)) = √(1/3), bound √3·gain/√in = 1/√in, so
     * A ~ U(−1/√in, 1/√in)) and B = 0, so the adapted model equals the base. Values come from a seeded Java RNG (all
     * A matrices in forward order), so the same seed gives the same adapter on every device.
     *
     * @param config the adapter's settings
     * @param model the base's configuration (for the default targets)
     * @param candidates the base's linear layers ({@link #linearModules})
     * @param into where A and B are put (ownership of the new tensors moves there)
     * @param seed the seed of A (and, derived from it, of dropout)
     * @return the adapter
     * @throws IllegalArgumentException when no module matches the targets (the message names the targets and some
     *     modules)
     */
    public static LoraAdapter create(LoraConfig config, ModelConfig model, List<Module> candidates, Weights into,
            long seed) {
        List<String> targets = config.resolvedTargets(model);
        List<Module> chosen = new ArrayList<>();
        for (Module m : candidates) {
            if (LoraConfig.matches(targets, m.name())) {
                chosen.add(m);
            }
        }
        if (chosen.isEmpty()) {
            List<String> names = candidates.stream().map(Module::name).limit(8).toList();
            throw new IllegalArgumentException("lora target_modules " + targets + " match no linear layer of the "
                    + "model; its layers are named like " + names);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        NDManager m = into.manager();
        for (Module mod : chosen) {
            double bound = 1 / Math.sqrt(mod.in());
            int n = Math.toIntExact(config.r() * mod.in());
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
            }
            into.put(mod.name() + A_SUFFIX, m.create(a, new Shape(config.r(), mod.in())));
            into.put(mod.name() + B_SUFFIX, m.zeros(new Shape(mod.out(), config.r()), DataType.FLOAT32));
        }
        return new LoraAdapter(config, LoraPatterns.NONE, chosen, into, seed ^ 0x5DEECE66DL);
    }

    /**
     * Wraps matrices that are already in {@code weights} (a loaded adapter, a copy).
     *
     * @param config the adapter's settings (its rank must match the matrices)
     * @param modules the adapted modules, in forward order
     * @param weights holds {@code <module>.lora_A.weight} and {@code <module>.lora_B.weight} for each module
     * @param dropoutSeed the initial seed of the dropout stream
     * @return the adapter
     * @throws IllegalArgumentException when a matrix is missing or has the wrong shape
     */
    public static LoraAdapter of(LoraConfig config, List<Module> modules, Weights weights, long dropoutSeed) {
        return of(config, LoraPatterns.NONE, modules, weights, dropoutSeed);
    }

    /**
     * Wraps matrices that are already in {@code weights}, with per-module ranks and alphas.
     *
     * @param config the adapter's settings
     * @param patterns per-module r and α ({@link LoraPatterns#NONE} for none)
     * @param modules the adapted modules, in forward order
     * @param weights holds {@code <module>.lora_A.weight} and {@code <module>.lora_B.weight} for each module
     * @param dropoutSeed the initial seed of the dropout stream
     * @return the adapter
     * @throws IllegalArgumentException when a matrix is missing or has the wrong shape
     */
    public static LoraAdapter of(LoraConfig config, LoraPatterns patterns, List<Module> modules, Weights weights,
            long dropoutSeed) {
        for (Module mod : modules) {
            int r = patterns.rankOf(mod.name(), config.r());
            check(weights, mod.name() + A_SUFFIX, new Shape(r, mod.in()));
            check(weights, mod.name() + B_SUFFIX, new Shape(mod.out(), r));
        }
        return new LoraAdapter(config, patterns, modules, weights, dropoutSeed);
    }

    private static void check(Weights w, String name, Shape want) {
        if (!w.contains(name)) {
            throw new IllegalArgumentException("lora tensor '" + name + "' is missing");
        }
        Shape got = w.get(name).getShape();
        if (!got.equals(want)) {
            throw new IllegalArgumentException("lora tensor '" + name + "' has shape " + got + ", expected " + want);
        }
    }

    /**
     * Returns the settings.
     *
     * @return the config
     */
    public LoraConfig config() {
        return config;
    }

    /**
     * Returns the per-module ranks and alphas (empty for an adapter made in rlhf4j).
     *
     * @return the patterns
     */
    public LoraPatterns patterns() {
        return patterns;
    }

    /**
     * Returns a module's output scale s (α/r, or α/√r with rsLoRA; with the module's own r and α under
     * {@link #patterns()}).
     *
     * @param module an adapted module's path
     * @return s
     * @throws IllegalArgumentException when the module is not adapted
     */
    public double scaling(String module) {
        Double s = scalings.get(module);
        if (s == null) {
            throw new IllegalArgumentException("module '" + module + "' is not adapted");
        }
        return s;
    }

    /**
     * Returns a module's rank.
     *
     * @param module an adapted module's path
     * @return r
     * @throws IllegalArgumentException when the module is not adapted
     */
    public int rank(String module) {
        Integer r = ranks.get(module);
        if (r == null) {
            throw new IllegalArgumentException("module '" + module + "' is not adapted");
        }
        return r;
    }

    /**
     * Returns the adapted modules, in forward order.
     *
     * @return the modules
     */
    public List<Module> modules() {
        return modules;
    }

    /**
     * Returns the set holding the matrices.
     *
     * @return the weights
     */
    public Weights weights() {
        return weights;
    }

    /**
     * Returns the matrices only, in forward order (A then B per module).
     *
     * @return name to tensor
     */
    public Map<String, NDArray> tensors() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Module mod : modules) {
            out.put(mod.name() + A_SUFFIX, weights.get(mod.name() + A_SUFFIX));
            out.put(mod.name() + B_SUFFIX, weights.get(mod.name() + B_SUFFIX));
        }
        return out;
    }

    /**
     * Returns a copy of this adapter whose matrices live in {@code into} (same settings, flags and dropout stream
     * state).
     *
     * @param into the target set (the matrices are duplicated into it)
     * @return the copy
     */
    public LoraAdapter copyInto(Weights into) {
        for (Map.Entry<String, NDArray> e : tensors().entrySet()) {
            into.put(e.getKey(), e.getValue().duplicate());
        }
        LoraAdapter c = new LoraAdapter(config, patterns, modules, into, 0);
        c.enabled = enabled;
        c.training = training;
        c.dropoutRng = dropoutRng.split();
        return c;
    }

    /**
     * Turns the adapter on or off; off, the hook leaves every output unchanged (the base model: PEFT's
     * {@code disable_adapter()}).
     *
     * @param on whether the adapter is applied
     */
    public void setEnabled(boolean on) {
        this.enabled = on;
    }

    /**
     * Returns whether the adapter is applied.
     *
     * @return true when enabled
     */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Turns training mode on or off: dropout on the adapter's input is applied only in training mode.
     *
     * @param on training mode
     */
    public void setTraining(boolean on) {
        this.training = on;
    }

    /**
     * Returns whether training mode is on.
     *
     * @return training mode
     */
    public boolean training() {
        return training;
    }

    /**
     * Re-seeds the dropout stream (see the class comment).
     *
     * @param seed the seed
     */
    public void setDropoutSeed(long seed) {
        this.dropoutRng = new SplittableRandom(seed);
    }

    /**
     * Adds the adapter's term to a linear layer's output: y + s·(dropout(x) Aᵀ) Bᵀ ({@code peft/tuners/lora/layer.py}
     * {@code Linear.forward}); A and B are cast to x's dtype when it differs (fp16 compute). Unadapted modules and a
     * disabled adapter return {@code output} itself.
     */
    @Override
    public NDArray adapt(String module, NDArray input, NDArray output) {
        if (!enabled || !byName.containsKey(module)) {
            return output;
        }
        NDArray a = weights.get(module + A_SUFFIX);
        NDArray b = weights.get(module + B_SUFFIX);
        DataType dt = input.getDataType();
        if (a.getDataType() != dt) {
            // casts belong to the step's manager, not the long-lived weights' (DESIGN.md §7)
            a = a.toType(dt, false);
            a.attach(input.getManager());
            b = b.toType(dt, false);
            b.attach(input.getManager());
        }
        NDArray x = training && config.dropout() > 0 ? dropout(input) : input;
        NDArray low = Linear.linear(x, a).singletonOrThrow();
        NDArray delta = Linear.linear(low, b).singletonOrThrow();
        return output.add(delta.mul((float) scalings.get(module).doubleValue()));
    }

    private NDArray dropout(NDArray x) {
        double p = config.dropout();
        float keep = (float) (1 / (1 - p));
        int n = Math.toIntExact(x.getShape().size());
        float[] mask = new float[n];
        for (int i = 0; i < n; i++) {
            mask[i] = dropoutRng.nextDouble() < p ? 0f : keep;
        }
        NDArray m = x.getManager().create(mask, x.getShape()).toType(x.getDataType(), false);
        return x.mul(m);
    }

    /**
     * Adds the adapter to a full model's weights in place of their values: W' = W + s·B·A for a {@code nn.Linear}
     * ({@code [out, in]}), W' = W + s·(B·A)ᵀ for a GPT-2 {@code Conv1D} ({@code [in, out]}; PEFT
     * {@code transpose(weight, fan_in_fan_out)} in {@code get_delta_weight}).
     *
     * @param full the weights of a copy of the base (the adapted modules' {@code .weight} tensors are replaced)
     */
    public void mergeInto(Weights full) {
        for (Module mod : modules) {
            NDArray w = full.get(mod.weightName());
            NDArray ba = weights.get(mod.name() + B_SUFFIX).matMul(weights.get(mod.name() + A_SUFFIX));
            NDArray delta = ba.mul((float) scaling(mod.name()));
            NDArray oriented = mod.conv1d() ? delta.transpose() : delta;
            NDArray merged = w.add(oriented.toDevice(w.getDevice(), false));
            full.put(mod.weightName(), merged);
            ba.close();
            delta.close();
            oriented.close();
        }
    }
}
