package org.rlhf4j.algorithms;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.algorithms.grpo.GrpoConfig;
import org.rlhf4j.algorithms.grpo.GrpoTrainer;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.algorithms.rewards.CompositeReward;
import org.rlhf4j.algorithms.rewards.RewardFns;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/** DPO, reward modelling and GRPO from TRL conversational files, rendered through a ChatML template. */
class ConversationalTrainersTest {

    static final TldrTask TASK = ChatFixtures.task();

    static DataSource file(String name) {
        return DataSource.parse(ChatFixtures.file(name).toString());
    }

    static OptimizerConfig adam(double lr) {
        return OptimizerConfig.builder().setLearningRate(lr).setSchedule(OptimizerConfig.Schedule.CONSTANT)
                .setEps(1e-8).setMaxConsecutiveNonFinite(0).build();
    }

    @Test
    void dpoTrainsOnImplicitPromptPreferences() throws IOException {
        List<Encoded.Pair> pairs = file("preference_implicit.jsonl").pairs(TASK, "train").rows();
        assertThat(pairs).hasSize(8);
        assertThat(pairs.get(0).query().text()).isEqualTo("<|im_start|>user\nWhat color is the sky?<|im_end|>\n"
                + "<|im_start|>assistant\n");
        assertThat(TASK.tokenizer().decode(pairs.get(0).chosen())).isEqualTo("It is blue.<|im_end|>\n");
        DpoConfig cfg = DpoConfig.builder().setSeed(7).setOptimizer(adam(1e-2)).setBeta(0.1)
                .setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0.0).setBatchSize(4).setMicroBatchSize(2)
                .setEpochs(2).setSchedule(TrainingSchedule.of(0, 0)).setPrecomputeReferenceLogprobs(true).build();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(ChatFixtures.MODEL, m, 1);
                CausalLm reference = policy.copy(m)) {
            DpoTrainer t = DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                    .setTokenizer(TASK.tokenizer()).setTrainData(pairs).optEvalData(pairs).build();
            double before = t.evaluate(0).loss();
            DpoTrainer.Result r = t.train();
            DpoTrainer.Evaluation after = t.evaluate(r.steps());
            System.out.printf("DPO on preference_implicit.jsonl (4 updates): loss %.4f -> %.4f, accuracy %.2f%n",
                    before, after.loss(), after.accuracy());
            assertThat(r.steps()).isEqualTo(4);
            assertThat(before).isCloseTo(Math.log(2), org.assertj.core.api.Assertions.within(1e-4));
            assertThat(after.loss()).isLessThan(before);
        }
    }

    @Test
    void dpoTrainsATinyLlamaOnExplicitPromptPreferences() throws IOException {
        List<Encoded.Pair> pairs = file("preference_implicit.jsonl").pairs(TASK, "train").rows();
        DpoConfig cfg = DpoConfig.builder().setSeed(7).setOptimizer(adam(1e-2)).setBeta(0.1)
                .setLossType(DpoLossType.SIGMOID).setLabelSmoothing(0.0).setBatchSize(4).setMicroBatchSize(2)
                .setEpochs(2).setSchedule(TrainingSchedule.of(0, 0)).setPrecomputeReferenceLogprobs(true).build();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(ChatFixtures.LLAMA, m, 1);
                CausalLm reference = policy.copy(m)) {
            DpoTrainer t = DpoTrainer.builder().setConfig(cfg).setPolicy(policy).setReference(reference)
                    .setTokenizer(TASK.tokenizer()).setTrainData(pairs).optEvalData(pairs).build();
            double before = t.evaluate(0).loss();
            DpoTrainer.Result r = t.train();
            DpoTrainer.Evaluation after = t.evaluate(r.steps());
            System.out.printf("DPO of a tiny Qwen2 on preference_implicit.jsonl (4 updates): loss %.4f -> %.4f, "
                    + "accuracy %.2f%n", before, after.loss(), after.accuracy());
            assertThat(before).isCloseTo(Math.log(2), org.assertj.core.api.Assertions.within(1e-4));
            assertThat(after.loss()).isLessThan(before);
        }
    }

    @Test
    void rewardModelTrainsOnConversationalPairs() throws IOException {
        List<Encoded.Pair> pairs = file("preference_implicit.jsonl").pairs(TASK, "train").rows();
        RewardConfig cfg = RewardConfig.builder().setSeed(3).setOptimizer(adam(1e-2)).setBatchSize(4)
                .setMicroBatchSize(4).setEpochs(2).setCenterRewardsCoefficient(0).setSchedule(TrainingSchedule.of(0, 0))
                .setNormalizeOnReferences(false).build();
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = ScalarModel.random(ChatFixtures.MODEL, m, 4)) {
            RewardTrainer t = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(TASK.tokenizer())
                    .setTrainData(pairs).optEvalSets(Map.of("train", pairs)).build();
            RewardTrainer.Result r = t.train();
            assertThat(r.steps()).isEqualTo(4);
            assertThat(r.trainLosses()).allMatch(Double::isFinite);
        }
    }

    @Test
    void grpoRunsOnConversationalPromptOnlyRows() throws Exception {
        List<Encoded.PromptOnly> prompts = file("prompts.jsonl").prompts(TASK, "train").rows();
        assertThat(prompts).hasSize(8);
        assertThat(prompts.get(1).query().text()).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nName a fruit.<|im_end|>\n<|im_start|>assistant\n");
        assertThat(prompts.get(1).reference()).isNull();
        GrpoConfig cfg = GrpoConfig.builder().setSeed(3).setOptimizer(adam(2e-3)).setEpochs(1.0)
                .setPromptsPerStep(4).setNumGenerations(2).setMicroBatchSize(8).setNumIterations(1)
                .setMaxCompletionLength(8).setBeta(0.0).setSchedule(TrainingSchedule.of(0, 0)).build();
        try (NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.random(ChatFixtures.MODEL, m, 1)) {
            GrpoTrainer t = GrpoTrainer.builder().setConfig(cfg).setPolicy(policy)
                    .setReward(CompositeReward.of(RewardFns.length())).setTokenizer(TASK.tokenizer())
                    .setPrompts(prompts).build();
            GrpoTrainer.Result r = t.train();
            assertThat(r.steps()).isEqualTo(2);
            assertThat(r.history()).allMatch(h -> Double.isFinite(h.get("loss")));
        }
    }

    @Test
    void promptCompletionRowsGiveSftSamplesAndRlPromptsWithReferences() throws IOException {
        DataSource pc = file("prompt_completion.jsonl");
        Encoded.Sft s = pc.sft(TASK, "train").rows().get(2);
        assertThat(TASK.tokenizer().decode(s.response())).isEqualTo("It is 4.<|im_end|>\n");
        assertThat(s.lossMask()).isNull();
        Encoded.PromptOnly p = pc.prompts(TASK, "train").rows().get(2);
        assertThat(p.query().ids()).containsExactly(s.query().ids());
        assertThat(p.reference()).containsExactly(s.response());
    }
}
