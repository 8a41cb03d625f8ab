package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.eval.HallucinationRate;
import org.rlhf4j.algorithms.eval.Interval;
import org.rlhf4j.core.io.Json;

/** The pipeline's table and pipeline.json rows get the hallucination rate only when a grounding judge ran. */
class PipelineGroundingTableTest {

    static PipelineEvaluation.Row row(String name, HallucinationRate.Result h) {
        return new PipelineEvaluation.Row(name, 0.1, 0.1, 0.0, 1.5, 0.5, Interval.wilson95(4, 8), List.of(), 20, 25, 1.0,
                0.3, "a summary", null, h);
    }

    @Test
    void theColumnAppearsOnlyWithAGroundingJudge() throws Exception {
        String plain = PipelineReport.table(List.of(row("sft", null), row("ppo", null)), Map.of());
        assertThat(plain).doesNotContain("halluc.");
        assertThat(Json.MAPPER.readTree(Json.compact(row("sft", null))).has("hallucination")).isFalse();

        // 3 of 8 valid summaries unsupported, 1 malformed: 37.5 %, Wilson [13.7 %, 69.4 %]
        HallucinationRate.Result h = new HallucinationRate.Result(9, 5, 3, 1, 12, 4, 3 / 8.0);
        String table = PipelineReport.table(List.of(row("sft", h), row("ppo", null)), Map.of());
        assertThat(table.lines().findFirst().orElseThrow()).contains("halluc.");
        assertThat(table).contains(" 37.5% [13.7, 69.4]");
        assertThat(table.lines().filter(l -> l.startsWith("ppo")).findFirst().orElseThrow()).contains("      - -");
        JsonNode j = Json.MAPPER.readTree(Json.compact(row("sft", h))).get("hallucination");
        assertThat(j.get("rate").asDouble()).isEqualTo(0.375);
        assertThat(j.get("malformed").asInt()).isEqualTo(1);
        assertThat(j.get("ci95").get(0).asDouble()).isEqualTo(Interval.wilson95(3, 8).lo());
    }
}
