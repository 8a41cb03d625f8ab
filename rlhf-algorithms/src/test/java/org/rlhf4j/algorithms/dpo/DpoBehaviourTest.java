package org.rlhf4j.algorithms.dpo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.algorithms.sft.SftTrainer;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.datasets.task.Encoded;

/**
 * A planted preference: every chosen response is a run of token A, every rejected one a run of token B. The reference
 * is SFT'd on both kinds, so it answers with A-runs and B-runs about equally often; DPO must move the policy's
 * sampled probability mass to A, and its implicit reward must rank held-out pairs correctly.
 */
class DpoBehaviourTest {

    /** Counts of A and B tokens in sampled responses to the prompts. */
    record Counts(int a, int b) {
        double fractionA() {
            return (double) a / (a + b);
        }
    }

    static Counts sample(Gpt2 model, List<Encoded.Pair> pairs, long seed) {
        List<int[]> prompts = new ArrayList<>();
        for (Encoded.Pair p : pairs) {
            prompts.add(p.query().ids());
        }
        Rollout r = Generator.generate(model, prompts, null, GenerationConfig.sampling(8, Toy.EOS), seed);
        int a = 0;
        int b = 0;
        for (int i = 0; i < r.batchSize(); i++) {
            for (int t : r.response(i)) {
                a += t == Toy.A ? 1 : 0;
                b += t == Toy.B ? 1 : 0;
            }
        }
        return new Counts(a, b);
    }

    @Test
    void dpoMovesSampledMassToTheChosenKindAndRanksHeldOutPairs() throws Exception {
        List<Encoded.Pair> train = Toy.pairs(64, 11, "train");
        List<Encoded.Pair> heldOut = Toy.pairs(64, 12, "heldout");
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 reference = Gpt2.random(Toy.MODEL, m, 13)) {
            // 1. the reference: SFT on both responses of every training pair
            List<Encoded.Sft> both = new ArrayList<>();
            for (Encoded.Pair p : train) {
                both.add(new Encoded.Sft(p.id() + "w", p.query(), p.chosen()));
                both.add(new Encoded.Sft(p.id() + "l", p.query(), p.rejected()));
            }
            SftConfig sft = SftConfig.builder().setSeed(3)
                    .setOptimizer(OptimizerConfig.builder().setLearningRate(3e-3)
                            .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).setMaxConsecutiveNonFinite(0)
                            .build())
                    .setBatchSize(16).setMicroBatchSize(16).setEpochs(4).setSchedule(TrainingSchedule.of(0, 0))
                    .setNumSamples(0).setSampleMaxTokens(1).build();
            SftTrainer.builder().setConfig(sft).setPolicy(reference).setTokenizer(new Toy.ToyTokenizer())
                    .setTrainData(both).build().train();
            Counts before = sample(reference, heldOut, 99);

            // 2. DPO from the reference
            try (Gpt2 policy = reference.copy(m)) {
                DpoConfig cfg = DpoConfig.builder().setSeed(5)
                        .setOptimizer(OptimizerConfig.builder().setLearningRate(1e-3)
                                .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8)
                                .setMaxConsecutiveNonFinite(0).build())
                        .setBeta(0.1).setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0.0)
                        .setBatchSize(16).setMicroBatchSize(8).setEpochs(6).setSchedule(TrainingSchedule.of(0, 0))
                        .setPrecomputeReferenceLogprobs(true).build();
                DpoTrainer trainer = DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                        .setTokenizer(new Toy.ToyTokenizer()).setTrainData(train).optEvalData(heldOut).build();
                DpoTrainer.Evaluation start = trainer.evaluate(0);
                DpoTrainer.Result r = trainer.train();
                DpoTrainer.Evaluation end = r.evaluations().get(r.evaluations().size() - 1);
                Counts after = sample(policy, heldOut, 99);
                System.out.printf("planted preference: A fraction of sampled A/B tokens %.3f (%d A, %d B) -> %.3f "
                        + "(%d A, %d B); held-out accuracy %.3f -> %.3f, margin %.3f -> %.3f, loss %.4f -> %.4f, "
                        + "logps/chosen %.2f -> %.2f, logps/rejected %.2f -> %.2f%n", before.fractionA(), before.a(),
                        before.b(), after.fractionA(), after.a(), after.b(), start.accuracy(), end.accuracy(),
                        start.margin(), end.margin(), start.loss(), end.loss(), start.logpChosen(), end.logpChosen(),
                        start.logpRejected(), end.logpRejected());

                // the SFT'd reference answers with both kinds
                assertThat(before.a() + before.b()).isGreaterThan(150);
                assertThat(before.fractionA()).isBetween(0.25, 0.75);
                // after DPO the samples are overwhelmingly of the chosen kind
                assertThat(after.fractionA()).isGreaterThan(0.9);
                assertThat(after.a()).isGreaterThan(2 * before.a());
                // held-out implicit-reward accuracy and margin
                assertThat(start.accuracy()).isEqualTo(0.0); // π_θ = π_ref: r_w = r_l = 0 for every pair
                assertThat(end.accuracy()).isGreaterThanOrEqualTo(0.9);
                assertThat(end.margin()).isGreaterThan(1.0);
                assertThat(end.loss()).isLessThan(0.3);
                // the margin comes from pushing the rejected kind down, while the chosen responses' log-probs stay
                // where they were (within 1 nat; they need not rise: DPO only constrains the difference)
                assertThat(end.logpRejected()).isLessThan(start.logpRejected() - 10);
                assertThat(end.logpChosen()).isGreaterThan(start.logpChosen() - 1);
            }
        }
    }
}
