package org.rlhf4j.algorithms.common;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.ForwardHook;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.train.AdamW;
import org.rlhf4j.core.train.MixedPrecision;

/** The fp16 flag: recorded in run configs only when on, carried by toBuilder, and giving a scaler and the fp16 hook. */
class OptimizerConfigFp16Test {

    @Test
    void fp16IsOffByDefaultAndAbsentFromTheRunConfigUnlessOn() {
        OptimizerConfig off = OptimizerConfig.builder().build();
        OptimizerConfig on = off.toBuilder().setFp16(true).build();
        JsonNode offJson = Json.MAPPER.valueToTree(off);
        JsonNode onJson = Json.MAPPER.valueToTree(on);
        assertThat(off.fp16()).isFalse();
        assertThat(offJson.has("fp16")).as("old run_config.json files still match").isFalse();
        assertThat(onJson.get("fp16").asBoolean()).isTrue();
        assertThat(on.toBuilder().build()).isEqualTo(on);
        assertThat(on.withLearningRate(1e-3).fp16()).isTrue();
        assertThat(off.forwardHook()).isSameAs(ForwardHook.NONE);
        assertThat(on.forwardHook()).isSameAs(MixedPrecision.FP16);
        RunConfig a = RunConfig.of("sft", 1, off, null, null);
        RunConfig b = RunConfig.of("sft", 1, on, null, null);
        assertThat(b.differences(a)).extracting(RunConfig.Difference::field).containsExactly("config.fp16");
    }

    @Test
    void anFp16UpdaterHasALossScalerWithTorchsDefaults() {
        try (NDManager m = NDManager.newBaseManager(); Weights w = new Weights(m)) {
            w.put("x.weight", m.zeros(new ai.djl.ndarray.types.Shape(2)));
            try (AdamW opt = AdamW.of(w, 0.0)) {
                assertThat(OptimizerConfig.builder().build().newUpdater(opt, 10).lossScaler()).isNull();
                assertThat(OptimizerConfig.builder().setFp16(true).build().newUpdater(opt, 10).lossScaler().scale())
                        .isEqualTo(65536.0);
            }
        }
    }
}
