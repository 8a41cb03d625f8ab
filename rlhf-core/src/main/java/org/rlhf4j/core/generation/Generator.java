package org.rlhf4j.core.generation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.KvCache;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * Batched autoregressive sampling over left-padded prompts.
 *
 * <p>"EOS" below means any of {@link GenerationConfig#eosTokenIds()} (one id, or several for models whose
 * {@code eos_token_id} is a list). Each step: z = logits of the last position; EOS is suppressed (z_eos = −∞) while
 * fewer than {@code minNewTokens} tokens exist; with τ &gt; 0 a token is drawn from softmax(z/τ) restricted to the
 * top-k tokens and to the smallest set whose mass reaches top-p, by inverse-CDF sampling with one uniform per sample
 * and step from a {@link SplittableRandom} seeded by the caller (so a seed fixes the result on every device); with
 * τ = 0 it is argmax z. Where a sample has a forced prefix, the token at step t &lt; |prefix| is the prefix's token
 * instead (teacher forcing inside generation, DR-PO's reset), and its recorded log-probability is that of the forced
 * token.
 *
 * <p>With the KV cache, the prompt is encoded once into a {@link KvCache} preallocated for the longest prompt plus
 * {@code maxNewTokens} (new keys and values are written in place, attention reads a view of the written prefix), and
 * each step feeds one token. A step runs entirely on the device except for <b>one</b> device-to-host copy: the chosen
 * tokens and their log-probabilities, stacked as a {@code [2, B]} float32 array (ids are exact in float32 below
 * 2<sup>24</sup>). Everything a step needs from the host (the uniforms, the EOS suppression row, the forced prefixes,
 * which rows have ended) is copied to the device once per call, and the tokens fed back are the device array itself.
 *
 * <p>In {@link EosMode#FIXED_LENGTH_THEN_TRUNCATE} mode decoding stops as soon as every response holds an EOS: the
 * columns not generated are exactly what {@link #truncateAfterEos} would have made of them (padding, mask 0, logprob
 * 0), so the rollout is the same as with all {@code maxNewTokens} steps and keeps that width.
 */
public final class Generator {

    /** Token ids travel to the host as float32, exact up to 2^24. */
    private static final long FLOAT_EXACT_INTS = 1L << 24;

    private Generator() {}

    /**
     * Generates responses.
     *
     * @param model the policy
     * @param prompts prompt ids per sample (non-empty)
     * @param forcedPrefixes per-sample tokens to teacher-force at the start of the response; null or empty arrays for
     *     none
     * @param cfg sampling settings
     * @param seed seed of this call's random stream
     * @return the rollout
     */
    public static Rollout generate(
            CausalLm model, List<int[]> prompts, List<int[]> forcedPrefixes, GenerationConfig cfg, long seed) {
        int batch = prompts.size();
        if (batch == 0) {
            throw new IllegalArgumentException("no prompts");
        }
        if (forcedPrefixes != null && forcedPrefixes.size() != batch) {
            throw new IllegalArgumentException(
                    "forcedPrefixes has " + forcedPrefixes.size() + " entries for " + batch + " prompts");
        }
        int tp = 0;
        for (int i = 0; i < batch; i++) {
            if (prompts.get(i).length == 0) {
                throw new IllegalArgumentException("prompt " + i + " is empty");
            }
            tp = Math.max(tp, prompts.get(i).length);
        }
        int maxNew = cfg.maxNewTokens();
        if (tp + maxNew > model.config().maxPositions()) {
            throw new IllegalArgumentException(
                    "longest prompt (" + tp + ") + maxNewTokens (" + maxNew + ") exceeds "
                            + model.config().maxPositionsField() + "=" + model.config().maxPositions());
        }
        int[][] forced = new int[batch][];
        for (int b = 0; b < batch; b++) {
            forced[b] = forcedPrefixes == null || forcedPrefixes.get(b) == null ? new int[0] : forcedPrefixes.get(b);
            if (forced[b].length > maxNew) {
                throw new IllegalArgumentException(
                        "forced prefix of sample " + b + " has " + forced[b].length + " tokens > maxNewTokens " + maxNew);
            }
        }
        int[][] promptIds = new int[batch][tp];
        int[][] promptMask = new int[batch][tp];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            int off = tp - p.length;
            Arrays.fill(promptIds[b], 0, off, cfg.padTokenId());
            System.arraycopy(p, 0, promptIds[b], off, p.length);
            Arrays.fill(promptMask[b], off, tp, 1);
        }
        int[][] resp = new int[batch][maxNew];
        int[][] respMask = new int[batch][maxNew];
        float[][] lps = new float[batch][maxNew];
        int[][] forcedMask = new int[batch][maxNew];
        for (int[] r : resp) {
            Arrays.fill(r, cfg.padTokenId());
        }
        boolean stop = cfg.eosMode() == EosMode.STOP;
        // STOP: the sequence has ended; truncation mode: the response holds an EOS (everything after is cut)
        boolean[] done = new boolean[batch];
        // one uniform per sample and step, drawn in the order the steps consume them (step-major), even for greedy
        // or forced samples so the stream does not depend on them; drawn up front so that a step copies nothing
        // to the device
        SplittableRandom rng = new SplittableRandom(seed);
        float[] uniforms = new float[maxNew * batch];
        for (int i = 0; i < uniforms.length; i++) {
            uniforms[i] = (float) rng.nextDouble();
        }
        int steps = 0;
        try (NDManager m = model.manager().newSubManager();
                KvCache cache = cfg.useKvCache() ? new KvCache(model.config().numLayers(), tp + maxNew) : null) {
            NDArray logits;
            try (NDScope scope = new NDScope()) {
                NDArray ids = m.create(toLong(promptIds), new Shape(batch, tp));
                NDArray mask = m.create(toFloat(promptMask), new Shape(batch, tp));
                logits = lastLogits(model, ids, mask, cache);
                NDScope.unregister(logits);
            }
            DeviceInputs dev = DeviceInputs.create(m, cfg, forced, uniforms, batch, maxNew, logits.getShape().get(1));
            for (int t = 0; t < maxNew; t++) {
                NDArray next = null;
                try (NDScope scope = new NDScope()) {
                    Choice choice = choose(m, logits, t, cfg, dev);
                    NDArray token = choice.tokens();
                    // the one device-to-host copy of the step: row 0 the token ids (exact in float32 below 2^24),
                    // row 1 their log-probabilities
                    float[] read = NDArrays.stack(new NDList(token.toType(DataType.FLOAT32, false),
                            choice.logprobs().toType(DataType.FLOAT32, false))).toFloatArray();
                    for (int b = 0; b < batch; b++) {
                        if (stop && done[b]) {
                            continue;
                        }
                        int tok = (int) read[b];
                        resp[b][t] = tok;
                        respMask[b][t] = 1;
                        lps[b][t] = read[batch + b];
                        forcedMask[b][t] = t < forced[b].length ? 1 : 0;
                        if (cfg.isEos(tok)) {
                            done[b] = true;
                        }
                    }
                    steps = t + 1;
                    // truncation mode stops once every response holds an EOS: the columns left would all become
                    // padding (mask 0, logprob 0) in truncateAfterEos, which is what they already are
                    if (allTrue(done) || t == maxNew - 1) {
                        break;
                    }
                    if (cache != null) {
                        NDArray feed = token.reshape(batch, 1);
                        NDArray feedMask = dev.ones;
                        if (stop) {
                            // ended rows feed padding with mask 0 (their later columns are padding)
                            feed = feed.getNDArrayInternal().where(dev.alive, dev.pad);
                            feedMask = dev.alive.toType(DataType.FLOAT32, false);
                            dev.updateAlive(feed);
                        }
                        next = lastLogits(model, feed, feedMask, cache);
                    } else {
                        int len = tp + t + 1;
                        long[] ids = new long[batch * len];
                        float[] mk = new float[batch * len];
                        for (int b = 0; b < batch; b++) {
                            for (int j = 0; j < len; j++) {
                                boolean inPrompt = j < tp;
                                ids[b * len + j] = inPrompt ? promptIds[b][j] : resp[b][j - tp];
                                mk[b * len + j] = inPrompt ? promptMask[b][j] : respMask[b][j - tp];
                            }
                        }
                        next = lastLogits(model, m.create(ids, new Shape(batch, len)), m.create(mk, new Shape(batch, len)), null);
                    }
                    NDScope.unregister(next);
                } finally {
                    logits.close();
                    logits = next;
                }
            }
        }
        int n = stop ? steps : maxNew;
        int[][] outIds = new int[batch][];
        int[][] outMask = new int[batch][];
        float[][] outLp = new float[batch][];
        int[][] outForced = new int[batch][];
        for (int b = 0; b < batch; b++) {
            outIds[b] = Arrays.copyOf(resp[b], n);
            outMask[b] = Arrays.copyOf(respMask[b], n);
            outLp[b] = Arrays.copyOf(lps[b], n);
            outForced[b] = Arrays.copyOf(forcedMask[b], n);
            if (!stop) {
                truncateAfterEos(outIds[b], outMask[b], outLp[b], outForced[b], cfg::isEos, cfg.padTokenId());
            }
        }
        return new Rollout(promptIds, promptMask, outIds, outMask, outLp, outForced);
    }

    /**
     * Truncates a response after its first EOS: later positions become padding with mask 0 and logprob 0
     * (summarize_from_feedback_details {@code truncate_response}).
     */
    static void truncateAfterEos(int[] ids, int[] mask, float[] lp, int[] forced, int eos, int pad) {
        truncateAfterEos(ids, mask, lp, forced, t -> t == eos, pad);
    }

    /** Truncates a response after its first token that {@code isEos} accepts (any of several EOS ids). */
    static void truncateAfterEos(int[] ids, int[] mask, float[] lp, int[] forced, IntPredicate isEos, int pad) {
        boolean seen = false;
        for (int t = 0; t < ids.length; t++) {
            if (seen) {
                ids[t] = pad;
                mask[t] = 0;
                lp[t] = 0;
                forced[t] = 0;
            } else if (isEos.test(ids[t]) && mask[t] == 1) {
                seen = true;
            }
        }
    }

    private static NDArray lastLogits(CausalLm model, NDArray ids, NDArray mask, KvCache cache) {
        NDArray h = model.hidden(ids, mask, cache);
        return model.logits(h.get(new NDIndex(":, -1, :")));
    }

    /**
     * What the steps read on the device, copied there once per call so that a step copies nothing from the host: the
     * uniforms, the EOS suppression row of {@code minNewTokens}, the forced prefixes and, in STOP mode, which rows are
     * still running.
     */
    private static final class DeviceInputs {
        /** {@code [maxNew, B]} float32: the uniform of sample b at step t. */
        final NDArray uniforms;
        /** {@code [1, V]} float32: −∞ at every EOS id inside the vocabulary, else 0; null when minNewTokens = 0. */
        final NDArray suppressEos;
        /** {@code [B, F]} int64 forced tokens (F = longest forced prefix), null when F = 0. */
        final NDArray forcedIds;
        /** {@code [B, F]} boolean: position t of sample b is forced; null when F = 0. */
        final NDArray forcedOn;
        /** The longest forced prefix. */
        final int forcedLength;
        /** {@code [1, E]} int64: the EOS ids. */
        final NDArray eosIds;
        /** {@code [B, 1]} float32 ones: the mask of a fed token. */
        final NDArray ones;
        /** {@code [B, 1]} int64 padding ids (STOP: what ended rows feed). */
        final NDArray pad;
        /** {@code [B, 1]} boolean: the row has not ended (STOP mode; all true in truncation mode). */
        NDArray alive;

        private DeviceInputs(NDArray uniforms, NDArray suppressEos, NDArray forcedIds, NDArray forcedOn,
                int forcedLength, NDArray eosIds, NDArray ones, NDArray pad, NDArray alive) {
            this.uniforms = uniforms;
            this.suppressEos = suppressEos;
            this.forcedIds = forcedIds;
            this.forcedOn = forcedOn;
            this.forcedLength = forcedLength;
            this.eosIds = eosIds;
            this.ones = ones;
            this.pad = pad;
            this.alive = alive;
        }

        /** Creates the arrays in {@code m} (outside any step's scope: they live until {@code m} closes). */
        static DeviceInputs create(NDManager m, GenerationConfig cfg, int[][] forced, float[] uniforms, int batch,
                int maxNew, long vocab) {
            if (vocab > FLOAT_EXACT_INTS) {
                // the step's single device-to-host copy carries token ids as float32
                throw new IllegalArgumentException("vocabulary of " + vocab + " tokens exceeds 2^24, the largest id "
                        + "float32 holds exactly");
            }
            NDArray u = m.create(uniforms, new Shape(maxNew, batch));
            NDArray sup = null;
            if (cfg.minNewTokens() > 0) {
                float[] row = new float[(int) vocab];
                for (int eos : cfg.eosTokenIds()) {
                    // transformers MinNewTokensLengthLogitsProcessor suppresses every id of eos_token_id (an id
                    // outside the vocabulary can never be sampled)
                    if (eos < vocab) {
                        row[eos] = Float.NEGATIVE_INFINITY;
                    }
                }
                sup = m.create(row, new Shape(1, vocab));
            }
            int f = 0;
            for (int[] p : forced) {
                f = Math.max(f, p.length);
            }
            NDArray fIds = null;
            NDArray fOn = null;
            if (f > 0) {
                long[] ids = new long[batch * f];
                boolean[] on = new boolean[batch * f];
                for (int b = 0; b < batch; b++) {
                    for (int j = 0; j < forced[b].length; j++) {
                        ids[b * f + j] = forced[b][j];
                        on[b * f + j] = true;
                    }
                }
                fIds = m.create(ids, new Shape(batch, f));
                fOn = m.create(on, new Shape(batch, f));
            }
            List<Integer> eos = cfg.eosTokenIds();
            long[] eosArr = new long[eos.size()];
            for (int i = 0; i < eosArr.length; i++) {
                eosArr[i] = eos.get(i);
            }
            long[] padArr = new long[batch];
            Arrays.fill(padArr, cfg.padTokenId());
            boolean[] aliveArr = new boolean[batch];
            Arrays.fill(aliveArr, true);
            return new DeviceInputs(u, sup, fIds, fOn, f, m.create(eosArr, new Shape(1, eosArr.length)),
                    m.ones(new Shape(batch, 1)), m.create(padArr, new Shape(batch, 1)),
                    m.create(aliveArr, new Shape(batch, 1)));
        }

        /**
         * Ends the rows whose fed token is an EOS: alive ← alive ∧ ¬(token ∈ EOS). Called inside a step's scope; the
         * new array outlives it.
         *
         * @param fed {@code [B, 1]} int64 tokens fed this step
         */
        void updateAlive(NDArray fed) {
            NDArray isEos = fed.eq(eosIds).toType(DataType.INT32, false).max(new int[] {1}, true)
                    .toType(DataType.BOOLEAN, false);
            NDArray next = alive.logicalAnd(isEos.logicalNot());
            NDScope.unregister(next);
            alive.close();
            alive = next;
        }
    }

    /**
     * The tokens chosen at one step and their log-probabilities, on the device.
     *
     * @param tokens {@code [B]} int64
     * @param logprobs {@code [B]} log softmax(z/τ) at the tokens
     */
    private record Choice(NDArray tokens, NDArray logprobs) {}

    /**
     * Chooses the step's tokens on the device (no host copy; scalars are made on the device by
     * {@link TensorOps#scalar}, not wrapped from Java as {@code NDArray.lt(Number)} would): sampling or argmax, then
     * the forced prefix tokens where a sample has one ({@code where(forced, forcedToken, sampled)}), then the
     * log-probabilities of the chosen tokens.
     */
    private static Choice choose(NDManager m, NDArray logits, int t, GenerationConfig cfg, DeviceInputs dev) {
        int batch = (int) logits.getShape().get(0);
        long vocab = logits.getShape().get(1);
        NDArray z = logits;
        if (t < cfg.minNewTokens()) {
            z = z.add(dev.suppressEos);
        }
        NDArray scaled = cfg.greedy() ? z : TensorOps.div(z, cfg.temperature());
        NDArray logp = scaled.logSoftmax(-1);
        NDArray u = dev.uniforms.get(t).reshape(batch, 1);
        NDArray token;
        if (cfg.greedy()) {
            token = z.argMax(1);
        } else if (cfg.topK() > 0 || cfg.topP() < 1) {
            NDArray order = scaled.argSort(-1, false);
            NDArray sortedP = logp.exp().gather(order, -1);
            NDArray massBefore = sortedP.cumSum(-1).sub(sortedP);
            NDArray keep = massBefore.lt(TensorOps.scalar(massBefore, cfg.topP()));
            if (cfg.topK() > 0) {
                NDArray rank = m.arange(0, vocab, 1, DataType.INT64).reshape(1, vocab);
                keep = keep.logicalAnd(rank.lt(TensorOps.scalar(rank, cfg.topK())));
            }
            NDArray filtered = sortedP.mul(keep.toType(DataType.FLOAT32, false));
            NDArray idx = inverseCdf(filtered, u, vocab);
            token = order.gather(idx.expandDims(1), 1).squeeze(1);
        } else {
            token = inverseCdf(logp.exp(), u, vocab);
        }
        token = token.toType(DataType.INT64, false);
        if (t < dev.forcedLength) {
            NDIndex col = new NDIndex(":, {}", t);
            token = dev.forcedIds.get(col).getNDArrayInternal().where(dev.forcedOn.get(col), token);
        }
        NDArray lp = logp.gather(token.reshape(batch, 1), 1).squeeze(1);
        return new Choice(token, lp);
    }

    /** Index of the first position whose cumulative weight reaches u·total, per row. */
    private static NDArray inverseCdf(NDArray weights, NDArray u, long vocab) {
        NDArray cum = weights.cumSum(-1);
        NDArray total = cum.get(new NDIndex(":, -1:"));
        NDArray target = u.mul(total);
        return TensorOps.minimum(cum.lt(target).toType(DataType.INT64, false).sum(new int[] {1}), vocab - 1);
    }

    private static boolean allTrue(boolean[] a) {
        for (boolean x : a) {
            if (!x) {
                return false;
            }
        }
        return true;
    }

    private static long[] toLong(int[][] a) {
        int cols = a[0].length;
        long[] out = new long[a.length * cols];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < cols; j++) {
                out[i * cols + j] = a[i][j];
            }
        }
        return out;
    }

    private static float[] toFloat(int[][] a) {
        int cols = a[0].length;
        float[] out = new float[a.length * cols];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < cols; j++) {
                out[i * cols + j] = a[i][j];
            }
        }
        return out;
    }
}
