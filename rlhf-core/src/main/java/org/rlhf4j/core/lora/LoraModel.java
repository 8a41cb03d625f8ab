package org.rlhf4j.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ForwardHook;
import org.rlhf4j.core.model.HfGenerationConfig;
import org.rlhf4j.core.model.KvCache;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.Weights;

/**
 * A causal language model made of a frozen, shared base model and a LoRA adapter (PEFT's {@code PeftModel} for
 * {@code CAUSAL_LM}): every adapted linear layer computes y = x Wᵀ + b + s·(dropout_p(x) Aᵀ) Bᵀ
 * ({@link LoraAdapter}).
 *
 * <p>{@link #weights()} holds only the adapter's matrices ({@code <module>.lora_A.weight}, {@code <module>.lora_B.weight}
 * in forward order): what an optimizer trains and a checkpoint stores. The base ({@link #base()}) is never copied or
 * updated; with the adapter disabled ({@link #setAdapterEnabled}) the model is exactly the base, so one base serves as
 * both the policy's trunk and the reference policy ({@code disable_adapter()} in PEFT, TRL's reference-free LoRA
 * setup). {@link #copy} shares the base too.
 *
 * <p>Files are PEFT's ({@link PeftFiles}): {@link #save} writes {@code adapter_config.json} and
 * {@code adapter_model.safetensors} that {@code PeftModel.from_pretrained(base, dir)} loads, and {@link #load} reads
 * adapters PEFT made.
 */
public final class LoraModel implements CausalLm {

    private final CausalLm base;
    private final LoraAdapter adapter;
    private final boolean ownsBase;
    private String basePath;
    /** Applied after the adapter in every forward ({@link #withHook}); {@link ForwardHook#NONE} by default. */
    private final ForwardHook hook;
    /** The model this one is a {@link #withHook} view of, or null. */
    private final LoraModel viewOf;

    private LoraModel(CausalLm base, LoraAdapter adapter, boolean ownsBase, String basePath) {
        this(base, adapter, ownsBase, basePath, ForwardHook.NONE, null);
    }

    private LoraModel(CausalLm base, LoraAdapter adapter, boolean ownsBase, String basePath, ForwardHook hook,
            LoraModel viewOf) {
        if (base instanceof LoraModel) {
            throw new IllegalArgumentException("the base of a LoRA model cannot itself be a LoRA model (stacked "
                    + "adapters are not supported); merge it first");
        }
        this.base = base;
        this.adapter = adapter;
        this.ownsBase = ownsBase;
        this.basePath = basePath;
        this.hook = hook;
        this.viewOf = viewOf;
    }

    /**
     * Returns a view of this model whose forwards apply {@code next} after the adapter (e.g. fp16 compute,
     * {@code MixedPrecision.FP16}): the same base, the same adapter tensors (training the view trains this model),
     * saved as this model is; still a {@code LoraModel}, so trainers recognise the adapter. Closing the view closes
     * this model.
     *
     * @param next the hook applied after the adapter
     * @return the view, or this model when {@code next} is {@link ForwardHook#NONE}
     */
    @Override
    public LoraModel withHook(ForwardHook next) {
        if (next == ForwardHook.NONE) {
            return this;
        }
        LoraModel root = viewOf == null ? this : viewOf;
        return new LoraModel(base, adapter, false, basePath, hook.andThen(next), root);
    }

    /**
     * Creates a fresh adapter on every linear layer of the base's transformer that the configuration's targets select
     * ({@link LoraAdapter#create}: A ~ U(−1/√in, 1/√in) from a seeded Java RNG, B = 0, so the new model's outputs equal
     * the base's). The output projection and the embeddings are never adapted.
     *
     * @param base the frozen base model (not copied)
     * @param config the adapter's settings
     * @param seed seed of A (and of the initial dropout stream)
     * @param ownsBase whether {@link #close} closes the base
     * @return the model
     * @throws IllegalArgumentException when no layer matches the targets (names the targets and some layers)
     */
    public static LoraModel create(CausalLm base, LoraConfig config, long seed, boolean ownsBase) {
        Weights w = new Weights(parentOf(base));
        try {
            LoraAdapter a = LoraAdapter.create(config, base.config(),
                    LoraAdapter.linearModules(base.config(), base.weights()), w, seed);
            return new LoraModel(base, a, ownsBase, null);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    /** The manager the base was created under (its weights live in a child of it). */
    static NDManager parentOf(CausalLm base) {
        NDManager m = base.weights().manager();
        return m.getParentManager() != null ? m.getParentManager() : m;
    }

    /**
     * Returns whether a directory holds a PEFT adapter ({@code adapter_config.json}).
     *
     * @param dir the directory
     * @return true for an adapter directory
     */
    public static boolean isAdapterDir(Path dir) {
        return PeftFiles.isAdapterDir(dir);
    }

    /**
     * Loads a PEFT LoRA adapter directory onto a base model: rank, α, dropout, targets and rsLoRA come from
     * {@code adapter_config.json} ({@link PeftFiles#readConfig}, which refuses unsupported PEFT features), the
     * matrices (any B, e.g. a trained adapter) from {@code adapter_model.safetensors}, checked against the base's
     * layers. The adapter's {@code base_model_name_or_path} is kept ({@link #basePath()}) and saved again.
     *
     * @param adapterDir the directory
     * @param base the base model (not copied)
     * @param ownsBase whether {@link #close} closes the base
     * @return the model
     * @throws IOException when a file is missing, malformed, unsupported or does not fit the base (the message names
     *     the file and the field or tensor)
     */
    public static LoraModel load(Path adapterDir, CausalLm base, boolean ownsBase) throws IOException {
        return AtomicReads.read(adapterDir, d -> {
            PeftFiles.AdapterConfig ac = PeftFiles.readConfig(d);
            if (ac.taskType() != null && !ac.taskType().equals(PeftFiles.CAUSAL_LM)) {
                throw new ModelFormatException(d.resolve(PeftFiles.CONFIG_FILE), "task_type is " + ac.taskType()
                        + "; a language-model adapter needs " + PeftFiles.CAUSAL_LM
                        + (PeftFiles.SEQ_CLS.equals(ac.taskType()) ? " (load SEQ_CLS adapters as a ScalarModel)" : ""));
            }
            if (!ac.modulesToSave().isEmpty()) {
                throw new ModelFormatException(d.resolve(PeftFiles.CONFIG_FILE), "modules_to_save is "
                        + ac.modulesToSave() + ": fully trained modules beside the adapter are not supported for a "
                        + PeftFiles.CAUSAL_LM + " adapter");
            }
            Weights w = new Weights(parentOf(base));
            try {
                LoraAdapter a = PeftFiles.readAdapter(d, ac, base.config(), base.weights(), w, Set.of());
                return new LoraModel(base, a, ownsBase, ac.baseModel());
            } catch (IOException | RuntimeException e) {
                w.close();
                throw e;
            }
        });
    }

    /**
     * Loads a PEFT adapter directory and the base model its {@code base_model_name_or_path} names: an absolute path,
     * or a path relative to the adapter directory. The returned model owns the base. A base that is itself an adapter
     * directory (an adapter trained over a LoRA model's merged weights) is loaded and merged first
     * ({@link #merge}), up to {@value #MAX_CHAIN} adapters deep.
     *
     * @param adapterDir the directory
     * @param parent the parent manager (device) of the base and the adapter
     * @return the model
     * @throws IOException when the base cannot be resolved to a local model directory (e.g. a Hugging Face hub id;
     *     the message suggests {@code --model BASE --adapter DIR}), or a file is invalid
     */
    public static LoraModel loadWithBase(Path adapterDir, NDManager parent) throws IOException {
        return loadChain(adapterDir, parent, 1);
    }

    /** The longest chain of adapters over adapters {@link #loadWithBase} follows (a longer one is likely a cycle). */
    public static final int MAX_CHAIN = 8;

    private static LoraModel loadChain(Path adapterDir, NDManager parent, int depth) throws IOException {
        if (depth > MAX_CHAIN) {
            throw new ModelFormatException(adapterDir.resolve(PeftFiles.CONFIG_FILE), "base_model_name_or_path leads "
                    + "through more than " + MAX_CHAIN + " adapter directories (a cycle?)");
        }
        Path baseDir = resolveBase(adapterDir);
        CausalLm base;
        if (isAdapterOnly(baseDir)) {
            try (LoraModel inner = loadChain(baseDir, parent, depth + 1)) {
                base = inner.merge(parent);
            }
        } else {
            base = CausalLm.load(baseDir, parent);
        }
        try {
            return load(adapterDir, base, true);
        } catch (IOException | RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /** Whether a directory is an adapter directory without a model of its own ({@code config.json}). */
    private static boolean isAdapterOnly(Path dir) {
        Path d = AtomicReads.resolve(dir);
        return isAdapterDir(d) && !Files.exists(d.resolve("config.json"));
    }

    /**
     * Resolves an adapter's {@code base_model_name_or_path} to a local model directory, or to another adapter
     * directory (an adapter chain, which {@link #loadWithBase} merges).
     *
     * @param adapterDir the adapter directory
     * @return the base directory
     * @throws IOException when the field is absent or does not name a local model directory (with the hint to pass
     *     the base explicitly)
     */
    public static Path resolveBase(Path adapterDir) throws IOException {
        Path cfg = AtomicReads.resolve(adapterDir).resolve(PeftFiles.CONFIG_FILE);
        PeftFiles.AdapterConfig ac = PeftFiles.readConfig(AtomicReads.resolve(adapterDir));
        String hint = "; pass the base model explicitly (--model BASE --adapter " + adapterDir + ")";
        if (ac.baseModel() == null || ac.baseModel().isBlank()) {
            throw new ModelFormatException(cfg, "base_model_name_or_path is not set" + hint);
        }
        Path p;
        try {
            p = Path.of(ac.baseModel());
        } catch (RuntimeException e) {
            throw new ModelFormatException(cfg, "base_model_name_or_path '" + ac.baseModel() + "' is not a path" + hint);
        }
        Path resolved = p.isAbsolute() ? p : adapterDir.resolve(p).normalize();
        if (!Files.isRegularFile(AtomicReads.resolve(resolved).resolve("config.json")) && !isAdapterOnly(resolved)) {
            throw new ModelFormatException(cfg, "base_model_name_or_path '" + ac.baseModel() + "' is not a local "
                    + "model directory (resolved to " + resolved + "; hub ids are not downloaded)" + hint);
        }
        return resolved;
    }

    /**
     * Returns the frozen base model: shared, never copied or updated; it is the reference policy (the model with the
     * adapter disabled).
     *
     * @return the base
     */
    public CausalLm base() {
        return base;
    }

    /**
     * Returns the adapter (its matrices, flags and hook).
     *
     * @return the adapter
     */
    public LoraAdapter adapter() {
        return adapter;
    }

    /**
     * Returns the adapter's settings.
     *
     * @return the config
     */
    public LoraConfig loraConfig() {
        return adapter.config();
    }

    /**
     * Returns the {@code base_model_name_or_path} that {@link #save} writes: set by {@link #optBasePath} or read by
     * {@link #load}; null when unknown.
     *
     * @return the base path as given, or null
     */
    public String basePath() {
        return basePath;
    }

    /**
     * Sets the {@code base_model_name_or_path} that {@link #save} writes (as given: a relative path is resolved
     * against the adapter directory when loading).
     *
     * @param path the base model's directory
     * @return this model
     */
    public LoraModel optBasePath(Path path) {
        this.basePath = path == null ? null : path.toString();
        return this;
    }

    /** Returns the base's configuration. */
    @Override
    public ModelConfig config() {
        return base.config();
    }

    /**
     * Returns only the adapter's matrices ({@code <module>.lora_A.weight}, {@code <module>.lora_B.weight}, forward
     * order): the trainable parameters.
     */
    @Override
    public Weights weights() {
        return adapter.weights();
    }

    /**
     * Turns the adapter on or off; off, every output equals the base's exactly.
     *
     * @param on whether the adapter is applied
     */
    public void setAdapterEnabled(boolean on) {
        adapter.setEnabled(on);
    }

    /**
     * Returns whether the adapter is applied.
     *
     * @return true when enabled
     */
    public boolean adapterEnabled() {
        return adapter.enabled();
    }

    /**
     * Turns training mode on or off: {@code lora_dropout} applies only in training mode (default off). Dropout masks
     * come from a Java RNG re-seeded by {@link #setDropoutSeed} (see {@link LoraAdapter}).
     *
     * @param on training mode
     */
    public void setTraining(boolean on) {
        adapter.setTraining(on);
    }

    /**
     * Re-seeds the dropout masks (e.g. with {@code Seeds.derive(runSeed, step, stream)} before each step, so a resumed
     * run draws the same masks).
     *
     * @param seed the seed
     */
    public void setDropoutSeed(long seed) {
        adapter.setDropoutSeed(seed);
    }

    /**
     * Runs the base transformer with the adapter's hook, then {@code hook} ({@link ForwardHook#andThen}).
     */
    @Override
    public NDArray hidden(NDArray ids, NDArray mask, KvCache cache, ForwardHook hook) {
        return base.hidden(ids, mask, cache, adapter.andThen(this.hook).andThen(hook));
    }

    /** Projects with the base's (never adapted) output projection. */
    @Override
    public NDArray logits(NDArray hidden, ForwardHook hook) {
        return base.logits(hidden, adapter.andThen(this.hook).andThen(hook));
    }

    /**
     * Returns a copy that shares the base (never copied) and holds a copy of the adapter's matrices; the copy does not
     * own the base, so closing it leaves the base open.
     *
     * @param parent the parent manager of the copied matrices
     * @return the copy
     */
    @Override
    public LoraModel copy(NDManager parent) {
        Weights w = new Weights(parent);
        return new LoraModel(base, adapter.copyInto(w), false, basePath);
    }

    /**
     * Saves the adapter as PEFT does ({@link PeftFiles#write}: {@code adapter_config.json} with task type
     * {@code CAUSAL_LM} and {@link #basePath()}, {@code adapter_model.safetensors} with
     * {@code base_model.model.<module>.lora_A.weight} names, float32 stored as {@code options.dtype()}) and the base's
     * {@code generation_config.json} when it has one; nothing else of the base. The shard limit is ignored (one file).
     *
     * @param dir the directory (must exist)
     * @param options dtype
     * @throws IOException on write failure (nothing is written when a matrix holds NaN or infinity)
     */
    @Override
    public void save(Path dir, SaveOptions options) throws IOException {
        PeftFiles.write(dir, loraConfig(), adapter.patterns(), config(), adapter.modules(), PeftFiles.CAUSAL_LM, basePath, List.of(),
                adapter.tensors(), options);
        Optional<HfGenerationConfig> gen = generationConfig();
        if (gen.isPresent()) {
            gen.get().write(dir.resolve(HfGenerationConfig.FILE));
        }
    }

    /**
     * Returns a new full model of the base's class with the adapter merged into its weights
     * ({@link LoraAdapter#mergeInto}: W' = W + s·B·A, transposed for GPT-2's {@code Conv1D}; PEFT
     * {@code merge_and_unload}). This model and its base are unchanged.
     *
     * @param parent the parent manager of the new model
     * @return the merged model
     */
    public CausalLm merge(NDManager parent) {
        CausalLm full = base.copy(parent);
        try {
            adapter.mergeInto(full.weights());
            return full;
        } catch (RuntimeException e) {
            full.close();
            throw e;
        }
    }

    /** Returns the base's {@code generation_config.json}. */
    @Override
    public Optional<HfGenerationConfig> generationConfig() {
        return base.generationConfig();
    }

    /** Closes the adapter, and the base when this model owns it. */
    @Override
    public void close() {
        if (viewOf != null) {
            viewOf.close();
            return;
        }
        adapter.weights().close();
        if (ownsBase) {
            base.close();
        }
    }

    /**
     * Returns whether this model closes its base.
     *
     * @return true when the base is owned
     */
    public boolean ownsBase() {
        return ownsBase;
    }

    /**
     * Returns the names of the adapted modules, in forward order.
     *
     * @return module paths
     */
    public List<String> adaptedModules() {
        List<String> out = new ArrayList<>();
        adapter.modules().forEach(m -> out.add(m.name()));
        return List.copyOf(out);
    }
}
