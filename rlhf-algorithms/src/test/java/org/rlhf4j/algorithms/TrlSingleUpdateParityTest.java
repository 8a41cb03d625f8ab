package org.rlhf4j.algorithms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.GroupRollouts;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.algorithms.grpo.GrpoLossType;
import org.rlhf4j.algorithms.grpo.GrpoLosses;
import org.rlhf4j.algorithms.grpo.ScaleRewards;
import org.rlhf4j.algorithms.rloo.RlooLosses;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.Updater;

/**
 * One GRPO and one RLOO update against TRL 1.13 from identical rollouts: the tiny Llama of {@code trl-parity/}, two
 * TL;DR prompts × 3 fixed completions (one truncated without EOS), fixed rewards, τ = 0.7, and a reference whose every
 * weight is 0.5× the initial one. TRL's numbers ({@code trl-parity/trl-rl.json}, {@code scripts/compare/trl_parity.py
 * rl}) come from {@code GRPOTrainer._compute_loss} / {@code RLOOTrainer._compute_loss} on the real model, then
 * {@code clip_grad_norm_(1.0)} and one {@code torch.optim.AdamW} step. rlhf4j replays the update as its trainers do
 * (GrpoTrainer.update / RlooTrainer steps 5–6: log-probs at τ, advantages, loss, backward, {@link Updater}); the loss
 * must agree within 1e-5, the gradient norm and the completions' log-probs after the update within 1e-4.
 */
class TrlSingleUpdateParityTest {

    static final Path DIR = Path.of("src/test/resources/trl-parity");

    static JsonNode read() throws IOException {
        return new ObjectMapper().readTree(DIR.resolve("trl-rl.json").toFile());
    }

    /** The fixture's rollouts as rlhf4j's batch: queries and completions cut to their lengths. */
    record Rollouts(ResponseBatch batch, int[][] mask, double[] rewards, int g, double temperature) {}

    static Rollouts rollouts(JsonNode trl, Tokenizer tok) {
        JsonNode rl = trl.get("rl");
        int g = rl.get("G").asInt();
        List<int[]> queries = new ArrayList<>();
        List<int[]> completions = new ArrayList<>();
        JsonNode ids = trl.get("completion_ids");
        int[][] mask = new int[ids.size()][];
        for (int b = 0; b < ids.size(); b++) {
            int[] q = tok.encode(trl.get("prompts").get(b / g).asText());
            int[] trlQ = new ObjectMapper().convertValue(trl.get("prompt_ids").get(b / g), int[].class);
            assertThat(q).as("prompt %d ids", b / g).containsExactly(trlQ);
            queries.add(q);
            int n = rl.get("lengths").get(b).asInt();
            int[] c = new int[n];
            for (int j = 0; j < n; j++) {
                c[j] = ids.get(b).get(j).asInt();
            }
            completions.add(c);
            mask[b] = new ObjectMapper().convertValue(trl.get("completion_mask").get(b), int[].class);
        }
        double[] rewards = new ObjectMapper().convertValue(rl.get("rewards"), double[].class);
        return new Rollouts(ResponseBatch.of(queries, completions, tok.eosTokenId()), mask, rewards, g,
                rl.get("temperature").asDouble());
    }

    static CausalLm reference(NDManager m, double scale) throws IOException {
        CausalLm ref = CausalLm.load(DIR.resolve("model"), m);
        for (NDArray w : ref.weights().arrays()) {
            w.muli((float) scale);
        }
        return ref;
    }

    static OptimizerConfig adam(double lr) {
        return OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.CONSTANT)
                .setEps(1e-8).setWeightDecay(0).setMaxGradNorm(1.0).build();
    }

    static float[][] rows(float[][] x, int width) {
        float[][] out = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = Arrays.copyOf(x[i], width);
        }
        return out;
    }

    static void assertLogpsAfter(String what, CausalLm policy, Rollouts r, JsonNode trl) {
        float[][] after = GroupRollouts.logprobs(policy, r.batch(), r.temperature(), r.batch().size());
        double max = 0;
        for (int b = 0; b < after.length; b++) {
            double sum = 0;
            for (int j = 0; j < after[b].length; j++) {
                sum += after[b][j];
            }
            max = Math.max(max, Math.abs(sum - trl.get("logps_after").get(b).asDouble()));
        }
        System.out.printf("TRL single update %-5s completion log-probs after the update: max |diff| %.2e%n", what,
                max);
        assertThat(max).isLessThan(1e-4);
    }

    @Test
    void grpoUpdateEqualsTrls() throws IOException {
        JsonNode trl = read();
        JsonNode rl = trl.get("rl");
        JsonNode expected = trl.get("grpo");
        try (Tokenizer tok = Checkpoint.tokenizerFor(DIR.resolve("model"));
                NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(DIR.resolve("model"), m);
                CausalLm ref = reference(m, rl.get("ref_scale").asDouble())) {
            Rollouts r = rollouts(trl, tok);
            int n = r.batch().size();
            GrpoLosses.GroupAdvantages adv = GrpoLosses.advantages(r.rewards(), r.g(), ScaleRewards.GROUP);
            for (int i = 0; i < n; i++) {
                assertThat(adv.advantages()[i]).isCloseTo(expected.get("advantages").get(i).asDouble(),
                        within(1e-6));
            }
            float[][] refLogp = GroupRollouts.logprobs(ref, r.batch(), r.temperature(), n);
            GrpoLosses.Config cfg = GrpoLosses.Config.trlDefaults().withLossType(GrpoLossType.DAPO)
                    .withBeta(rl.get("grpo_beta").asDouble());
            long active = Arrays.stream(r.mask()).flatMapToInt(Arrays::stream).sum();
            policy.weights().setRequiresGradient(true);
            OptimizerConfig oc = adam(rl.get("lr").asDouble());
            try (AdamW opt = oc.newOptimizer(policy.weights())) {
                Updater updater = oc.newUpdater("policy", opt, 1);
                double loss;
                GrpoLosses.Metrics metrics;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                        NDManager sm = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = r.batch().toTensors(sm);
                    Sequences.Result cur = Sequences.responseLogprobs(policy, t, r.temperature(), true);
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (float) adv.advantages()[i];
                    }
                    GrpoLosses.Terms terms = GrpoLosses.loss(cur.logprobs(), null,
                            sm.create(rows(refLogp, (int) t.responseMask().getShape().get(1))), sm.create(a),
                            t.responseMask(), cur.entropy(), cfg, active);
                    gc.backward(terms.loss());
                    loss = terms.loss().getFloat();
                    metrics = terms.metrics();
                }
                Updater.Result u = updater.step(policy.weights(), loss);
                System.out.printf("TRL single update GRPO  loss %.8f (TRL %.8f), grad norm %.6f (TRL %.6f), "
                        + "kl %.7f (TRL %.7f), entropy %.6f (TRL %.6f)%n", loss, expected.get("loss").asDouble(),
                        u.gradNorm(), expected.get("grad_norm").asDouble(), metrics.kl(),
                        expected.get("metrics").get("kl").asDouble(), metrics.entropy(),
                        expected.get("metrics").get("entropy").asDouble());
                assertThat(loss).isCloseTo(expected.get("loss").asDouble(), within(1e-5));
                assertThat(metrics.kl()).isCloseTo(expected.get("metrics").get("kl").asDouble(), within(1e-5));
                assertThat(metrics.entropy()).isCloseTo(expected.get("metrics").get("entropy").asDouble(),
                        within(1e-4));
                assertThat(u.gradNorm()).isCloseTo(expected.get("grad_norm").asDouble(), within(1e-4));
            } finally {
                policy.weights().setRequiresGradient(false);
            }
            assertLogpsAfter("GRPO", policy, r, expected);
        }
    }

    @Test
    void rlooUpdateEqualsTrls() throws IOException {
        JsonNode trl = read();
        JsonNode rl = trl.get("rl");
        JsonNode expected = trl.get("rloo");
        try (Tokenizer tok = Checkpoint.tokenizerFor(DIR.resolve("model"));
                NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(DIR.resolve("model"), m);
                CausalLm ref = reference(m, rl.get("ref_scale").asDouble())) {
            Rollouts r = rollouts(trl, tok);
            int n = r.batch().size();
            float[][] old = GroupRollouts.logprobs(policy, r.batch(), r.temperature(), n);
            float[][] refLogp = GroupRollouts.logprobs(ref, r.batch(), r.temperature(), n);
            double beta = rl.get("rloo_beta").asDouble();
            double[] seqKl = RlooLosses.sequenceKl(old, refLogp, r.mask());
            double[] rewards = RlooLosses.penalisedRewards(r.rewards(), seqKl, beta, null);
            double[] adv = RlooLosses.advantages(rewards, r.g(), false);
            for (int i = 0; i < n; i++) {
                assertThat(seqKl[i]).isCloseTo(expected.get("sequence_kl").get(i).asDouble(), within(1e-5));
                assertThat(adv[i]).isCloseTo(expected.get("advantages").get(i).asDouble(), within(1e-5));
            }
            policy.weights().setRequiresGradient(true);
            OptimizerConfig oc = adam(rl.get("lr").asDouble());
            try (AdamW opt = oc.newOptimizer(policy.weights())) {
                Updater updater = oc.newUpdater("policy", opt, 1);
                double loss;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                        NDManager sm = policy.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    ResponseBatch.Tensors t = r.batch().toTensors(sm);
                    Sequences.Result cur = Sequences.responseLogprobs(policy, t, r.temperature(), true);
                    float[] oldSeq = new float[n];
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < old[i].length; j++) {
                            oldSeq[i] += r.mask()[i][j] * old[i][j];
                        }
                        a[i] = (float) adv[i];
                    }
                    RlooLosses.Terms terms = RlooLosses.loss(cur.logprobs(), sm.create(oldSeq), sm.create(a),
                            t.responseMask(), cur.entropy(), 0.2, 0.2);
                    gc.backward(terms.loss());
                    loss = terms.loss().getFloat();
                }
                Updater.Result u = updater.step(policy.weights(), loss);
                System.out.printf("TRL single update RLOO  loss %.3e (TRL %.3e), grad norm %.6f (TRL %.6f)%n", loss,
                        expected.get("loss").asDouble(), u.gradNorm(), expected.get("grad_norm").asDouble());
                assertThat(loss).isCloseTo(expected.get("loss").asDouble(), within(1e-5));
                assertThat(u.gradNorm()).isCloseTo(expected.get("grad_norm").asDouble(), within(1e-4));
            } finally {
                policy.weights().setRequiresGradient(false);
            }
            assertLogpsAfter("RLOO", policy, r, expected);
        }
    }
}
