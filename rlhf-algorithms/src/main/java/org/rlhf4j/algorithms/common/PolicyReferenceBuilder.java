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
     * {@code CausalLm.copy} of the policy or a second {@code CausalLm.load}.
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
     * Checks that the reference is not the policy itself, nor shares its weights (training would move it too).
     *
     * @throws IllegalArgumentException when it is or does
     */
    protected void checkSeparateReference() {
        if (reference == policy || reference.weights() == policy.weights()) {
            throw new IllegalArgumentException("the reference must be a separate frozen copy of the policy "
                    + "(e.g. CausalLm.copy or a second CausalLm.load), not the policy itself");
        }
    }
}
