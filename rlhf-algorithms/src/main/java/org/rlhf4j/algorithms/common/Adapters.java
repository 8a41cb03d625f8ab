package org.rlhf4j.algorithms.common;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.rlhf4j.core.io.AtomicReads;
import org.rlhf4j.core.lora.LoraAdapter;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.lora.PeftFiles;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.train.Seeds;

/**
 * How the trainers and commands use LoRA adapters ({@link LoraModel}): loading a model directory that may be an
 * adapter, putting a fresh adapter over a loaded model, the frozen reference of a LoRA policy, and LoRA dropout during
 * a training step.
 *
 * <p><b>Adapters over adapters.</b> A {@link LoraModel}'s base is a full model (stacked adapters are not supported).
 * A run that starts from an adapter directory (e.g. DPO from a LoRA SFT run's {@code model/}) trains a fresh adapter
 * over the merged model W + s·BA ({@link #loadMerged}), and records the adapter directory it started from as its
 * {@code base_model_name_or_path}; {@link #load} resolves such a chain by merging every adapter below the top one,
 * which reproduces the trained model exactly (the merge is the same fp32 arithmetic each time).
 */
public final class Adapters {

    /** Seed stream of the LoRA dropout masks ({@link Seeds#derive}). */
    public static final long DROPOUT_STREAM = 111;

    private Adapters() {}

    /**
     * Returns whether a directory is a PEFT adapter directory (adapter config, no {@code config.json}).
     *
     * @param dir the directory
     * @return true for an adapter
     */
    public static boolean isAdapter(Path dir) {
        Path d = AtomicReads.resolve(dir);
        return LoraModel.isAdapterDir(d) && !Files.exists(d.resolve("config.json"));
    }

    /**
     * Loads a model directory as a full model to train from: a full model as {@link CausalLm#load} does; an adapter
     * directory merged into its base (W' = W + s·B·A, {@link LoraModel#merge}), recursively when the base is itself
     * an adapter directory.
     *
     * @param dir the model or adapter directory
     * @param parent the parent manager
     * @return a full model (never a {@link LoraModel})
     * @throws IOException when a directory is missing or malformed, or an adapter's base cannot be resolved
     */
    public static CausalLm loadMerged(Path dir, NDManager parent) throws IOException {
        if (!isAdapter(dir)) {
            return CausalLm.load(dir, parent);
        }
        try (LoraModel lora = loadAdapter(dir, parent)) {
            return lora.merge(parent);
        }
    }

    /**
     * Loads a model directory for use as it is: a full model, or an adapter directory as a {@link LoraModel} over its
     * base ({@link #loadMerged} of {@code base_model_name_or_path}, so adapter chains load too). The result owns
     * what it loaded.
     *
     * @param dir the model or adapter directory
     * @param parent the parent manager
     * @return the model
     * @throws IOException when a directory is missing or malformed
     */
    public static CausalLm load(Path dir, NDManager parent) throws IOException {
        return isAdapter(dir) ? loadAdapter(dir, parent) : CausalLm.load(dir, parent);
    }

    /**
     * Resolves an adapter's {@code base_model_name_or_path} to a local directory: an absolute path, or one relative
     * to the adapter directory, holding a model or another adapter (an adapter chain).
     *
     * @param adapterDir the adapter directory
     * @return the base directory
     * @throws IOException when the field is absent or names no local model or adapter directory (the message names
     *     the file and suggests passing the base explicitly)
     */
    public static Path baseOf(Path adapterDir) throws IOException {
        Path d = AtomicReads.resolve(adapterDir);
        PeftFiles.AdapterConfig ac = PeftFiles.readConfig(d);
        String base = ac.baseModel();
        if (base != null && !base.isBlank()) {
            Path p;
            try {
                p = Path.of(base);
            } catch (RuntimeException e) {
                p = null;
            }
            if (p != null) {
                Path resolved = p.isAbsolute() ? p : adapterDir.resolve(p).normalize();
                if (isAdapter(resolved)) {
                    return resolved;
                }
            }
        }
        return LoraModel.resolveBase(adapterDir); // a model directory, or the error naming the field
    }

    private static LoraModel loadAdapter(Path dir, NDManager parent) throws IOException {
        CausalLm base = loadMerged(baseOf(dir), parent);
        try {
            return LoraModel.load(dir, base, true);
        } catch (IOException | RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /**
     * Loads a scalar (reward or value) model directory: a full one as {@link ScalarModel#load} does; a PEFT
     * {@code SEQ_CLS} adapter directory over its base ({@link #loadMerged} of {@code base_model_name_or_path}, so an
     * adapter trained over a merged LoRA SFT model loads too), the base owned by the result.
     *
     * @param dir the directory
     * @param parent the parent manager
     * @param headSeed seed of a head the directory lacks
     * @return the model
     * @throws IOException when a directory is missing or malformed
     */
    public static ScalarModel loadScalar(Path dir, NDManager parent, long headSeed) throws IOException {
        if (!isAdapter(dir)) {
            return ScalarModel.load(dir, parent, headSeed);
        }
        return loadScalarOver(dir, loadMerged(baseOf(dir), parent), true, headSeed);
    }

    /**
     * Loads a scalar model directory over a base model already in memory when the directory is a {@code SEQ_CLS}
     * adapter trained over that same base directory (its {@code base_model_name_or_path} and {@code baseDir} resolve
     * to the same path): one copy of the base then serves the policy, the reference, the reward model and the critic.
     * Otherwise it is loaded on its own ({@link #loadScalar}).
     *
     * @param dir the scalar model directory
     * @param base the base model in memory (a plain model: a LoRA policy's {@code base()})
     * @param baseDir the directory {@code base} was loaded from
     * @param parent the parent manager
     * @param headSeed seed of a head the directory lacks
     * @return the model (not owning {@code base} when it shares it)
     * @throws IOException when a directory is missing or malformed
     */
    public static ScalarModel loadScalarSharing(Path dir, CausalLm base, Path baseDir, NDManager parent,
            long headSeed) throws IOException {
        if (isAdapter(dir) && sameDir(baseOf(dir), baseDir)) {
            return loadScalarOver(dir, base, false, headSeed);
        }
        return loadScalar(dir, parent, headSeed);
    }

    private static boolean sameDir(Path a, Path b) {
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    private static ScalarModel loadScalarOver(Path dir, CausalLm base, boolean owns, long headSeed)
            throws IOException {
        try {
            return ScalarModel.loadAdapter(dir, base, owns, headSeed);
        } catch (IOException | RuntimeException e) {
            if (owns) {
                base.close();
            }
            throw e;
        }
    }

    /**
     * Puts a fresh adapter over a loaded model, or returns the model unchanged without LoRA settings. The adapter
     * owns the model, and records {@code modelDir} (absolute) as its {@code base_model_name_or_path}.
     *
     * @param model the loaded model (full; becomes the frozen base)
     * @param modelDir the directory it was loaded from, or null (from scratch: the adapter has no loadable base)
     * @param lora the adapter settings, or null for full fine-tuning
     * @param seed seed of the adapter's A matrices
     * @return the LoRA model, or {@code model}
     */
    public static CausalLm withAdapter(CausalLm model, Path modelDir, LoraConfig lora, long seed) {
        if (lora == null) {
            return model;
        }
        try {
            LoraModel l = LoraModel.create(model, lora, seed, true);
            return modelDir == null ? l : l.optBasePath(modelDir.toAbsolutePath().normalize());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Returns the frozen base of a LoRA policy, which is its reference policy (the policy with the adapter disabled:
     * no second model is loaded or copied), or null for a full policy (whose reference is a separate copy).
     *
     * @param policy the policy
     * @return the base, or null
     */
    public static CausalLm sharedReference(CausalLm policy) {
        return policy instanceof LoraModel l ? l.base() : null;
    }

    /**
     * Returns the adapters of models by role, for {@link TrainingLoop.Trainee#adapters()}: each {@link LoraModel}'s
     * settings under its role.
     *
     * @param roles role to model (a {@code CausalLm} or anything else; non-LoRA models are left out)
     * @return role to adapter settings
     */
    public static Map<String, LoraConfig> of(Map<String, ?> roles) {
        Map<String, LoraConfig> out = new LinkedHashMap<>();
        roles.forEach((role, model) -> {
            if (model instanceof LoraModel l) {
                out.put(role, l.loraConfig());
            } else if (model instanceof ScalarModel s && s.adapter().isPresent()) {
                out.put(role, s.adapter().get().config());
            }
        });
        return out;
    }

    /**
     * Turns LoRA dropout on for one training step, with masks seeded from the run seed and the step (so a resumed run
     * draws the same masks), until closed. A no-op for a full model or an adapter with dropout 0.
     *
     * @param model the model being trained
     * @param seed the run seed
     * @param step the update
     * @return what turns training mode off again
     */
    public static Training training(CausalLm model, long seed, long step) {
        return model instanceof LoraModel l ? training(l.adapter(), seed, step) : () -> {};
    }

    /**
     * Turns LoRA dropout on for one training step of a scalar model ({@link #training(CausalLm, long, long)}).
     *
     * @param model the model being trained
     * @param seed the run seed
     * @param step the update
     * @return what turns training mode off again
     */
    public static Training training(ScalarModel model, long seed, long step) {
        return model.adapter().map(a -> training(a, seed, step)).orElse(() -> {});
    }

    private static Training training(LoraAdapter a, long seed, long step) {
        if (a.config().dropout() <= 0) {
            return () -> {};
        }
        a.setDropoutSeed(Seeds.derive(seed, step, DROPOUT_STREAM));
        a.setTraining(true);
        return () -> a.setTraining(false);
    }

    /** Ends a training step's dropout ({@link #training}). */
    @FunctionalInterface
    public interface Training extends AutoCloseable {
        /** Turns training mode off. */
        @Override
        void close();
    }
}
