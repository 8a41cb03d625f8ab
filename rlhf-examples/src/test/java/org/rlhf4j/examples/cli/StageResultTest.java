package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.ppo.PpoTrainer;
import org.rlhf4j.core.io.Json;

/** The stages' typed results: the printed summary, and a finished stage's summary.json read back to the same record. */
class StageResultTest {

    private static StageResult roundTrip(StageResult r) throws Exception {
        return StageResult.read(r.stage(), Json.MAPPER.readTree(Json.pretty(r.toMap())));
    }

    @Test
    void everySummaryReadsBackAsTheSameRecord() throws Exception {
        Map<String, StageResult.Reward.SetEvaluation> evals = new LinkedHashMap<>();
        evals.put("valid1", new StageResult.Reward.SetEvaluation(0.54, 0.1, 50));
        evals.put("confidence1", new StageResult.Reward.SetEvaluation(0.375, -0.2, 24));
        List<StageResult> results = List.of(
                new StageResult.Sft("runs/sft/model", 2, 50, 50, 9.5, 9.1, 9000.0),
                new StageResult.Sft("runs/sft/model", 0, 50, 50, 9.5, null, null),
                new StageResult.Reward("rm", 3, 50, evals, new StageResult.Reward.Heldout(List.of("valid1"), 27, 50),
                        0.3, 1e-9),
                new StageResult.Ppo("ppo", "ppo/model", 2, 50, 50, new PpoTrainer.Evaluation(0, 0.5, 0.0, 12.5, 0.25, 48),
                        new PpoTrainer.Evaluation(2, 0.7, 0.1, 10.0, 0.5, 48), 0.05, null, null),
                new StageResult.Ppo("drpo", "drpo/model", 2, 50, 50, new PpoTrainer.Evaluation(0, 0.5, 0.0, 12.5, 0.25, 48),
                        null, 0.05, 0.5, "REFERENCE_SUMMARY"),
                new StageResult.Dpo("dpo/model", 2, 50, 50, Math.log(2), 0.69, 0.5, 0.01, 0.02, 0.01));
        for (StageResult r : results) {
            assertThat(roundTrip(r)).as(r.stage()).isEqualTo(r);
        }
    }

    @Test
    void theMapIsThePrintedSummaryInFieldOrderWithAbsentValuesLeftOut() {
        StageResult.Ppo drpo = new StageResult.Ppo("drpo", "m", 2, 8, 9, new PpoTrainer.Evaluation(0, 1, 0, 3, 1, 9),
                null, 0.05, 0.5, "REFERENCE_SUMMARY");
        Map<String, Object> m = drpo.toMap();
        assertThat(m.keySet()).containsExactly("stage", "model", "updates", "train_prompts", "eval_prompts",
                "eval_before", "kl_coef", "beta_mix", "reset_source");
        assertThat(m.get("updates")).isEqualTo(2L);
        assertThat(m.get("beta_mix")).isEqualTo(0.5);
        StageResult.Reward empty = new StageResult.Reward("rm", 0, 50, Map.of(),
                new StageResult.Reward.Heldout(List.of(), 0, 0), null, null);
        assertThat(empty.toMap().keySet()).containsExactly("stage", "model", "steps", "train_pairs", "eval", "heldout");
        assertThat(Json.compact(empty.toMap().get("heldout"))).isEqualTo("{\"sets\":[],\"correct\":0,\"pairs\":0,"
                + "\"accuracy\":null}");
        assertThat(empty.heldoutAccuracy()).isNull();
        assertThat(empty.evalRows()).isNull();
        assertThatThrownBy(() -> StageResult.read("rl", Json.MAPPER.createObjectNode()))
                .hasMessage("unknown stage 'rl' (sft, reward, ppo, drpo, dpo, grpo, rloo)");
    }
}
