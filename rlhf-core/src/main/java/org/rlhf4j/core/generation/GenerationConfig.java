package org.rlhf4j.core.generation;

/**
 * Sampling settings (validated, immutable).
 *
 * @param maxNewTokens maximum number of generated tokens (PPO TL;DR: 53)
 * @param minNewTokens EOS is suppressed before this many tokens (HF {@code min_new_tokens}; default 0)
 * @param temperature softmax temperature τ; 0 means greedy (PPO TL;DR: 0.7)
 * @param topK keep only the k most likely tokens; 0 = off (references: off)
 * @param topP nucleus sampling mass p in (0, 1]; 1 = off (references: 1)
 * @param eosMode what EOS does
 * @param eosTokenId the EOS id
 * @param padTokenId the id written at padding positions (never attended, never in a loss)
 * @param useKvCache incremental decoding with a KV cache (true) or full recomputation each step (benchmarks)
 */
public record GenerationConfig(
        int maxNewTokens,
        int minNewTokens,
        double temperature,
        int topK,
        double topP,
        EosMode eosMode,
        int eosTokenId,
        int padTokenId,
        boolean useKvCache) {

    /** Validates the settings. */
    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        }
        if (minNewTokens < 0 || minNewTokens > maxNewTokens) {
            throw new IllegalArgumentException(
                    "minNewTokens must be in [0, maxNewTokens=" + maxNewTokens + "], got " + minNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0 and finite, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (eosMode == null) {
            throw new IllegalArgumentException("eosMode must not be null");
        }
        if (eosTokenId < 0 || padTokenId < 0) {
            throw new IllegalArgumentException("token ids must be >= 0, got eos=" + eosTokenId + ", pad=" + padTokenId);
        }
    }

    /**
     * Sampling that stops at EOS: temperature 1, no top-k/top-p, KV cache on.
     *
     * @param maxNewTokens maximum new tokens
     * @param eosTokenId EOS id (also used as padding)
     * @return the config
     */
    public static GenerationConfig sampling(int maxNewTokens, int eosTokenId) {
        return new GenerationConfig(maxNewTokens, 0, 1.0, 0, 1.0, EosMode.STOP, eosTokenId, eosTokenId, true);
    }

    /**
     * The references' PPO rollout settings: τ = 0.7, top-k off, top-p 1, exactly {@code length} tokens, truncate
     * after the first EOS.
     *
     * @param length response length (53 for TL;DR)
     * @param eosTokenId EOS id (also used as padding)
     * @return the config
     */
    public static GenerationConfig rollout(int length, int eosTokenId) {
        return new GenerationConfig(
                length, 0, 0.7, 0, 1.0, EosMode.FIXED_LENGTH_THEN_TRUNCATE, eosTokenId, eosTokenId, true);
    }

    /**
     * Returns whether decoding is greedy (τ = 0).
     *
     * @return true when greedy
     */
    public boolean greedy() {
        return temperature == 0;
    }

    /**
     * Returns a copy with another temperature.
     *
     * @param t τ
     * @return the copy
     */
    public GenerationConfig withTemperature(double t) {
        return new GenerationConfig(maxNewTokens, minNewTokens, t, topK, topP, eosMode, eosTokenId, padTokenId, useKvCache);
    }

    /**
     * Returns a copy with top-k and top-p.
     *
     * @param k top-k (0 = off)
     * @param p top-p (1 = off)
     * @return the copy
     */
    public GenerationConfig withTopKTopP(int k, double p) {
        return new GenerationConfig(maxNewTokens, minNewTokens, temperature, k, p, eosMode, eosTokenId, padTokenId, useKvCache);
    }

    /**
     * Returns a copy with the given minimum number of new tokens.
     *
     * @param n min new tokens
     * @return the copy
     */
    public GenerationConfig withMinNewTokens(int n) {
        return new GenerationConfig(maxNewTokens, n, temperature, topK, topP, eosMode, eosTokenId, padTokenId, useKvCache);
    }

    /**
     * Returns a copy with the KV cache on or off.
     *
     * @param on whether to use the cache
     * @return the copy
     */
    public GenerationConfig withKvCache(boolean on) {
        return new GenerationConfig(maxNewTokens, minNewTokens, temperature, topK, topP, eosMode, eosTokenId, padTokenId, on);
    }

    /**
     * Returns a copy with another EOS mode.
     *
     * @param mode the mode
     * @return the copy
     */
    public GenerationConfig withEosMode(EosMode mode) {
        return new GenerationConfig(maxNewTokens, minNewTokens, temperature, topK, topP, mode, eosTokenId, padTokenId, useKvCache);
    }
}
