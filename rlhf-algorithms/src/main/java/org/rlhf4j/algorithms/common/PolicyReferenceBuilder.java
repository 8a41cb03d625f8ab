package org.rlhf4j.algorithms.common;

import org.rlhf4j.core.model.CausalLm;

/**
 * The builder settings of a trainer that updates a policy against a frozen reference policy (DPO, PPO, DR-PO): the
 * policy and the reference, both required, on top of {@link TrainerBuilder}'s.
 *
 * @param <B> the concrete builder type
 */
public abstract class PolicyReferenceBuilder<B extends PolicyReferenceBuilder<B>> extends TrainerBuilder<B> {

    /** The policy to train, or null. */
    protected CausalLm policy;
    /** The frozen reference policy, or null. */
    protected CausalLm reference;

    /** Creates a builder. */
    protected PolicyReferenceBuilder() {}

    /**
     * Sets the policy to train (updated in place; usually initialised from the SFT model).
     *
     * @param p the policy
     * @return this
     */
    public B setPolicy(CausalLm p) {
        this.policy = p;
        return self();
    }

    /**
     * Sets the frozen reference policy π_ref (usually the SFT model): a separate model object, never updated, e.g.
     * {@code CausalLm.copy} of the policy or a second {@code CausalLm.load}; for a LoRA policy
     * ({@link org.rlhf4j.core.lora.LoraModel}) its frozen base {@code base()}, which is the policy with the adapter
     * disabled (no second model in memory: {@link Adapters#sharedReference}).
     *
     * @param r the reference
     * @return this
     */
    public B setReference(CausalLm r) {
        this.reference = r;
        return self();
    }

    /**
     * Returns the policy, or null when not set.
     *
     * @return the policy
     */
    public CausalLm policy() {
        return policy;
    }

    /**
     * Returns the reference, or null when not set.
     *
     * @return the reference
     */
    public CausalLm reference() {
        return reference;
    }

    /**
     * Checks that the reference is not the policy itself, nor shares its trained weights (training would move it
     * too). A LoRA policy's frozen base is accepted: the optimizer trains only the adapter ({@code weights()} of a
     * {@link org.rlhf4j.core.lora.LoraModel}), never the base, so the base stays the policy at the start of training.
     * A reference that is a LoRA model with the policy's adapter tensors is refused like the policy itself.
     *
     * @throws IllegalArgumentException when it is or does
     */
    protected void checkSeparateReference() {
        if (policy instanceof org.rlhf4j.core.lora.LoraModel l && reference == l.base()) {
            return; // the frozen shared base: never updated
        }
        if (reference == policy || reference.weights() == policy.weights()) {
            throw new IllegalArgumentException("the reference must be a separate frozen copy of the policy "
                    + "(e.g. CausalLm.copy or a second CausalLm.load, or a LoRA policy's base()), not the policy "
                    + "itself");
        }
    }
}
