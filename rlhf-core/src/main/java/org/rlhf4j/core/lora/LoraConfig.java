package org.rlhf4j.core.lora;

import java.util.List;
import java.util.Map;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.ModelConfig;

/**
 * The settings of a LoRA adapter, with PEFT's names and defaults ({@code peft.LoraConfig}).
 *
 * <p>A targeted linear layer computes y = x Wᵀ + b + s·(dropout_p(x) Aᵀ) Bᵀ, A ∈ ℝ^{r×in} initialised
 * Kaiming-uniform (PEFT {@code init_lora_weights=True}: U(−1/√in, 1/√in)), B ∈ ℝ^{out×r} initialised to zero, so a
 * fresh adapter leaves the model unchanged.
 *
 * @param r the rank r ({@code r}, PEFT default 8); must be ≥ 1
 * @param alpha the scale numerator α ({@code lora_alpha}, PEFT default 8); must be &gt; 0
 * @param dropout dropout probability p on the adapter's input during training ({@code lora_dropout}, default 0);
 *     in [0, 1)
 * @param targetModules the modules to adapt ({@code target_modules}): each entry matches a module whose HF path equals
 *     it or ends with {@code "." + entry} (PEFT's list matching), or the single entry {@value #ALL_LINEAR} for every
 *     linear layer of the transformer except the output projection; empty means PEFT's default for the
 *     architecture ({@link #defaultTargets}: {@code c_attn} for GPT-2, {@code query_key_value} for GPT-NeoX,
 *     {@code q_proj} and {@code v_proj} for the Llama family)
 * @param useRslora rank-stabilised scaling s = α/√r instead of α/r ({@code use_rslora}, Kalajdzievski 2023, default
 *     false)
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, boolean useRslora) {

    /** The {@code target_modules} value that selects every linear layer but the output projection. */
    public static final String ALL_LINEAR = "all-linear";

    private static final Map<String, List<String>> DEFAULT_TARGETS = Map.of(
            "gpt2", List.of("c_attn"),
            "gpt_neox", List.of("query_key_value"),
            "llama", List.of("q_proj", "v_proj"),
            "mistral", List.of("q_proj", "v_proj"),
            "qwen2", List.of("q_proj", "v_proj"),
            "qwen3", List.of("q_proj", "v_proj"));

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    public LoraConfig {
        if (r < 1) {
            throw new IllegalArgumentException("lora r must be >= 1, got " + r);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("lora_alpha must be a finite number > 0, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
        targetModules = List.copyOf(targetModules == null ? List.of() : targetModules);
        for (String t : targetModules) {
            if (t.isBlank() || t.startsWith(".") || t.endsWith(".")) {
                throw new IllegalArgumentException("lora target module names must be non-blank module paths, got '"
                        + t + "' in " + targetModules);
            }
        }
        if (targetModules.contains(ALL_LINEAR) && targetModules.size() > 1) {
            throw new IllegalArgumentException("'" + ALL_LINEAR + "' must be the only lora target, got "
                    + targetModules);
        }
    }

    /**
     * Returns a configuration with PEFT's defaults for everything but the rank and α (dropout 0, the architecture's
     * default targets, α/r scaling).
     *
     * @param r the rank
     * @param alpha α
     * @return the configuration
     */
    public static LoraConfig of(int r, double alpha) {
        return new LoraConfig(r, alpha, 0, List.of(), false);
    }

    /**
     * Returns the output scale s of the adapter: α/r, or α/√r with rsLoRA.
     *
     * @return s
     */
    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    /**
     * Returns this configuration with other target modules.
     *
     * @param targets the targets (empty for the architecture's default)
     * @return the configuration
     */
    public LoraConfig withTargetModules(List<String> targets) {
        return new LoraConfig(r, alpha, dropout, targets, useRslora);
    }

    /**
     * Returns this configuration with another dropout probability.
     *
     * @param p the probability, in [0, 1)
     * @return the configuration
     */
    public LoraConfig withDropout(double p) {
        return new LoraConfig(r, alpha, p, targetModules, useRslora);
    }

    /**
     * Returns this configuration with rsLoRA scaling on or off.
     *
     * @param rslora whether s = α/√r
     * @return the configuration
     */
    public LoraConfig withRslora(boolean rslora) {
        return new LoraConfig(r, alpha, dropout, targetModules, rslora);
    }

    /**
     * Returns PEFT's default {@code target_modules} for an architecture
     * ({@code TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING} in {@code peft/utils/constants.py}).
     *
     * @param model the model's configuration
     * @return the default targets
     */
    public static List<String> defaultTargets(ModelConfig model) {
        String type;
        if (model instanceof Gpt2Config) {
            type = "gpt2";
        } else if (model instanceof GptNeoXConfig) {
            type = "gpt_neox";
        } else if (model instanceof LlamaConfig l) {
            type = l.family().modelType();
        } else {
            throw new IllegalArgumentException("no default lora targets for " + model.getClass().getSimpleName());
        }
        return DEFAULT_TARGETS.get(type);
    }

    /**
     * Returns the targets this configuration selects on a model: its own, or the architecture's default when empty.
     *
     * @param model the model's configuration
     * @return the targets
     */
    public List<String> resolvedTargets(ModelConfig model) {
        return targetModules.isEmpty() ? defaultTargets(model) : targetModules;
    }

    /**
     * Returns whether a module is adapted, by PEFT's rule for a list of targets: the module path equals an entry or
     * ends with {@code "." + entry}. {@value #ALL_LINEAR} matches every module asked about (callers only ask about
     * the transformer's linear layers).
     *
     * @param targets resolved targets ({@link #resolvedTargets})
     * @param module the HF module path, e.g. {@code model.layers.0.self_attn.q_proj}
     * @return whether it is adapted
     */
    public static boolean matches(List<String> targets, String module) {
        for (String t : targets) {
            if (t.equals(ALL_LINEAR) || module.equals(t) || module.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }
}
