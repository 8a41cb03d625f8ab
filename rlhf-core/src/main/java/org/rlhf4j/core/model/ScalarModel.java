package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SplittableRandom;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.lora.LoraAdapter;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.lora.PeftFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A causal-LM transformer with a scalar head: reward models and critics (HF {@code GPT2ForSequenceClassification},
 * {@code GPTNeoXForSequenceClassification} or {@code LlamaForSequenceClassification} (and the Mistral/Qwen2/Qwen3
 * ones) with one label, plus a bias).
 *
 * <p>v_t = w·h_t + b for every position t ({@link #values}); a sequence's score is v at its last real token
 * ({@link #score}), which for a response ending in EOS is the EOS position (Stiennon et al. 2020 §3.4). The head is
 * initialised w ~ N(0, 1/(d+1)), b = 0 (N+ implementation details, detail 10). The bias b is where a reward model's
 * normalisation lives: setting b −= mean score of reference summaries makes them score 0 on average.
 *
 * <p>The trunk is any supported architecture ({@link Gpt2Config}, {@link GptNeoXConfig}, {@link LlamaConfig}); its
 * tensors keep their HF names ({@code transformer.*}, {@code gpt_neox.*}, {@code model.*}) and the language-model head
 * ({@code lm_head.weight}, {@code embed_out.weight}) is not part of the model. HF's classification heads have no bias, so {@code transformers}
 * ignores {@code score.bias} when it loads a saved scalar model.
 *
 * <p><b>LoRA</b> ({@link #lora}, OpenRLHF/TRL style): the trunk is a frozen {@link CausalLm} shared with other models
 * (the policy, the reference), read through a LoRA adapter ({@link LoraAdapter}); {@link #weights()} holds only what
 * trains, the adapter's matrices and the head. Such a model saves as a PEFT {@code SEQ_CLS} adapter
 * ({@code adapter_config.json} with {@code modules_to_save: ["classifier", "score"]}, {@code adapter_model.safetensors}
 * with {@code base_model.model.score.weight}) and {@link #load} reads one back over the base its
 * {@code base_model_name_or_path} names.
 */
public final class ScalarModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScalarModel.class);

    /** Name of the head weight ({@code [1, d]}), as in HF. */
    public static final String HEAD_WEIGHT = "score.weight";

    /** Name of the head bias ({@code [1]}). */
    public static final String HEAD_BIAS = "score.bias";

    /** PEFT's {@code modules_to_save} for a {@code SEQ_CLS} adapter (its default classifier module names). */
    private static final List<String> SEQ_CLS_MODULES_TO_SAVE = List.of("classifier", "score");

    private final ModelConfig config;
    /** The trainable tensors: everything for a full model; adapter matrices and head for a LoRA one. */
    private final Weights weights;
    private final HfGenerationConfig generation;
    /** The tensors the transformer reads: {@link #weights} for a full model, the shared base's for a LoRA one. */
    private final Weights trunk;
    private final LoraAdapter adapter;
    private final CausalLm base;
    private final boolean ownsBase;
    private String basePath;

    private ScalarModel(ModelConfig config, Weights weights, HfGenerationConfig generation) {
        this(config, weights, generation, null, null, false, null);
    }

    private ScalarModel(ModelConfig config, Weights weights, HfGenerationConfig generation, LoraAdapter adapter,
            CausalLm base, boolean ownsBase, String basePath) {
        // a Llama-family config models pad_token_id itself (the others keep it among the extra fields)
        ModelConfig c = config instanceof LlamaConfig l ? l.withPad(OptionalInt.of(padForClassifier(l))) : config;
        this.config = c.withExtra(headExtra(c));
        this.weights = weights;
        this.generation = generation;
        this.trunk = base == null ? weights : base.weights();
        this.adapter = adapter;
        this.base = base;
        this.ownsBase = ownsBase;
        this.basePath = basePath;
    }

    private static Map<String, JsonNode> headExtra(ModelConfig c) {
        Map<String, JsonNode> extra = new LinkedHashMap<>(c.extra());
        JsonNodeFactory f = JsonNodeFactory.instance;
        extra.put("architectures", f.arrayNode().add(classifierArchitecture(c)));
        ObjectNode id2label = f.objectNode().put("0", "LABEL_0");
        ObjectNode label2id = f.objectNode().put("LABEL_0", 0);
        extra.put("id2label", id2label);
        extra.put("label2id", label2id);
        if (!(c instanceof LlamaConfig)) {
            extra.put("pad_token_id", f.numberNode(padForClassifier(c)));
        }
        return extra;
    }

    /**
     * The {@code pad_token_id} HF's classifiers use to find each row's last token: the EOS id (a Llama-family config's
     * own {@code pad_token_id} when it has one, else its first EOS id).
     */
    private static int padForClassifier(ModelConfig c) {
        if (c instanceof LlamaConfig l) {
            if (l.pad().isPresent()) {
                return l.pad().getAsInt();
            }
            if (l.eosTokenIds().isEmpty()) {
                throw new IllegalArgumentException(
                        "a scalar model needs pad_token_id or eos_token_id in config.json; both are null");
            }
        }
        return c.eosTokenId();
    }

    /**
     * Creates a randomly initialised model (transformer as {@link Gpt2#random} or {@link GptNeoX#random}, head
     * N(0, 1/(d+1))).
     *
     * @param config the configuration of the trunk
     * @param parent the parent manager
     * @param seed the seed
     * @return the model
     */
    public static ScalarModel random(ModelConfig config, NDManager parent, long seed) {
        Weights w = new Weights(parent);
        SplittableRandom rng = new SplittableRandom(seed);
        initTrunk(config, w, rng);
        initHead(w, config, rng);
        return new ScalarModel(config, w, null);
    }

    /**
     * Creates a scalar model whose transformer is a copy of a language model's (e.g. a reward model initialised
     * from the SFT policy) and whose head is freshly initialised. An untied output projection
     * ({@code embed_out.weight}) is not copied.
     *
     * @param lm the source
     * @param parent the parent manager
     * @param seed seed of the head
     * @return the model
     */
    public static ScalarModel fromLm(CausalLm lm, NDManager parent, long seed) {
        if (lm instanceof LoraModel l) {
            // the transformer of a LoRA model is its base with the adapter merged in
            try (CausalLm merged = l.merge(parent)) {
                return fromLm(merged, parent, seed);
            }
        }
        Weights w = new Weights(parent);
        for (String name : trunkShapes(lm.config()).keySet()) {
            w.put(name, lm.weights().get(name).duplicate());
        }
        initHead(w, lm.config(), new SplittableRandom(seed));
        return new ScalarModel(lm.config(), w, null);
    }

    /**
     * Returns an independent copy (e.g. a critic initialised from the reward model, as the references do).
     *
     * @param parent the parent manager of the copy
     * @return the copy
     */
    public ScalarModel copy(NDManager parent) {
        if (adapter != null) {
            // shares the frozen base (never copied, not owned by the copy); copies the adapter and the head
            Weights w = weights.copy(parent);
            LoraAdapter a = LoraAdapter.of(adapter.config(), adapter.patterns(), adapter.modules(), w, 0);
            return new ScalarModel(base.config(), w, generation, a, base, false, basePath);
        }
        return new ScalarModel(config, weights.copy(parent), generation);
    }

    /**
     * Creates a scalar model over a shared frozen language model: a fresh LoRA adapter on the base's transformer
     * ({@link LoraAdapter#create}, the same matrices as {@code LoraModel.create(base, lora, seed, false)}) and a fresh
     * head (the same as {@link #fromLm}{@code (base, parent, seed)}'s). {@link #weights()} holds only the adapter's
     * matrices and the head; the base is neither copied nor owned (closing this model leaves it open).
     *
     * @param base the frozen trunk (a plain model, not a {@link LoraModel})
     * @param lora the adapter's settings
     * @param seed seed of the adapter's A and of the head
     * @return the model
     * @throws IllegalArgumentException when no layer matches the targets, or {@code base} is a LoRA model
     */
    public static ScalarModel lora(CausalLm base, LoraConfig lora, long seed) {
        if (base instanceof LoraModel) {
            throw new IllegalArgumentException("the base of a LoRA scalar model must be a plain model; pass "
                    + "loraModel.base() to share its trunk");
        }
        Weights w = new Weights(parentOf(base));
        try {
            LoraAdapter a = LoraAdapter.create(lora, base.config(),
                    LoraAdapter.linearModules(base.config(), base.weights()), w, seed);
            initHead(w, base.config(), new SplittableRandom(seed));
            return new ScalarModel(base.config(), w, base.generationConfig().orElse(null), a, base, false, null);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    /**
     * Loads a PEFT {@code SEQ_CLS} LoRA adapter directory over a base language model (the adapter's matrices and the
     * {@code modules_to_save} head {@code score.weight}, plus rlhf4j's {@code score.bias} when present). A directory
     * without a head gets a fresh one from {@code headSeed}, logged.
     *
     * @param adapterDir the adapter directory
     * @param base the frozen trunk (not copied)
     * @param ownsBase whether {@link #close} closes the base
     * @param headSeed seed for a missing head
     * @return the model
     * @throws IOException when a file is missing, malformed, unsupported or does not fit the base (names file and
     *     field or tensor)
     */
    public static ScalarModel loadAdapter(Path adapterDir, CausalLm base, boolean ownsBase, long headSeed)
            throws IOException {
        if (base instanceof LoraModel) {
            throw new IllegalArgumentException("the base of a LoRA scalar model must be a plain model");
        }
        return AtomicReads.read(adapterDir, d -> {
            PeftFiles.AdapterConfig ac = PeftFiles.readConfig(d);
            Path cfgFile = d.resolve(PeftFiles.CONFIG_FILE);
            if (!PeftFiles.SEQ_CLS.equals(ac.taskType())) {
                throw new ModelFormatException(cfgFile, "task_type is " + ac.taskType() + "; a scalar model's "
                        + "adapter needs " + PeftFiles.SEQ_CLS);
            }
            for (String m : ac.modulesToSave()) {
                if (!SEQ_CLS_MODULES_TO_SAVE.contains(m)) {
                    throw new ModelFormatException(cfgFile, "modules_to_save holds '" + m + "'; only the head ("
                            + SEQ_CLS_MODULES_TO_SAVE + ") is supported");
                }
            }
            Weights w = new Weights(parentOf(base));
            try {
                LoraAdapter a = PeftFiles.readAdapter(d, ac, base.config(), base.weights(), w,
                        new LinkedHashSet<>(List.of(HEAD_WEIGHT, HEAD_BIAS)));
                Path file = d.resolve(PeftFiles.WEIGHTS_FILE);
                Shape want = new Shape(1, base.config().hiddenSize());
                if (!w.contains(HEAD_WEIGHT)) {
                    LOG.info("{}: no '{}', initialising a new scalar head (seed {})", file, HEAD_WEIGHT, headSeed);
                    initHead(w, base.config(), new SplittableRandom(headSeed));
                } else if (!w.get(HEAD_WEIGHT).getShape().equals(want)) {
                    throw new ModelFormatException(file, "tensor '" + PeftFiles.PREFIX + HEAD_WEIGHT + "' has shape "
                            + w.get(HEAD_WEIGHT).getShape() + ", expected " + want);
                }
                if (!w.contains(HEAD_BIAS)) {
                    w.put(HEAD_BIAS, Weights.zeros(w.manager(), new Shape(1)));
                } else if (!w.get(HEAD_BIAS).getShape().equals(new Shape(1))) {
                    throw new ModelFormatException(file, "tensor '" + PeftFiles.PREFIX + HEAD_BIAS + "' has shape "
                            + w.get(HEAD_BIAS).getShape() + ", expected (1)");
                }
                return new ScalarModel(base.config(), w, base.generationConfig().orElse(null), a, base, ownsBase,
                        ac.baseModel());
            } catch (IOException | RuntimeException e) {
                w.close();
                throw e;
            }
        });
    }

    private static NDManager parentOf(CausalLm base) {
        NDManager m = base.weights().manager();
        return m.getParentManager() != null ? m.getParentManager() : m;
    }

    /**
     * Returns the LoRA adapter of a model over a shared base ({@link #lora}); empty for a full model.
     *
     * @return the adapter, or empty
     */
    public Optional<LoraAdapter> adapter() {
        return Optional.ofNullable(adapter);
    }

    /**
     * Returns the frozen shared trunk of a LoRA model; empty for a full model.
     *
     * @return the base, or empty
     */
    public Optional<CausalLm> base() {
        return Optional.ofNullable(base);
    }

    /**
     * Sets the {@code base_model_name_or_path} a LoRA model's {@link #save} writes (as given).
     *
     * @param path the base model's directory
     * @return this model
     * @throws IllegalStateException for a full model
     */
    public ScalarModel optBasePath(Path path) {
        if (adapter == null) {
            throw new IllegalStateException("only a LoRA scalar model has a base path");
        }
        this.basePath = path == null ? null : path.toString();
        return this;
    }

    /**
     * Returns the {@code base_model_name_or_path} of a LoRA model (null when unknown or for a full model).
     *
     * @return the base path as given, or null
     */
    public String basePath() {
        return basePath;
    }

    private static void initHead(Weights w, ModelConfig c, SplittableRandom rng) {
        int d = c.hiddenSize();
        w.put(HEAD_WEIGHT, Weights.normal(w.manager(), new Shape(1, d), 1 / Math.sqrt(d + 1.0), rng));
        w.put(HEAD_BIAS, Weights.zeros(w.manager(), new Shape(1)));
    }

    /**
     * Loads an HF-format directory (weights in one file or shards, float32, bfloat16 or float16:
     * {@link ModelTensors}; a {@code generation_config.json} is kept and saved again). A directory holding only a
     * language model (no {@code score.weight}) gets a fresh head from {@code headSeed}, logged; a missing
     * {@code score.bias} (plain HF classification checkpoints have none) starts at 0. {@code config.json} may describe
     * any supported architecture ({@link ModelConfig#read}).
     *
     * <p>A PEFT {@code SEQ_CLS} adapter directory ({@code adapter_config.json}, no {@code config.json}) loads as a LoRA
     * model ({@link #loadAdapter}) over the base its {@code base_model_name_or_path} names (absolute or relative to
     * the adapter directory); the returned model owns that base.
     *
     * <p>Only reads: while a trainer is replacing the directory, the last complete version is read
     * ({@link AtomicReads}). A tensor holding NaN or infinity is refused.
     *
     * @param dir the directory
     * @param parent the parent manager
     * @param headSeed seed for a missing head
     * @return the model
     * @throws org.rlhf4j.core.io.NonFiniteTensorException when a weight holds NaN or infinity (names file and
     *     tensor)
     * @throws IOException when a file is missing or inconsistent
     */
    public static ScalarModel load(Path dir, NDManager parent, long headSeed) throws IOException {
        Path resolved = AtomicReads.resolve(dir);
        if (PeftFiles.isAdapterDir(resolved) && !Files.exists(resolved.resolve("config.json"))) {
            // a PEFT SEQ_CLS adapter: load the base its base_model_name_or_path names, owned by the scalar model
            CausalLm lm = CausalLm.load(LoraModel.resolveBase(dir), parent);
            if (lm instanceof LoraModel chain) {
                // the base is itself an adapter: its merged model is the trunk
                try (chain) {
                    lm = chain.merge(parent);
                }
            }
            try {
                return loadAdapter(dir, lm, true, headSeed);
            } catch (IOException | RuntimeException e) {
                lm.close();
                throw e;
            }
        }
        return AtomicReads.read(dir, d -> loadFrom(d, parent, headSeed));
    }

    private static ScalarModel loadFrom(Path dir, NDManager parent, long headSeed) throws IOException {
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        HfGenerationConfig generation = HfGenerationConfig.readIfPresent(dir).orElse(null);
        Weights w = new Weights(parent);
        try (ModelTensors st = ModelTensors.open(dir)) {
            Set<String> used = new HashSet<>();
            loadTrunk(config, st, w, used);
            if (st.entries().containsKey(HEAD_WEIGHT)) {
                SafeTensors.Entry e = st.entries().get(HEAD_WEIGHT);
                Shape want = new Shape(1, config.hiddenSize());
                if (!e.shape().equals(want)) {
                    throw new ModelFormatException(st.fileOf(HEAD_WEIGHT),
                            "tensor '" + HEAD_WEIGHT + "' has shape " + e.shape() + ", expected " + want);
                }
                w.put(HEAD_WEIGHT, owned(st, HEAD_WEIGHT, w.manager()));
                used.add(HEAD_WEIGHT);
                if (st.entries().containsKey(HEAD_BIAS)) {
                    SafeTensors.Entry b = st.entries().get(HEAD_BIAS);
                    if (!b.shape().equals(new Shape(1))) {
                        throw new ModelFormatException(st.fileOf(HEAD_BIAS),
                                "tensor '" + HEAD_BIAS + "' has shape " + b.shape() + ", expected (1)");
                    }
                    w.put(HEAD_BIAS, owned(st, HEAD_BIAS, w.manager()));
                    used.add(HEAD_BIAS);
                } else {
                    w.put(HEAD_BIAS, Weights.zeros(w.manager(), new Shape(1)));
                }
            } else {
                LOG.info("{}: no '{}', initialising a new scalar head (seed {})", st.source(), HEAD_WEIGHT, headSeed);
                initHead(w, config, new SplittableRandom(headSeed));
            }
            TransformerOps.warnUnused(st, used, Set.of(lmHeadName(config)));
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return new ScalarModel(config, w, generation);
    }

    private static NDArray owned(ModelTensors st, String name, NDManager m) throws ModelFormatException {
        NDArray view = st.load(name, m);
        NDArray a = Weights.ownedFloat32(view);
        view.close();
        return a;
    }

    /**
     * Returns the configuration.
     *
     * @return the config
     */
    public ModelConfig config() {
        return config;
    }

    /**
     * Returns the trainable parameters: transformer and head for a full model; the adapter's matrices
     * ({@code <module>.lora_A.weight}, {@code <module>.lora_B.weight}) and the head for a LoRA model, whose trunk is
     * the shared base's weights.
     *
     * @return the weights
     */
    public Weights weights() {
        return weights;
    }

    /**
     * Returns the manager owning the weights.
     *
     * @return the manager
     */
    public NDManager manager() {
        return weights.manager();
    }

    /**
     * Runs the transformer.
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @return {@code [B, T, d]}
     */
    public NDArray hidden(NDArray ids, NDArray mask) {
        return hidden(ids, mask, ForwardHook.NONE);
    }

    /**
     * Runs the transformer with a {@link ForwardHook} (adapters, compute dtype); a LoRA model applies its adapter
     * first, then {@code hook}.
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @param hook what the forward applies to the parameters
     * @return {@code [B, T, d]}
     */
    public NDArray hidden(NDArray ids, NDArray mask, ForwardHook hook) {
        ForwardHook h = adapter == null ? hook : adapter.andThen(hook);
        if (config instanceof Gpt2Config c) {
            return Gpt2.transformer(trunk, c, ids, mask, null, h);
        } else if (config instanceof GptNeoXConfig c) {
            return GptNeoX.transformer(trunk, c, ids, mask, null, h);
        } else if (config instanceof LlamaConfig c) {
            return Llama.transformer(trunk, c, ids, mask, null, h);
        }
        throw unhandled(config);
    }

    /**
     * Returns the scalar output at every position, v_t = w·h_t + b (critic values).
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @return {@code [B, T]}
     */
    public NDArray values(NDArray ids, NDArray mask) {
        return head(hidden(ids, mask));
    }

    /**
     * Applies the head to hidden states.
     *
     * @param hidden {@code [B, T, d]}
     * @return {@code [B, T]}
     */
    public NDArray head(NDArray hidden) {
        return Linear.linear(hidden, weights.get(HEAD_WEIGHT), weights.get(HEAD_BIAS)).singletonOrThrow().squeeze(-1);
    }

    /**
     * Returns each sequence's score: the scalar at its last real token (mask 1). Works for left-padded prompts
     * followed by right-padded responses.
     *
     * @param ids {@code [B, T]} token ids
     * @param mask {@code [B, T]} attention mask
     * @return {@code [B]}
     */
    public NDArray score(NDArray ids, NDArray mask) {
        NDArray v = values(ids, mask);
        return v.gather(lastRealIndex(mask).expandDims(1), 1).squeeze(1);
    }

    /**
     * Returns the index of the last position whose mask is 1, per row: argmax_t (t+1)·mask_t.
     *
     * @param mask {@code [B, T]} mask
     * @return {@code [B]} int64 indices
     */
    public static NDArray lastRealIndex(NDArray mask) {
        long t = mask.getShape().get(1);
        NDArray pos = mask.getManager().arange(1, t + 1, 1, DataType.FLOAT32);
        return mask.toType(DataType.FLOAT32, false).mul(pos).argMax(1).toType(DataType.INT64, false);
    }

    /**
     * Returns the head bias b.
     *
     * @return b
     */
    public float bias() {
        return weights.get(HEAD_BIAS).getFloat(0);
    }

    /**
     * Sets the head bias b (e.g. to make reference summaries score 0 on average).
     *
     * @param b the new bias
     */
    public void setBias(float b) {
        weights.get(HEAD_BIAS).set(new float[] {b});
    }

    /**
     * Saves {@code config.json} (architecture {@code GPT2ForSequenceClassification},
     * {@code GPTNeoXForSequenceClassification}, {@code LlamaForSequenceClassification}, ...) and float32 weights in
     * one {@code model.safetensors} up to 5 GB ({@link SaveOptions#DEFAULTS}).
     *
     * @param dir the directory (must exist)
     * @throws IOException on write failure
     */
    public void save(Path dir) throws IOException {
        save(dir, SaveOptions.DEFAULTS);
    }

    /**
     * Saves the model with a dtype and shard limit ({@link ModelFiles#save}), and {@code generation_config.json} when
     * the loaded model had one. A LoRA model saves a PEFT {@code SEQ_CLS} adapter instead: {@code adapter_config.json}
     * ({@code modules_to_save: ["classifier", "score"]}, {@link #basePath()}) and {@code adapter_model.safetensors}
     * with the matrices, {@code base_model.model.score.weight} and rlhf4j's {@code base_model.model.score.bias} (which
     * PEFT, like transformers, does not use); nothing of the base.
     *
     * @param dir the directory (must exist)
     * @param options dtype and shard limit
     * @throws org.rlhf4j.core.io.NonFiniteTensorException when a weight holds NaN or infinity, or overflows the dtype;
     *     nothing is written then
     * @throws IOException on write failure
     */
    public void save(Path dir, SaveOptions options) throws IOException {
        if (adapter != null) {
            Map<String, NDArray> tensors = new LinkedHashMap<>(adapter.tensors());
            tensors.put(HEAD_WEIGHT, weights.get(HEAD_WEIGHT));
            tensors.put(HEAD_BIAS, weights.get(HEAD_BIAS));
            PeftFiles.write(dir, adapter.config(), adapter.patterns(), base.config(), adapter.modules(), PeftFiles.SEQ_CLS, basePath,
                    SEQ_CLS_MODULES_TO_SAVE, tensors, options);
            if (generation != null) {
                generation.write(dir.resolve(HfGenerationConfig.FILE));
            }
            return;
        }
        ModelFiles.save(dir, config, weights, options, generation);
    }

    /**
     * Returns the {@code generation_config.json} the model was loaded with, if any.
     *
     * @return the generation config, or empty
     */
    public Optional<HfGenerationConfig> generationConfig() {
        return Optional.ofNullable(generation);
    }

    /** Releases the weights (a LoRA model's: the adapter and head, and the base when it owns it). */
    @Override
    public void close() {
        weights.close();
        if (ownsBase) {
            base.close();
        }
    }

    // ---- per-architecture trunk: the only place ScalarModel looks at the concrete config type ----

    private static Map<String, Shape> trunkShapes(ModelConfig config) {
        if (config instanceof Gpt2Config c) {
            return Gpt2.expectedShapes(c);
        } else if (config instanceof GptNeoXConfig c) {
            return GptNeoX.expectedShapes(c);
        } else if (config instanceof LlamaConfig c) {
            return Llama.expectedShapes(c);
        }
        throw unhandled(config);
    }

    private static void initTrunk(ModelConfig config, Weights w, SplittableRandom rng) {
        if (config instanceof Gpt2Config c) {
            Gpt2.initTransformer(w, c, rng);
        } else if (config instanceof GptNeoXConfig c) {
            GptNeoX.initTransformer(w, c, rng);
        } else if (config instanceof LlamaConfig c) {
            Llama.initTransformer(w, c, rng);
        } else {
            throw unhandled(config);
        }
    }

    private static void loadTrunk(ModelConfig config, ModelTensors st, Weights w, Set<String> used)
            throws ModelFormatException {
        if (config instanceof Gpt2Config c) {
            Gpt2.loadTransformer(st, c, w, used);
        } else if (config instanceof GptNeoXConfig c) {
            GptNeoX.loadTransformer(st, c, w, used);
        } else if (config instanceof LlamaConfig c) {
            Llama.loadTransformer(st, c, w, used);
        } else {
            throw unhandled(config);
        }
    }

    /** The causal LM's output projection, which a scalar model drops. */
    private static String lmHeadName(ModelConfig config) {
        if (config instanceof Gpt2Config) {
            return "lm_head.weight";
        } else if (config instanceof GptNeoXConfig) {
            return GptNeoX.EMBED_OUT;
        } else if (config instanceof LlamaConfig) {
            return Llama.LM_HEAD;
        }
        throw unhandled(config);
    }

    private static String classifierArchitecture(ModelConfig config) {
        if (config instanceof Gpt2Config) {
            return "GPT2ForSequenceClassification";
        } else if (config instanceof GptNeoXConfig) {
            return "GPTNeoXForSequenceClassification";
        } else if (config instanceof LlamaConfig c) {
            return c.family().classifierArchitecture();
        }
        throw unhandled(config);
    }

    private static AssertionError unhandled(ModelConfig config) {
        return new AssertionError("unhandled ModelConfig " + config.getClass());
    }
}
