package org.rlhf4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoTrainer;
import org.rlhf4j.algorithms.drpo.DrpoConfig;
import org.rlhf4j.algorithms.drpo.DrpoTrainer;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.algorithms.ppo.RewardSource;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * The README's PPO, DR-PO and DPO snippets, verbatim except for the config (the references' batch of 512 becomes 4
 * episodes or pairs), run on a tiny random model with the full GPT-2 vocabulary. If the library API drifts from the
 * README this test stops compiling or fails.
 */
class ReadmeSnippetsTest {

    @TempDir
    static Path dir;

    static Path sft;

    static Path rewardModel;

    @BeforeAll
    static void tinyCheckpoints() throws Exception {
        sft = dir.resolve("sft/model");
        rewardModel = dir.resolve("reward/model");
        Gpt2Config c = Gpt2Config.of(Gpt2Config.GPT2_VOCAB, 640, 16, 1, 2);
        try (Tokenizer tok = Gpt2Tokenizers.bundled(); NDManager m = NDManager.newBaseManager();
                Gpt2 lm = Gpt2.random(c, m, 1); ScalarModel rm = ScalarModel.random(c, m, 2)) {
            Checkpoint.save(sft, lm, tok, null, null, null);
            Checkpoint.save(rewardModel, rm::save, tok, null, null, null);
        }
    }

    @Test
    void ppoSnippetTrains() throws Exception {
        PpoConfig cfg = PpoConfig.references().withBatches(4, 4, 1, 4);
        // --- README: PPO
        try (Tokenizer tok = Checkpoint.tokenizerFor(sft); NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(sft, m); CausalLm reference = CausalLm.load(sft, m);
                ScalarModel rm = ScalarModel.load(rewardModel, m, 1); ScalarModel critic = rm.copy(m)) {
            TldrTask task = new TldrTask(tok, TaskConfig.DEFAULT);
            List<Encoded.PromptOnly> prompts = BundledTldr.prompts("train").stream().map(task::encodePrompt).toList();
            PpoTrainer.Result r = PpoTrainer.builder().setConfig(cfg).setPolicy(policy)
                    .setReference(reference).setCritic(critic).setReward(RewardSource.of(rm)).setTokenizer(tok)
                    .setPrompts(prompts).optRunDir(new RunDir(dir.resolve("ppo"))).build().train();
            // --- end
            assertThat(r.steps()).isEqualTo(1);
        }
        assertThat(dir.resolve("ppo/model/model.safetensors")).exists();
    }

    @Test
    void drpoSnippetTrains() throws Exception {
        DrpoConfig cfg = DrpoConfig.references();
        cfg = cfg.withPpo(cfg.ppo().withBatches(4, 4, 1, 4));
        try (Tokenizer tok = Checkpoint.tokenizerFor(sft); NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(sft, m); CausalLm reference = CausalLm.load(sft, m);
                ScalarModel rm = ScalarModel.load(rewardModel, m, 1); ScalarModel critic = rm.copy(m)) {
            TldrTask task = new TldrTask(tok, TaskConfig.DEFAULT);
            List<Encoded.PromptOnly> prompts = BundledTldr.prompts("train").stream().map(task::encodePrompt).toList();
            PpoTrainer.Result r = DrpoTrainer.builder().setConfig(cfg).setPolicy(policy)
                    .setReference(reference).setCritic(critic).setReward(RewardSource.of(rm)).setTokenizer(tok)
                    .setPrompts(prompts).optRunDir(new RunDir(dir.resolve("drpo"))).build().train();
            assertThat(r.steps()).isEqualTo(1);
        }
        assertThat(dir.resolve("drpo/model/model.safetensors")).exists();
    }

    @Test
    void dpoSnippetTrains() throws Exception {
        DpoConfig cfg = DpoConfig.defaults().withBatch(4, 4).withEpochs(4.0 / BundledTldr.pairs("train").size());
        // --- README: DPO
        try (Tokenizer tok = Checkpoint.tokenizerFor(sft); NDManager m = NDManager.newBaseManager();
                CausalLm policy = CausalLm.load(sft, m); CausalLm reference = CausalLm.load(sft, m)) {
            TldrTask task = new TldrTask(tok, TaskConfig.DEFAULT);
            List<Encoded.Pair> pairs = BundledTldr.pairs("train").stream().map(task::encodePair).toList();
            DpoTrainer.Result r = DpoTrainer.builder().setConfig(cfg).setPolicy(policy)
                    .setReference(reference).setTokenizer(tok).setTrainData(pairs)
                    .optRunDir(new RunDir(dir.resolve("dpo"))).build().train();
            // --- end
            assertThat(r.steps()).isEqualTo(1);
        }
        assertThat(dir.resolve("dpo/model/model.safetensors")).exists();
    }
}
