package org.rlhf4j.algorithms.ppo;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.rlhf4j.algorithms.common.Adapters;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.lora.LoraConfig;
import org.rlhf4j.core.lora.LoraModel;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * The four models of online RLHF (PPO and DR-PO) and their tokenizer, loaded as the references set them up and
 * closed together: the policy and the frozen reference are two loads of the SFT checkpoint, the reward model is
 * frozen, and the critic starts as a copy of the reward model ({@link #criticFrom(ScalarModel, NDManager)}).
 *
 * @param tokenizer the SFT checkpoint's tokenizer
 * @param manager owns every model
 * @param policy the policy (trained)
 * @param reference the frozen reference (a second load of the SFT checkpoint)
 * @param rewardModel the frozen reward model
 * @param critic the critic (a copy of the reward model, trained)
 */
public record PpoModels(Tokenizer tokenizer, NDManager manager, CausalLm policy, CausalLm reference,
        ScalarModel rewardModel, ScalarModel critic) implements AutoCloseable {

    /**
     * Checks the parts.
     *
     * @param tokenizer tokenizer
     * @param manager manager
     * @param policy policy
     * @param reference reference
     * @param rewardModel reward model
     * @param critic critic
     */
    public PpoModels {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(manager, "manager");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(rewardModel, "rewardModel");
        Objects.requireNonNull(critic, "critic");
    }

    /**
     * Returns the critic initialised from the reward model: an independent copy of its trunk and scalar head, as
     * in Huang et al. 2024, "The N+ Implementation Details of RLHF with PPO: A Case Study on TL;DR Summarization"
     * (the value model is initialised from the reward model; TRL's PPO trainer does the same). The copy is trained;
     * the reward model stays frozen. A LoRA reward model's copy holds a copy of its adapter and head over the same
     * shared frozen base ({@link ScalarModel#copy}): the critic costs one adapter and one head.
     *
     * @param rewardModel the trained reward model
     * @param manager the parent manager of the copy
     * @return the critic
     */
    public static ScalarModel criticFrom(ScalarModel rewardModel, NDManager manager) {
        Objects.requireNonNull(rewardModel, "rewardModel");
        Objects.requireNonNull(manager, "manager");
        return rewardModel.copy(manager);
    }

    /**
     * Loads the tokenizer of the SFT checkpoint, the reward model, the policy and the reference (both from the SFT
     * checkpoint), and the critic ({@link #criticFrom}), on one new base manager.
     *
     * @param sft the SFT checkpoint directory
     * @param rewardModel the reward model directory
     * @param device where the models live
     * @param headSeed seed of a reward-model head, should the directory hold only a language model
     * @return the models; close them when done
     * @throws IOException when a directory is missing or malformed (nothing stays open)
     */
    public static PpoModels load(Path sft, Path rewardModel, Device device, long headSeed) throws IOException {
        return load(sft, rewardModel, device, headSeed, null, 0);
    }

    /**
     * Loads the models as {@link #load(Path, Path, Device, long)} does, the policy optionally as a LoRA adapter over
     * the frozen SFT model. With LoRA the reference is the policy's frozen base ({@link LoraModel#base()}, the policy
     * with its adapter disabled): one copy of the SFT weights serves both. An SFT directory that is itself an adapter
     * is merged into its base first ({@link Adapters#loadMerged}).
     *
     * <p>The reward model and the critic: a reward model trained with LoRA over the same SFT directory (a PEFT
     * {@code SEQ_CLS} adapter, e.g. {@code rlhf4j reward --model SFT --lora-r R}) is loaded over the policy's base,
     * and the critic is its copy ({@link #criticFrom}: a copy of the adapter and the head, the base shared), as the
     * references initialise the critic from the reward model: one copy of the SFT weights serves all four models,
     * and the critic trains only its adapter and head. A reward model over another base, or a full one, is loaded on
     * its own and the critic is its copy as without LoRA (full: a whole trained copy).
     *
     * @param sft the SFT checkpoint directory (a full model or an adapter)
     * @param rewardModel the reward model directory
     * @param device where the models live
     * @param headSeed seed of a reward-model head, should the directory hold only a language model
     * @param lora the policy's adapter settings, or null for full fine-tuning
     * @param adapterSeed seed of the fresh adapters
     * @return the models; close them when done
     * @throws IOException when a directory is missing or malformed (nothing stays open)
     */
    public static PpoModels load(Path sft, Path rewardModel, Device device, long headSeed, LoraConfig lora,
            long adapterSeed) throws IOException {
        Objects.requireNonNull(sft, "sft");
        Objects.requireNonNull(rewardModel, "rewardModel");
        Tokenizer tok = Checkpoint.tokenizerFor(sft);
        NDManager m = NDManager.newBaseManager(device);
        try {
            CausalLm policy = Adapters.withAdapter(Adapters.loadMerged(sft, m), sft, lora, adapterSeed);
            CausalLm reference = lora != null ? Adapters.sharedReference(policy) : Adapters.loadMerged(sft, m);
            ScalarModel rm = lora != null
                    ? Adapters.loadScalarSharing(rewardModel, reference, sft, m, headSeed)
                    : Adapters.loadScalar(rewardModel, m, headSeed);
            return new PpoModels(tok, m, policy, reference, rm, criticFrom(rm, m));
        } catch (IOException | RuntimeException e) {
            m.close();
            tok.close();
            throw e;
        }
    }

    @Override
    public void close() {
        tokenizer.close();
        manager.close();
    }
}
