package org.rlhf4j.algorithms.drpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.TestData;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardFunction;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.generation.EosMode;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.Llama;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/** DR-PO through PpoTrainer: teacher-forced prefixes, β_mix = 0 equals PPO, validation, metrics and checkpoints. */
class DrpoTrainerTest {

    static final int EOS = 31;
    static final Gpt2Config CFG = Gpt2Config.of(32, 64, 32, 2, 4);
    static final Tokenizer TOK = TestData.syntheticTokenizer(32, EOS);

    /** Prompts of 3–6 tokens, each with a reference of 2–7 random tokens + EOS. */
    static List<Encoded.PromptOnly> prompts(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Encoded.PromptOnly> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] q = new int[3 + rng.nextInt(4)];
            for (int j = 0; j < q.length; j++) {
                q[j] = 6 + rng.nextInt(24);
            }
            int[] ref = new int[3 + rng.nextInt(6)];
            for (int j = 0; j < ref.length - 1; j++) {
                ref[j] = rng.nextInt(EOS);
            }
            ref[ref.length - 1] = EOS;
            out.add(new Encoded.PromptOnly("q" + i, new EncodedQuery("", q, false), ref));
        }
        return out;
    }

    /** reward = number of token-5s in the response (dense, so the trajectories differ quickly if anything differs). */
    static final RewardFunction COUNT = (queries, responses) -> {
        double[] s = new double[responses.size()];
        for (int i = 0; i < s.length; i++) {
            for (int t : responses.get(i)) {
                s[i] += t == 5 ? 1 : 0;
            }
        }
        return s;
    };

    static PpoConfig ppo(long episodes) {
        return PpoConfig.builder().setSeed(3)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(2e-3)
                        .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).setMaxConsecutiveNonFinite(0).build())
                .setTotalEpisodes(episodes).setBatchSize(16).setNumMiniBatches(2).setMicroBatchSize(8).setPpoEpochs(2)
                .setResponseLength(8).setTemperature(1.0).setKlCoef(0.05).setKlEstimator(KlEstimator.K1)
                .setNoEosScore(-1.0).setSchedule(TrainingSchedule.of(0, 0)).build();
    }

    @Test
    void generationTeacherForcesTheResetPrefixAndMarksIt() {
        try (NDManager m = NDManager.newBaseManager(); Gpt2 policy = Gpt2.random(CFG, m, 1)) {
            List<Encoded.PromptOnly> rows = prompts(12, 4);
            DatasetReset reset = new DatasetReset(1.0, 8);
            List<int[]> forced = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                forced.add(reset.prefix(rows.get(i), new SplittableRandom(100 + i)));
            }
            GenerationConfig g = GenerationConfig.builder(8, EOS).setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).build();
            Rollout r = Generator.generate(policy, rows.stream().map(p -> p.query().ids()).toList(), forced, g, 17);
            int sampledAfterPrefix = 0;
            for (int b = 0; b < rows.size(); b++) {
                int k = forced.get(b).length;
                int[] ref = rows.get(b).reference();
                assertThat(k).isBetween(1, ref.length - 1);
                int[] resp = r.response(b);
                assertThat(Arrays.copyOf(resp, k)).as("sample %d", b).containsExactly(Arrays.copyOf(ref, k));
                for (int t = 0; t < r.responseLength(); t++) {
                    assertThat(r.forcedMask()[b][t]).as("sample %d position %d", b, t).isEqualTo(t < k ? 1 : 0);
                }
                sampledAfterPrefix += resp.length - k;
            }
            // the forced prefix never contains EOS (k ≤ L − 1), so every sample goes on to sample tokens
            assertThat(sampledAfterPrefix).isPositive();
        }
    }

    @Test
    void betaMixZeroReproducesThePpoTrajectory() throws Exception {
        PpoConfig cfg = ppo(16 * 4);
        List<Map<String, Double>> ppoRows;
        List<Map<String, Double>> drpoRows;
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            ppoRows = PpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(ref).setCritic(critic)
                    .setReward(RewardSource.of(COUNT)).setTokenizer(TOK).setPrompts(prompts(32, 1)).build().train()
                    .history();
        }
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            drpoRows = DrpoTrainer.builder().setConfig(DrpoConfig.builder().setPpo(cfg).setBetaMix(0.0)
                            .setResetSource(ResetSource.REFERENCE_SUMMARY).build())
                    .setPolicy(policy).setReference(ref).setCritic(critic).setReward(RewardSource.of(COUNT))
                    .setTokenizer(TOK).setPrompts(prompts(32, 1)).build().train().history();
        }
        assertThat(drpoRows).hasSameSizeAs(ppoRows).hasSize(4);
        for (int u = 0; u < ppoRows.size(); u++) {
            Map<String, Double> p = ppoRows.get(u);
            Map<String, Double> d = drpoRows.get(u);
            assertThat(d.keySet()).containsAll(p.keySet()).contains("reset/fraction", "reset/mean_prefix_length");
            for (String key : p.keySet()) {
                if (key.startsWith("time/")) {
                    continue; // wall-clock seconds differ between any two runs
                }
                assertThat(d.get(key)).as("update %d %s", u, key).isCloseTo(p.get(key), within(1e-9));
            }
            assertThat(d.get("reset/fraction")).isZero();
            assertThat(d.get("reset/mean_prefix_length")).isZero();
        }
        // the comparison can fail: the runs do move (the policy loss changes from update to update)
        assertThat(ppoRows.get(3).get("loss/policy_avg")).isNotEqualTo(ppoRows.get(0).get("loss/policy_avg"));
    }

    @Test
    void resetsAreLoggedAndTheCheckpointIsLabelledDrpo(@TempDir Path dir) throws Exception {
        RunDir run = new RunDir(dir.resolve("drpo"));
        PpoTrainer.Result r;
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            DrpoTrainer t = DrpoTrainer.builder().setConfig(DrpoConfig.of(ppo(16 * 2))).setPolicy(policy)
                    .setReference(ref).setCritic(critic).setReward(RewardSource.of(COUNT)).setTokenizer(TOK)
                    .setPrompts(prompts(32, 1)).optEvalPrompts(prompts(8, 2)).optRunDir(run).build();
            assertThat(t.config().betaMix()).isEqualTo(1.0);
            r = t.train();
        }
        for (Map<String, Double> row : r.history()) {
            // β_mix = 1 and every reference has L ≥ 3: every sample is reset, 1 ≤ k ≤ L − 1 ≤ 7
            assertThat(row.get("reset/fraction")).isEqualTo(1.0);
            assertThat(row.get("reset/mean_prefix_length")).isBetween(1.0, 7.0);
        }
        assertThat(r.evaluations()).hasSize(1);
        assertThat(TrainerState.read(run.model()).algorithm()).isEqualTo("drpo");
        assertThat(java.nio.file.Files.readString(run.model().resolve("provenance.json"))).contains("betaMix");
        assertThat(java.nio.file.Files.readString(run.metrics())).contains("reset/fraction");
    }

    @Test
    void aLlamaPolicyAndCriticRunWithResets(@TempDir Path dir) throws Exception {
        // Llama flavour with grouped-query attention (4 query heads over 2 KV heads) and tied embeddings
        LlamaConfig llama = LlamaConfig.of(LlamaFamily.LLAMA, 32, 64, 32, 2, 4, 2, 64, EOS, EOS);
        RunDir run = new RunDir(dir.resolve("drpo-llama"));
        PpoTrainer.Result r;
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(llama, m, 1);
                CausalLm ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(llama, m, 2)) {
            r = DrpoTrainer.builder().setConfig(DrpoConfig.of(ppo(16 * 2))).setPolicy(policy).setReference(ref)
                    .setCritic(critic).setReward(RewardSource.of(COUNT)).setTokenizer(TOK).setPrompts(prompts(32, 1))
                    .optRunDir(run).build().train();
        }
        assertThat(r.history()).hasSize(2).allSatisfy(row -> {
            assertThat(row.get("reset/fraction")).isEqualTo(1.0);
            assertThat(row.get("loss/policy_avg")).isFinite();
            assertThat(row.get("loss/value_avg")).isFinite();
        });
        try (NDManager m = NDManager.newBaseManager();
                CausalLm saved = CausalLm.load(run.model(), m)) {
            assertThat(saved).isInstanceOf(Llama.class);
        }
    }

    @Test
    void aPromptWithoutAReferenceIsNamed() {
        List<Encoded.PromptOnly> rows = new ArrayList<>(prompts(4, 1));
        rows.add(2, new Encoded.PromptOnly("post-17", new EncodedQuery("", new int[] {7, 8}, false), null));
        rows.add(new Encoded.PromptOnly("post-99", new EncodedQuery("", new int[] {7, 8}, false), null));
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 policy = Gpt2.random(CFG, m, 1);
                Gpt2 ref = policy.copy(m);
                ScalarModel critic = ScalarModel.random(CFG, m, 2)) {
            DrpoTrainer.Builder b = DrpoTrainer.builder().setConfig(DrpoConfig.of(ppo(16))).setPolicy(policy)
                    .setReference(ref).setCritic(critic).setReward(RewardSource.of(COUNT)).setTokenizer(TOK)
                    .setPrompts(rows);
            assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'post-17'").hasMessageNotContaining("post-99");
            // without resets no reference is needed
            assertThat(b.setConfig(DrpoConfig.of(ppo(16)).withBetaMix(0.0)).build()).isNotNull();
        }
    }
}
