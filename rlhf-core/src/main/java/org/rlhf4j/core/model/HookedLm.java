package org.rlhf4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Optional;

/** A {@link CausalLm} whose forwards apply a {@link ForwardHook} first ({@link CausalLm#withHook}). */
final class HookedLm implements CausalLm {

    private final CausalLm base;
    private final ForwardHook hook;

    HookedLm(CausalLm base, ForwardHook hook) {
        this.base = base;
        this.hook = hook;
    }

    @Override
    public ModelConfig config() {
        return base.config();
    }

    @Override
    public Weights weights() {
        return base.weights();
    }

    @Override
    public NDArray hidden(NDArray ids, NDArray mask, KvCache cache, ForwardHook explicit) {
        return base.hidden(ids, mask, cache, hook.andThen(explicit));
    }

    @Override
    public NDArray logits(NDArray hidden, ForwardHook explicit) {
        return base.logits(hidden, hook.andThen(explicit));
    }

    @Override
    public CausalLm copy(NDManager parent) {
        return base.copy(parent).withHook(hook);
    }

    @Override
    public CausalLm withHook(ForwardHook next) {
        return next == ForwardHook.NONE ? this : new HookedLm(base, hook.andThen(next));
    }

    @Override
    public Optional<HfGenerationConfig> generationConfig() {
        return base.generationConfig();
    }

    /** Saves the underlying model as it saves itself (the hook changes how it computes, not what it is). */
    @Override
    public void save(java.nio.file.Path dir, org.rlhf4j.core.io.SaveOptions options) throws java.io.IOException {
        base.save(dir, options);
    }

    @Override
    public void close() {
        base.close();
    }

    @Override
    public String toString() {
        return base + " with " + hook;
    }
}
