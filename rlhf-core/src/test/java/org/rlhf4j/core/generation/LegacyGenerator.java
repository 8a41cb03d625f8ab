package org.rlhf4j.core.generation;

import ai.djl.ndarray.NDArray;
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
 * The generator as it was before the preallocated KV cache and the one-copy step (main at 5162259), kept verbatim as
 * the reference that {@link DecodeParityTest} compares the current {@link Generator} with: an unbounded (concatenating)
 * {@link KvCache}, two host reads per step, host-built feeds, and all {@code maxNewTokens} steps in truncation mode.
 */
final class LegacyGenerator {

    private LegacyGenerator() {}

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
    static Rollout generate(
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
        boolean[] done = new boolean[batch];
        SplittableRandom rng = new SplittableRandom(seed);
        int steps = 0;
        try (NDManager m = model.manager().newSubManager();
                KvCache cache = cfg.useKvCache() ? new KvCache(model.config().numLayers()) : null) {
            NDArray logits;
            try (NDScope scope = new NDScope()) {
                NDArray ids = m.create(toLong(promptIds), new Shape(batch, tp));
                NDArray mask = m.create(toFloat(promptMask), new Shape(batch, tp));
                logits = lastLogits(model, ids, mask, cache);
                NDScope.unregister(logits);
            }
            for (int t = 0; t < maxNew; t++) {
                int[] tok;
                float[] tokLp;
                try (NDScope scope = new NDScope()) {
                    Choice choice = choose(m, logits, t, cfg, forced, rng);
                    tok = choice.tokens();
                    tokLp = choice.logprobs();
                }
                boolean[] wasDone = done.clone();
                for (int b = 0; b < batch; b++) {
                    if (stop && wasDone[b]) {
                        continue;
                    }
                    resp[b][t] = tok[b];
                    respMask[b][t] = 1;
                    lps[b][t] = tokLp[b];
                    forcedMask[b][t] = t < forced[b].length ? 1 : 0;
                    if (stop && cfg.isEos(tok[b])) {
                        done[b] = true;
                    }
                }
                steps = t + 1;
                if ((stop && allTrue(done)) || t == maxNew - 1) {
                    break;
                }
                NDArray next;
                try (NDScope scope = new NDScope()) {
                    if (cache != null) {
                        long[] feed = new long[batch];
                        float[] feedMask = new float[batch];
                        for (int b = 0; b < batch; b++) {
                            feed[b] = respMask[b][t] == 1 ? resp[b][t] : cfg.padTokenId();
                            feedMask[b] = respMask[b][t];
                        }
                        next = lastLogits(
                                model, m.create(feed, new Shape(batch, 1)), m.create(feedMask, new Shape(batch, 1)), cache);
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
                }
                logits.close();
                logits = next;
            }
            logits.close();
        }
        int n = steps;
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

    /** The tokens chosen at one step and their log-probabilities. */
    private record Choice(int[] tokens, float[] logprobs) {}

    private static Choice choose(
            NDManager m, NDArray logits, int t, GenerationConfig cfg, int[][] forced, SplittableRandom rng) {
        int batch = (int) logits.getShape().get(0);
        long vocab = logits.getShape().get(1);
        NDArray z = logits;
        if (t < cfg.minNewTokens()) {
            float[] sup = new float[(int) vocab];
            for (int eos : cfg.eosTokenIds()) {
                // transformers MinNewTokensLengthLogitsProcessor suppresses every id of eos_token_id (an id outside
                // the vocabulary can never be sampled)
                if (eos < vocab) {
                    sup[eos] = Float.NEGATIVE_INFINITY;
                }
            }
            z = z.add(m.create(sup, new Shape(1, vocab)));
        }
        NDArray scaled = cfg.greedy() ? z : TensorOps.div(z, cfg.temperature());
        NDArray logp = scaled.logSoftmax(-1);
        // one uniform per sample, drawn even for greedy or forced samples so the stream does not depend on them
        float[] u = new float[batch];
        for (int b = 0; b < batch; b++) {
            u[b] = (float) rng.nextDouble();
        }
        NDArray token;
        if (cfg.greedy()) {
            token = z.argMax(1);
        } else if (cfg.topK() > 0 || cfg.topP() < 1) {
            NDArray order = scaled.argSort(-1, false);
            NDArray sortedP = logp.exp().gather(order, -1);
            NDArray massBefore = sortedP.cumSum(-1).sub(sortedP);
            NDArray keep = massBefore.lt((float) cfg.topP());
            if (cfg.topK() > 0) {
                NDArray rank = m.arange(0, vocab, 1, DataType.INT64).reshape(1, vocab);
                keep = keep.logicalAnd(rank.lt(cfg.topK()));
            }
            NDArray filtered = sortedP.mul(keep.toType(DataType.FLOAT32, false));
            NDArray idx = inverseCdf(m, filtered, u, vocab);
            token = order.gather(idx.expandDims(1), 1).squeeze(1);
        } else {
            token = inverseCdf(m, logp.exp(), u, vocab);
        }
        int[] tok = toIntArray(token.toType(DataType.INT64, false).toLongArray());
        for (int b = 0; b < batch; b++) {
            if (t < forced[b].length) {
                tok[b] = forced[b][t];
            }
        }
        NDArray tokArr = m.create(toLongArray(tok), new Shape(batch, 1));
        return new Choice(tok, logp.gather(tokArr, 1).squeeze(1).toFloatArray());
    }

    /** Index of the first position whose cumulative weight reaches u·total, per row. */
    private static NDArray inverseCdf(NDManager m, NDArray weights, float[] u, long vocab) {
        NDArray cum = weights.cumSum(-1);
        NDArray total = cum.get(new NDIndex(":, -1:"));
        NDArray target = m.create(u, new Shape(u.length, 1)).mul(total);
        return cum.lt(target).toType(DataType.INT64, false).sum(new int[] {1}).minimum(vocab - 1);
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

    private static int[] toIntArray(long[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (int) a[i];
        }
        return out;
    }

    private static long[] toLongArray(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
