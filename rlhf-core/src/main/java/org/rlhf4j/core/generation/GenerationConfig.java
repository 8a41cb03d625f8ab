package org.rlhf4j.core.generation;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.rlhf4j.core.model.HfGenerationConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sampling settings (validated, immutable). Use a named factory ({@link #sampling(int, int)},
 * {@link #greedy(int, int)}, {@link #rollout(int, int)}) or, for anything else, {@link #builder(int, int)}, whose
 * defaults are given below; {@link #builder(HfGenerationConfig, int, int)} starts from a model's
 * {@code generation_config.json}.
 *
 * @param maxNewTokens maximum number of generated tokens (PPO TL;DR: 53); a builder argument
 * @param minNewTokens EOS is suppressed before this many tokens (HF {@code min_new_tokens}). Default 0.
 * @param temperature softmax temperature τ; 0 means greedy (PPO TL;DR: 0.7). Default 1.
 * @param topK keep only the k most likely tokens; 0 = off (references: off). Default 0.
 * @param topP nucleus sampling mass p in (0, 1]; 1 = off (references: 1). Default 1.
 * @param eosMode what EOS does. Default {@link EosMode#STOP}.
 * @param eosTokenId the EOS id; a builder argument
 * @param extraEosTokenIds further ids that end a sequence exactly as {@code eosTokenId} does (suppressed before
 *     {@code minNewTokens}, stop or truncate after), for models whose {@code eos_token_id} is a list: Llama 3
 *     instruct ends a turn with {@code <|eot_id|>} and text with {@code <|end_of_text|>}. Default none.
 * @param padTokenId the id written at padding positions (never attended, never in a loss). Default: the EOS id.
 * @param useKvCache incremental decoding with a KV cache preallocated for the prompt and the new tokens (true) or
 *     full recomputation each step (benchmarks). Default true.
 */
public record GenerationConfig(
        int maxNewTokens,
        int minNewTokens,
        double temperature,
        int topK,
        double topP,
        EosMode eosMode,
        int eosTokenId,
        List<Integer> extraEosTokenIds,
        int padTokenId,
        boolean useKvCache) {

    private static final Logger LOG = LoggerFactory.getLogger(GenerationConfig.class);

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
        if (eosTokenId < 0) {
            throw new IllegalArgumentException("eosTokenId must be >= 0, got " + eosTokenId);
        }
        if (extraEosTokenIds == null) {
            throw new IllegalArgumentException("extraEosTokenIds must not be null (empty for none)");
        }
        for (Integer id : extraEosTokenIds) {
            if (id == null || id < 0) {
                throw new IllegalArgumentException("extraEosTokenIds must be >= 0, got " + extraEosTokenIds);
            }
        }
        extraEosTokenIds = List.copyOf(extraEosTokenIds);
        if (padTokenId < 0) {
            throw new IllegalArgumentException("padTokenId must be >= 0, got " + padTokenId);
        }
    }

    /**
     * Returns every id that ends a sequence: {@link #eosTokenId()} first, then {@link #extraEosTokenIds()}.
     *
     * @return the ids, without duplicates
     */
    public List<Integer> eosTokenIds() {
        Set<Integer> ids = new LinkedHashSet<>();
        ids.add(eosTokenId);
        ids.addAll(extraEosTokenIds);
        return List.copyOf(ids);
    }

    /**
     * Returns whether a token ends a sequence (it is {@link #eosTokenId()} or one of {@link #extraEosTokenIds()}).
     *
     * @param token the token id
     * @return true for an end-of-sequence id
     */
    public boolean isEos(int token) {
        return token == eosTokenId || extraEosTokenIds.contains(token);
    }

    /**
     * Returns a builder with the defaults (see the class description).
     *
     * @param maxNewTokens maximum new tokens
     * @param eosTokenId EOS id (also the padding id unless {@link Builder#setPadTokenId} is called)
     * @return the builder
     */
    public static Builder builder(int maxNewTokens, int eosTokenId) {
        return new Builder(maxNewTokens, eosTokenId);
    }

    /**
     * Returns a builder initialised from a model's {@code generation_config.json} as transformers' {@code generate}
     * reads it: greedy unless {@code do_sample} is true; when sampling, {@code temperature} (default 1; 0 means
     * greedy), {@code top_k} (default 50, transformers' default; 0 = off) and {@code top_p} (default 1); every id of
     * {@code eos_token_id} ends a sequence ({@link Builder#setEosTokenIds}); {@code pad_token_id} pads (default: the
     * first EOS id); {@code max_new_tokens} bounds the response. {@code max_length} counts the prompt too, so it is
     * not applied (the caller's {@code maxNewTokens} is used), nor is {@code repetition_penalty}, which the
     * {@link Generator} does not implement (a value other than 1 is logged).
     *
     * @param hf the model's generation config
     * @param maxNewTokens maximum new tokens when the file has no {@code max_new_tokens}
     * @param eosTokenId EOS id when the file has no {@code eos_token_id}
     * @return the builder
     */
    public static Builder builder(HfGenerationConfig hf, int maxNewTokens, int eosTokenId) {
        Builder b = new Builder(hf.maxNewTokens() != null ? hf.maxNewTokens() : maxNewTokens, eosTokenId);
        if (!hf.eosTokenIds().isEmpty()) {
            b.setEosTokenIds(hf.eosTokenIds());
        }
        b.setPadTokenId(hf.padTokenId() != null ? hf.padTokenId() : b.eosTokenId);
        if (hf.sampling()) {
            b.setTemperature(hf.temperature() != null ? hf.temperature() : 1.0);
            // transformers GenerationConfig._get_default_generation_params: top_k 50, top_p 1.0
            b.setTopK(hf.topK() != null ? hf.topK() : 50);
            b.setTopP(hf.topP() != null ? hf.topP() : 1.0);
        } else {
            b.setTemperature(0.0);
        }
        if (hf.repetitionPenalty() != null && hf.repetitionPenalty() != 1.0) {
            LOG.warn("generation_config.json sets repetition_penalty={}, which rlhf4j's Generator does not apply",
                    hf.repetitionPenalty());
        }
        return b;
    }

    /**
     * Returns a builder initialised from this config.
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder(maxNewTokens, eosTokenId)
                .setMinNewTokens(minNewTokens)
                .setTemperature(temperature)
                .setTopK(topK)
                .setTopP(topP)
                .setEosMode(eosMode)
                .setExtraEosTokenIds(extraEosTokenIds)
                .setPadTokenId(padTokenId)
                .setUseKvCache(useKvCache);
    }

    /**
     * Sampling that stops at EOS: temperature 1, no top-k/top-p, KV cache on (the builder's defaults).
     *
     * @param maxNewTokens maximum new tokens
     * @param eosTokenId EOS id (also used as padding)
     * @return the config
     */
    public static GenerationConfig sampling(int maxNewTokens, int eosTokenId) {
        return builder(maxNewTokens, eosTokenId).build();
    }

    /**
     * Greedy decoding (τ = 0) that stops at EOS, KV cache on.
     *
     * @param maxNewTokens maximum new tokens
     * @param eosTokenId EOS id (also used as padding)
     * @return the config
     */
    public static GenerationConfig greedy(int maxNewTokens, int eosTokenId) {
        return builder(maxNewTokens, eosTokenId).setTemperature(0.0).build();
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
        return builder(length, eosTokenId).setTemperature(0.7).setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
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
        return toBuilder().setTemperature(t).build();
    }

    /**
     * Returns a copy with top-k and top-p.
     *
     * @param k top-k (0 = off)
     * @param p top-p (1 = off)
     * @return the copy
     */
    public GenerationConfig withTopKTopP(int k, double p) {
        return toBuilder().setTopK(k).setTopP(p).build();
    }

    /**
     * Returns a copy with the KV cache on or off.
     *
     * @param on whether to use the cache
     * @return the copy
     */
    public GenerationConfig withKvCache(boolean on) {
        return toBuilder().setUseKvCache(on).build();
    }

    /** Builder of {@link GenerationConfig}; each setter names a record component, documented there. */
    public static final class Builder {
        private int maxNewTokens;
        private int minNewTokens = 0;
        private double temperature = 1.0;
        private int topK = 0;
        private double topP = 1.0;
        private EosMode eosMode = EosMode.STOP;
        private int eosTokenId;
        private List<Integer> extraEosTokenIds = List.of();
        private int padTokenId;
        private boolean useKvCache = true;

        private Builder(int maxNewTokens, int eosTokenId) {
            this.maxNewTokens = maxNewTokens;
            this.eosTokenId = eosTokenId;
            this.padTokenId = eosTokenId;
        }

        /**
         * Sets {@link GenerationConfig#maxNewTokens()}.
         *
         * @param v maximum new tokens
         * @return this
         */
        public Builder setMaxNewTokens(int v) {
            maxNewTokens = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#minNewTokens()}.
         *
         * @param v minimum new tokens
         * @return this
         */
        public Builder setMinNewTokens(int v) {
            minNewTokens = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#temperature()}.
         *
         * @param v τ (0: greedy)
         * @return this
         */
        public Builder setTemperature(double v) {
            temperature = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#topK()}.
         *
         * @param v k (0: off)
         * @return this
         */
        public Builder setTopK(int v) {
            topK = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#topP()}.
         *
         * @param v p (1: off)
         * @return this
         */
        public Builder setTopP(double v) {
            topP = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#eosMode()}.
         *
         * @param v the mode
         * @return this
         */
        public Builder setEosMode(EosMode v) {
            eosMode = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#eosTokenId()}.
         *
         * @param v the EOS id (the padding id is not changed)
         * @return this
         */
        public Builder setEosTokenId(int v) {
            eosTokenId = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#extraEosTokenIds()}.
         *
         * @param v further end-of-sequence ids (empty for none)
         * @return this
         */
        public Builder setExtraEosTokenIds(List<Integer> v) {
            extraEosTokenIds = v;
            return this;
        }

        /**
         * Sets every end-of-sequence id at once, as a {@code generation_config.json} list gives them: the first
         * becomes {@link GenerationConfig#eosTokenId()}, the others {@link GenerationConfig#extraEosTokenIds()}. The
         * padding id is not changed.
         *
         * @param ids the ids (non-empty)
         * @return this
         * @throws IllegalArgumentException when the list is empty
         */
        public Builder setEosTokenIds(List<Integer> ids) {
            if (ids == null || ids.isEmpty()) {
                throw new IllegalArgumentException("eosTokenIds must not be empty, got " + ids);
            }
            eosTokenId = ids.get(0);
            extraEosTokenIds = ids.subList(1, ids.size());
            return this;
        }

        /**
         * Sets {@link GenerationConfig#padTokenId()}.
         *
         * @param v the padding id
         * @return this
         */
        public Builder setPadTokenId(int v) {
            padTokenId = v;
            return this;
        }

        /**
         * Sets {@link GenerationConfig#useKvCache()}.
         *
         * @param v whether to use the cache
         * @return this
         */
        public Builder setUseKvCache(boolean v) {
            useKvCache = v;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException when a value is out of range (the message names the field)
         */
        public GenerationConfig build() {
            return new GenerationConfig(maxNewTokens, minNewTokens, temperature, topK, topP, eosMode, eosTokenId,
                    extraEosTokenIds, padTokenId, useKvCache);
        }
    }
}
