package org.rlhf4j.algorithms.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;

/** The four models of online RLHF: two loads of the SFT checkpoint, the reward model, and a critic copied from it. */
class PpoModelsTest {

    @TempDir Path dir;

    @Test
    void theCriticIsAnIndependentCopyOfTheRewardModel() throws IOException {
        Path sft = dir.resolve("sft");
        Path rmDir = dir.resolve("rm");
        Gpt2Config c = Gpt2Config.of(Gpt2Config.GPT2_VOCAB, 64, 16, 1, 2);
        try (Tokenizer tok = Gpt2Tokenizers.bundled(); NDManager m = NDManager.newBaseManager();
                Gpt2 lm = Gpt2.random(c, m, 1); ScalarModel rm = ScalarModel.random(c, m, 2)) {
            Checkpoint.save(sft, lm, tok, null, null, null);
            Checkpoint.save(rmDir, rm::save, tok, null, null, null);
        }
        try (PpoModels models = PpoModels.load(sft, rmDir, Device.cpu(), 9)) {
            assertThat(models.policy()).isNotSameAs(models.reference());
            assertThat(models.critic()).isNotSameAs(models.rewardModel());
            for (String name : models.rewardModel().weights().names()) {
                NDArray rm = models.rewardModel().weights().get(name);
                NDArray critic = models.critic().weights().get(name);
                assertThat(critic.toFloatArray()).as(name).isEqualTo(rm.toFloatArray());
                assertThat(critic).isNotSameAs(rm);
            }
            assertThat(models.critic().weights().names()).isEqualTo(models.rewardModel().weights().names());
            // training the critic leaves the reward model as it was
            String head = ScalarModel.HEAD_WEIGHT;
            float before = models.rewardModel().weights().get(head).toFloatArray()[0];
            models.critic().weights().get(head).addi(1f);
            assertThat(models.rewardModel().weights().get(head).toFloatArray()[0]).isEqualTo(before);
            assertThat(models.tokenizer().vocabSize()).isEqualTo(Gpt2Config.GPT2_VOCAB);
        }
    }

    @Test
    void aMissingDirectoryIsAnErrorNamingIt() {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> PpoModels.load(missing, missing, Device.cpu(), 1)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing");
        assertThatThrownBy(() -> PpoModels.criticFrom(null, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("rewardModel");
    }
}
