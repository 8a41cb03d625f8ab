package org.rlhf4j.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.OptimizerConfig.Schedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.examples.cli.Rlhf4jCli;

/** The named presets: what distinguishes them, the architecture check, and the full-data requirement. */
class PresetsTest {

    @Test
    void namesResolveToDistinctPresets() {
        assertThat(Presets.named("tiny")).isSameAs(Presets.TINY);
        assertThat(Presets.named("PYTHIA")).isSameAs(Presets.PYTHIA);
        assertThat(Presets.named("references")).isSameAs(Presets.PYTHIA);
        assertThat(Presets.named("gpt2")).isSameAs(Presets.GPT2);
        assertThat(Presets.named("smollm2")).isSameAs(Presets.SMOLLM2);
        assertThatThrownBy(() -> Presets.named("huge")).hasMessageContaining("unknown preset 'huge'")
                .hasMessageContaining("tiny, gpt2, pythia, references, smollm2");
    }

    @Test
    void fullPresetsCarryTheReferencesSettings() {
        for (Presets p : new Presets[] {Presets.GPT2, Presets.PYTHIA, Presets.SMOLLM2}) {
            assertThat(p.scratchModel()).isNull();
            assertThat(p.data()).isEqualTo(DataSource.FULL);
            assertThat(p.task()).isEqualTo(TaskConfig.DEFAULT);
            assertThat(p.ppo()).isEqualTo(PpoConfig.references());
        }
        assertThat(Presets.PYTHIA.modelType()).isEqualTo(GptNeoXConfig.MODEL_TYPE);
        assertThat(Presets.GPT2.modelType()).isEqualTo(Gpt2Config.MODEL_TYPE);
        // the DR-PO paper's DPO baseline used β = 0.05; TRL's default is 0.1
        assertThat(Presets.PYTHIA.dpo().beta()).isEqualTo(0.05);
        assertThat(Presets.GPT2.dpo()).isEqualTo(DpoConfig.defaults());
        assertThat(Presets.TINY.data()).isEqualTo(DataSource.BUNDLED);
        assertThat(Presets.TINY.modelType()).isNull();
        // the instruct preset renders prompts as a chat by default; the others do not
        assertThat(Presets.SMOLLM2.modelType()).isEqualTo("llama");
        assertThat(Presets.SMOLLM2.chat()).isTrue();
        assertThat(Presets.GPT2.chat() || Presets.PYTHIA.chat() || Presets.TINY.chat()).isFalse();
    }

    /** Returns a record's component values in declaration order, nested records flattened in place. */
    static List<Object> values(Record r) {
        List<Object> out = new ArrayList<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(r);
                if (v instanceof Record nested) {
                    out.addAll(values(nested));
                } else {
                    out.add(v);
                }
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        return out;
    }

    @Test
    void tinyConfigsKeepTheirValuesAndCheckpointAFewTimes() {
        // the former positional values (optimizer and schedule flattened in place), plus the schedule fields:
        // saveSteps 50 (5 for PPO) instead of 0, saveTotalLimit 2, loggingSteps 1
        assertThat(values(Presets.TINY.sft())).containsExactly(1L,
                3e-3, Schedule.COSINE, 5L, 0.0, 0.9, 0.999, 1e-8, 1.0, 3, false,
                8, 8, 8.0, 10, 50, 2, 1, 3, 53);
        assertThat(values(Presets.TINY.reward())).containsExactly(1L,
                3e-4, Schedule.COSINE, 2L, 0.0, 0.9, 0.999, 1e-8, 1.0, 3, false,
                8, 8, 3.0, 0.0, 5, 50, 2, 1, true);
        assertThat(values(Presets.TINY.ppo())).containsExactly(1L,
                1e-4, Schedule.LINEAR, 0L, 0.0, 0.9, 0.999, 1e-5, 1.0, 3, false,
                240L, 16, 2, 8, 4, 53, 0.7, 0.05, null, KlEstimator.K1, false, true, 1.0, 0.95, 0.2, 0.2, 0.1, 0.0,
                -1.0, 0, 5, 2, 1);
        assertThat(values(Presets.TINY.dpo())).containsExactly(1L,
                1e-4, Schedule.CONSTANT, 0L, 0.0, 0.9, 0.999, 1e-8, 1.0, 3, false,
                0.1, DpoLossType.SIGMOID, 0.0, 8, 8, 3.0, 5, 50, 2, 1, true);
        assertThat(Presets.PYTHIA.dpo()).isEqualTo(DpoConfig.defaults().withLoss(0.05, DpoLossType.SIGMOID, 0.0));
        for (Presets p : new Presets[] {Presets.GPT2, Presets.PYTHIA, Presets.SMOLLM2}) {
            assertThat(p.sft()).isEqualTo(SftConfig.references());
            assertThat(p.reward()).isEqualTo(RewardConfig.references());
        }
    }

    @Test
    void checkModelRejectsTheOtherArchitecture(@TempDir Path dir) throws Exception {
        Gpt2Config.of(64, 32, 16, 1, 2).write(dir.resolve("config.json"));
        Presets.GPT2.checkModel(dir);
        Presets.TINY.checkModel(dir);
        Presets.PYTHIA.checkModel(null);
        assertThatThrownBy(() -> Presets.PYTHIA.checkModel(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("field 'model_type' is 'gpt2'")
                .hasMessageContaining("use --preset gpt2");
        assertThatThrownBy(() -> Presets.GPT2.checkModel(dir.resolve("missing")))
                .hasMessageContaining("config.json");
    }

    @Test
    void commandsNameTheCheckpointAPresetNeeds(@TempDir Path dir) {
        assertThatThrownBy(() -> Rlhf4jCli.runExample("sft", "--preset", "pythia", "--out", dir.toString()))
                .hasMessageContaining("--preset pythia needs --model")
                .hasMessageContaining("EleutherAI/pythia-1b-deduped");
        assertThatThrownBy(() -> Rlhf4jCli.runExample("dpo", "--preset", "gpt2", "--out", dir.toString()))
                .hasMessageContaining("--preset gpt2 needs --model")
                .hasMessageContaining("gpt2-medium");
    }
}
