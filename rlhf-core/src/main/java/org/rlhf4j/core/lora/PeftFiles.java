package org.rlhf4j.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.ModelTensors;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.Weights;

/**
 * PEFT's adapter directory: {@code adapter_config.json} ({@code peft.LoraConfig.save_pretrained}) and
 * {@code adapter_model.safetensors} with the tensors named {@code base_model.model.<module>.lora_A.weight},
 * {@code base_model.model.<module>.lora_B.weight} and, for a {@code SEQ_CLS} adapter, the {@code modules_to_save}
 * head {@code base_model.model.score.weight} ({@code get_peft_model_state_dict} in
 * {@code peft/utils/save_and_load.py}). Read and written by {@link LoraModel} and the LoRA variant of
 * {@link org.rlhf4j.core.model.ScalarModel}.
 */
public final class PeftFiles {

    /** The adapter's configuration file. */
    public static final String CONFIG_FILE = "adapter_config.json";

    /** The adapter's tensors. */
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    /** Prefix of every tensor name in {@link #WEIGHTS_FILE} ({@code PeftModel.base_model.model}). */
    public static final String PREFIX = "base_model.model.";

    /** PEFT's {@code task_type} of a causal-LM adapter. */
    public static final String CAUSAL_LM = "CAUSAL_LM";

    /** PEFT's {@code task_type} of a sequence-classification (reward model, critic) adapter. */
    public static final String SEQ_CLS = "SEQ_CLS";

    /** The PEFT version whose format is written (checked with {@code scripts/peft_fixture.py}). */
    public static final String PEFT_VERSION = "0.21.0";

    /**
     * What {@code adapter_config.json} says that rlhf4j uses.
     *
     * @param lora rank, α, dropout, targets, rsLoRA
     * @param taskType {@code task_type} ({@link #CAUSAL_LM}, {@link #SEQ_CLS}; null when absent)
     * @param baseModel {@code base_model_name_or_path} as written (null when absent)
     * @param modulesToSave {@code modules_to_save} (empty when null)
     * @param targetPattern a string {@code target_modules} other than {@code all-linear} (PEFT: a regular expression
     *     matched with {@code re.fullmatch}); null for a list. {@code lora.targetModules()} is then empty and the
     *     loader replaces it by the modules the tensors adapt
     * @param patterns {@code rank_pattern} and {@code alpha_pattern}
     */
    public record AdapterConfig(LoraConfig lora, String taskType, String baseModel, List<String> modulesToSave,
            String targetPattern, LoraPatterns patterns) {

        /**
         * Copies the list.
         */
        public AdapterConfig {
            modulesToSave = List.copyOf(modulesToSave);
        }
    }

    private PeftFiles() {}

    /**
     * Returns whether a directory holds a PEFT adapter ({@code adapter_config.json}).
     *
     * @param dir the directory
     * @return true when {@code adapter_config.json} is a regular file there
     */
    public static boolean isAdapterDir(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG_FILE));
    }

    /**
     * Reads {@code adapter_config.json}, refusing what rlhf4j does not implement: a {@code peft_type} other than
     * {@code LORA}, DoRA ({@code use_dora}), trained biases
     * ({@code bias} other than {@code "none"}, {@code lora_bias}), {@code layer_replication},
     * {@code trainable_token_indices}, {@code target_parameters}, aLoRA ({@code alora_invocation_tokens}) and
     * QA-LoRA ({@code use_qalora}). A string {@code target_modules} other than {@code "all-linear"} is a regular
     * expression in PEFT; it is kept as the list of modules the tensors adapt ({@link LoraModel#load}).
     *
     * @param dir the adapter directory
     * @return the configuration
     * @throws ModelFormatException when the file is missing, malformed or asks for an unsupported feature (names the
     *     file and field)
     */
    public static AdapterConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, "missing: not a PEFT adapter directory");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file, "must hold a JSON object");
        }
        String peftType = text(file, root, "peft_type", null);
        if (!"LORA".equals(peftType)) {
            throw new ModelFormatException(file, "peft_type is " + peftType + "; only LORA adapters are supported");
        }
        refuseTrue(file, root, "use_dora", "DoRA (weight-decomposed LoRA) is not supported");
        refuseTrue(file, root, "lora_bias", "trained LoRA biases are not supported");
        refuseTrue(file, root, "use_qalora", "QA-LoRA is not supported");
        refuseNonEmpty(file, root, "layer_replication", "layer replication is not supported");
        refuseNonEmpty(file, root, "trainable_token_indices", "trainable tokens are not supported");
        refuseNonEmpty(file, root, "target_parameters", "adapters on parameters (not modules) are not supported");
        refuseNonEmpty(file, root, "alora_invocation_tokens", "activated LoRA (aLoRA) is not supported");
        String bias = text(file, root, "bias", "none");
        if (!"none".equals(bias)) {
            throw new ModelFormatException(file, "bias is \"" + bias + "\"; only \"none\" is supported");
        }
        int r = intField(file, root, "r", 8);
        double alpha = number(file, root, "lora_alpha", 8);
        double dropout = number(file, root, "lora_dropout", 0);
        boolean rslora = bool(file, root, "use_rslora", false);
        List<String> targets = new ArrayList<>();
        String pattern = null;
        JsonNode t = root.get("target_modules");
        if (t == null || t.isNull()) {
            targets = List.of();
        } else if (t.isTextual()) {
            // PEFT: a string is a regular expression (re.fullmatch), except the all-linear shorthand
            if (t.asText().equals(LoraConfig.ALL_LINEAR)) {
                targets.add(LoraConfig.ALL_LINEAR);
            } else {
                pattern = t.asText();
            }
        } else if (t.isArray()) {
            for (JsonNode e : t) {
                if (!e.isTextual()) {
                    throw new ModelFormatException(file, "target_modules must hold strings, got " + e);
                }
                targets.add(e.asText());
            }
        } else {
            throw new ModelFormatException(file, "target_modules must be a list of names or a string, got " + t);
        }
        List<String> toSave = new ArrayList<>();
        JsonNode mts = root.get("modules_to_save");
        if (mts != null && !mts.isNull()) {
            if (!mts.isArray()) {
                throw new ModelFormatException(file, "modules_to_save must be a list, got " + mts);
            }
            mts.forEach(e -> toSave.add(e.asText()));
        }
        LoraConfig lora;
        try {
            lora = new LoraConfig(r, alpha, dropout, targets, rslora);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
        String taskType = text(file, root, "task_type", null);
        String base = text(file, root, "base_model_name_or_path", null);
        LoraPatterns patterns;
        try {
            Map<String, Integer> rp = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : objectField(file, root, "rank_pattern")) {
                if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
                    throw new ModelFormatException(file, "rank_pattern['" + e.getKey() + "'] must be an integer, got "
                            + e.getValue());
                }
                rp.put(e.getKey(), e.getValue().asInt());
            }
            Map<String, Double> ap = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : objectField(file, root, "alpha_pattern")) {
                if (!e.getValue().isNumber()) {
                    throw new ModelFormatException(file, "alpha_pattern['" + e.getKey() + "'] must be a number, got "
                            + e.getValue());
                }
                ap.put(e.getKey(), e.getValue().asDouble());
            }
            patterns = new LoraPatterns(rp, ap);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
        return new AdapterConfig(lora, taskType, base, toSave, pattern, patterns);
    }

    /**
     * Writes {@code adapter_config.json} with every field PEFT 0.21 writes (so {@code PeftModel.from_pretrained}
     * and {@code LoraConfig.from_pretrained} read it), and the tensors in {@code adapter_model.safetensors} under
     * PEFT's names ({@link #PREFIX} + name), float32 stored as {@code options.dtype()}. The tensors are written first:
     * nothing is written when one holds NaN or infinity.
     *
     * @param dir the directory (must exist)
     * @param lora the settings
     * @param patterns per-module r and α ({@code rank_pattern}, {@code alpha_pattern})
     * @param model the base's configuration (GPT-2 gets {@code fan_in_fan_out: true}; default targets)
     * @param modules the adapted modules (an {@code all-linear} target is written as their distinct last
     *     components, as PEFT expands the shorthand before saving)
     * @param taskType {@link #CAUSAL_LM} or {@link #SEQ_CLS}
     * @param baseModel {@code base_model_name_or_path}, written as given (null writes JSON null)
     * @param modulesToSave {@code modules_to_save} (empty writes null)
     * @param tensors the tensors without the prefix, in order
     * @param options the dtype of float tensors
     * @return the files written
     * @throws IOException on write failure (or non-finite tensors)
     */
    public static List<Path> write(Path dir, LoraConfig lora, LoraPatterns patterns, ModelConfig model,
            List<LoraAdapter.Module> modules, String taskType, String baseModel, List<String> modulesToSave,
            Map<String, NDArray> tensors, SaveOptions options) throws IOException {
        Map<String, NDArray> prefixed = new LinkedHashMap<>();
        tensors.forEach((k, v) -> prefixed.put(PREFIX + k, v));
        Path weights = dir.resolve(WEIGHTS_FILE);
        SafeTensors.write(weights, prefixed, Map.of(), options.dtype().tensorDType());
        Path cfg = dir.resolve(CONFIG_FILE);
        Json.write(cfg, configJson(lora, patterns, model, modules, taskType, baseModel, modulesToSave));
        return List.of(weights, cfg);
    }

    /**
     * Returns the {@code adapter_config.json} object (keys sorted, as PEFT's {@code to_dict} + {@code json.dumps(
     * sort_keys=True)} writes them).
     *
     * @param lora the settings
     * @param patterns per-module r and α
     * @param model the base's configuration
     * @param modules the adapted modules
     * @param taskType the task type
     * @param baseModel the base path as given, or null
     * @param modulesToSave modules saved whole
     * @return the object
     */
    public static ObjectNode configJson(LoraConfig lora, LoraPatterns patterns, ModelConfig model,
            List<LoraAdapter.Module> modules, String taskType, String baseModel, List<String> modulesToSave) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.putNull("alora_invocation_tokens");
        ObjectNode ap = o.putObject("alpha_pattern");
        patterns.alpha().forEach((k, v) -> putNumber(ap, k, v));
        o.putNull("arrow_config");
        o.putNull("auto_mapping");
        if (baseModel == null) {
            o.putNull("base_model_name_or_path");
        } else {
            o.put("base_model_name_or_path", baseModel);
        }
        o.put("bias", "none");
        o.putNull("corda_config");
        o.put("ensure_weight_tying", false);
        o.putNull("eva_config");
        o.putNull("exclude_modules");
        // PEFT sets fan_in_fan_out for transformers' Conv1D (GPT-2), whose weight is stored [in, out]
        o.put("fan_in_fan_out", model instanceof Gpt2Config);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.putNull("layer_replication");
        o.putNull("layers_pattern");
        o.putNull("layers_to_transform");
        o.putObject("loftq_config");
        putNumber(o, "lora_alpha", lora.alpha());
        o.put("lora_bias", false);
        o.put("lora_dropout", lora.dropout());
        o.putNull("megatron_config");
        o.put("megatron_core", "megatron.core");
        if (modulesToSave.isEmpty()) {
            o.putNull("modules_to_save");
        } else {
            ArrayNode a = o.putArray("modules_to_save");
            modulesToSave.forEach(a::add);
        }
        o.put("peft_type", "LORA");
        o.put("peft_version", PEFT_VERSION);
        o.put("qalora_group_size", 16);
        o.put("r", lora.r());
        ObjectNode rp = o.putObject("rank_pattern");
        patterns.rank().forEach(rp::put);
        o.putNull("revision");
        ArrayNode targets = o.putArray("target_modules");
        List<String> resolved = lora.resolvedTargets(model);
        if (resolved.contains(LoraConfig.ALL_LINEAR)) {
            Set<String> leaves = new TreeSet<>();
            for (LoraAdapter.Module m : modules) {
                leaves.add(m.name().substring(m.name().lastIndexOf('.') + 1));
            }
            leaves.forEach(targets::add);
        } else {
            resolved.forEach(targets::add);
        }
        o.putNull("target_parameters");
        o.put("task_type", taskType);
        o.putNull("trainable_token_indices");
        o.put("use_dora", false);
        o.put("use_qalora", false);
        o.put("use_rslora", lora.useRslora());
        return o;
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            o.put(field, (long) v);
        } else {
            o.put(field, v);
        }
    }

    /**
     * Reads {@code adapter_model.safetensors} into {@code into}: the A and B matrices of every module it adapts, in the
     * base's forward order, then the {@code extras} it holds (a {@code SEQ_CLS} head). Every LoRA tensor must name a
     * linear layer of the base and have shape A {@code [r, in]}, B {@code [out, r]} with the configuration's r.
     *
     * @param dir the adapter directory
     * @param ac its configuration ({@link #readConfig})
     * @param model the base's configuration
     * @param base the base's weights
     * @param into where the tensors go (float32)
     * @param extras other tensor names (without prefix) the file may hold, e.g. {@code score.weight}
     * @return the adapter over {@code into}; a string {@code target_modules} is replaced by the adapted module paths
     * @throws ModelFormatException naming the file and the tensor that is unexpected, unpaired or mis-shaped
     */
    public static LoraAdapter readAdapter(Path dir, AdapterConfig ac, ModelConfig model, Weights base, Weights into,
            Set<String> extras) throws IOException {
        List<LoraAdapter.Module> candidates = LoraAdapter.linearModules(model, base);
        Map<String, LoraAdapter.Module> byName = new LinkedHashMap<>();
        candidates.forEach(m -> byName.put(m.name(), m));
        try (Opened f = open(dir)) {
            Set<String> adapted = new HashSet<>();
            for (String name : f.names().keySet()) {
                String module;
                if (name.endsWith(LoraAdapter.A_SUFFIX)) {
                    module = name.substring(0, name.length() - LoraAdapter.A_SUFFIX.length());
                } else if (name.endsWith(LoraAdapter.B_SUFFIX)) {
                    module = name.substring(0, name.length() - LoraAdapter.B_SUFFIX.length());
                } else if (extras.contains(name)) {
                    continue;
                } else {
                    throw new ModelFormatException(f.file(), "unexpected tensor '" + f.names().get(name)
                            + "' (only lora_A/lora_B matrices" + (extras.isEmpty() ? "" : " and " + extras)
                            + " are supported)");
                }
                if (!byName.containsKey(module)) {
                    throw new ModelFormatException(f.file(), "tensor '" + f.names().get(name) + "' adapts '" + module
                            + "', which is not a linear layer of the base model (its layers are named like "
                            + candidates.stream().limit(4).map(LoraAdapter.Module::name).toList() + ")");
                }
                adapted.add(module);
            }
            if (adapted.isEmpty()) {
                throw new ModelFormatException(f.file(), "holds no lora_A/lora_B tensors");
            }
            List<LoraAdapter.Module> modules = new ArrayList<>();
            for (LoraAdapter.Module m : candidates) {
                if (!adapted.contains(m.name())) {
                    continue;
                }
                modules.add(m);
                int r = ac.patterns().rankOf(m.name(), ac.lora().r());
                loadChecked(f, m.name() + LoraAdapter.A_SUFFIX, new Shape(r, m.in()), into);
                loadChecked(f, m.name() + LoraAdapter.B_SUFFIX, new Shape(m.out(), r), into);
            }
            for (String extra : extras) {
                if (f.names().containsKey(extra)) {
                    f.loadOwned(extra, into);
                }
            }
            LoraConfig lora = ac.lora();
            if (ac.targetPattern() != null) {
                lora = lora.withTargetModules(modules.stream().map(LoraAdapter.Module::name).toList());
            }
            return LoraAdapter.of(lora, ac.patterns(), modules, into, 0);
        }
    }

    private static void loadChecked(Opened f, String name, Shape want, Weights into) throws IOException {
        if (!f.names().containsKey(name)) {
            throw new ModelFormatException(f.file(), "tensor '" + PREFIX + name + "' is missing (every adapted module "
                    + "needs lora_A and lora_B)");
        }
        Shape got = f.shape(name);
        if (!got.equals(want)) {
            throw new ModelFormatException(f.file(), "tensor '" + PREFIX + name + "' has shape " + got + ", expected "
                    + want + " (r from " + CONFIG_FILE + " (r, rank_pattern) and the base model's layer)");
        }
        f.loadOwned(name, into);
    }

    /**
     * Opens {@code adapter_model.safetensors} and returns its tensors by name without the {@link #PREFIX}, checking
     * that every name has the prefix.
     *
     * @param dir the adapter directory
     * @return the open file (close it) and the map from stripped name to the stored name
     * @throws ModelFormatException when the file is missing or a name lacks the prefix
     */
    static Opened open(Path dir) throws IOException {
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            Path bin = dir.resolve("adapter_model.bin");
            throw new ModelFormatException(file, Files.exists(bin)
                    ? "missing; adapter_model.bin (pickle) is not read: re-save the adapter with safe_serialization"
                    : "missing");
        }
        ModelTensors st = ModelTensors.of(SafeTensors.open(file));
        Map<String, String> names = new LinkedHashMap<>();
        for (String stored : st.entries().keySet()) {
            if (!stored.startsWith(PREFIX)) {
                st.close();
                throw new ModelFormatException(file, "tensor '" + stored + "' does not start with '" + PREFIX + "'");
            }
            names.put(stored.substring(PREFIX.length()), stored);
        }
        return new Opened(file, st, names);
    }

    /** An open {@code adapter_model.safetensors}. */
    record Opened(Path file, ModelTensors tensors, Map<String, String> names) implements AutoCloseable {

        Shape shape(String name) {
            return tensors.entries().get(names.get(name)).shape();
        }

        NDArray loadOwned(String name, Weights into) throws ModelFormatException {
            NDArray view = tensors.load(names.get(name), into.manager());
            NDArray a = Weights.ownedFloat32(view);
            view.close();
            return into.put(name, a);
        }

        @Override
        public void close() {
            tensors.close();
        }
    }

    private static Iterable<Map.Entry<String, JsonNode>> objectField(Path file, JsonNode root, String field)
            throws ModelFormatException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isObject()) {
            throw new ModelFormatException(file, field + " must be an object (module pattern to value), got " + n);
        }
        return n::fields;
    }

    private static String text(Path file, JsonNode root, String field, String dflt) throws ModelFormatException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw new ModelFormatException(file, field + " must be a string, got " + n);
        }
        return n.asText();
    }

    private static int intField(Path file, JsonNode root, String field, int dflt) throws ModelFormatException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFormatException(file, field + " must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static double number(Path file, JsonNode root, String field, double dflt) throws ModelFormatException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new ModelFormatException(file, field + " must be a number, got " + n);
        }
        return n.asDouble();
    }

    private static boolean bool(Path file, JsonNode root, String field, boolean dflt) throws ModelFormatException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new ModelFormatException(file, field + " must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    private static void refuseTrue(Path file, JsonNode root, String field, String why) throws ModelFormatException {
        if (bool(file, root, field, false)) {
            throw new ModelFormatException(file, field + " is true: " + why);
        }
    }

    private static void refuseNonEmpty(Path file, JsonNode root, String field, String why)
            throws ModelFormatException {
        JsonNode n = root.get(field);
        if (n != null && !n.isNull() && !(n.isContainerNode() && n.isEmpty())) {
            throw new ModelFormatException(file, field + " is " + n + ": " + why);
        }
    }
}
