package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.tensor.FusedOps;

/**
 * Arrays a forward creates per transformer block (every op result, view and scalar lands in the step's manager), as
 * the difference between a 2-layer and a 1-layer model: a budget that keeps later edits from adding ops unnoticed.
 * Counts before the fusion (issue 19): GPT-2 gelu_new 43, GPT-2 gelu 38, GPT-NeoX parallel (gelu) 52, GPT-NeoX
 * sequential (gelu_new) 51, Llama 61, Qwen3 75.
 */
class ForwardOpCountTest {

    private static int arrays(IntFunction<CausalLm> model, int layers) {
        try (NDManager m = NDManager.newBaseManager(); CausalLm lm = model.apply(layers)) {
            try (NDManager s = m.newSubManager()) {
                NDArray ids = s.create(new long[][] {{1, 5, 9, 3, 7, 11}, {0, 0, 7, 2, 4, 8}});
                NDArray mask = s.create(new long[][] {{1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1}});
                int before = ((BaseNDManager) s).getManagedArrays().size();
                lm.hidden(ids, mask, null, ForwardHook.NONE);
                return ((BaseNDManager) s).getManagedArrays().size() - before;
            }
        }
    }

    private static int perBlock(IntFunction<CausalLm> model) {
        return arrays(model, 2) - arrays(model, 1);
    }

    @Test
    void blocksStayWithinTheirOpBudget() {
        try (NDManager m = NDManager.newBaseManager()) {
            // the tanh GELU is one op when its TorchScript module loads, nine plus four scalars when composed
            int tanhExtra = FusedOps.available() ? 0 : 12;
            // SiLU is one op when its TorchScript module loads, z·σ(z) when composed
            int siluExtra = FusedOps.available() ? 0 : 1;
            Map<String, Integer> got = Map.of(
                    "gpt2 gelu_new", perBlock(l -> Gpt2.random(
                            new Gpt2Config(97, 32, 64, l, 4, 256, 1e-5, "gelu_new", 96, 96, Map.of()), m, 3)),
                    "gpt2 gelu", perBlock(l -> Gpt2.random(
                            new Gpt2Config(97, 32, 64, l, 4, 256, 1e-5, "gelu", 96, 96, Map.of()), m, 3)),
                    "neox parallel", perBlock(l -> GptNeoX.random(GptNeoXConfig.of(97, 64, 32, l, 2), m, 3)),
                    "neox sequential", perBlock(l -> GptNeoX.random(new GptNeoXConfig(97, 64, 32, l, 4, 48,
                            "gelu_new", 1.0, 10000, 1e-5, false, true, false, 0, 0, Map.of()), m, 3)),
                    "llama", perBlock(l -> Llama.random(
                            LlamaConfig.of(LlamaFamily.LLAMA, 97, 64, 32, l, 4, 2, 48, 1, 2), m, 3)),
                    "qwen3", perBlock(l -> Llama.random(
                            LlamaConfig.of(LlamaFamily.QWEN3, 97, 64, 32, l, 4, 2, 48, 1, 2), m, 3)));
            assertThat(got.get("gpt2 gelu_new")).isLessThanOrEqualTo(30 + tanhExtra);
            assertThat(got.get("gpt2 gelu")).isLessThanOrEqualTo(30);
            assertThat(got.get("neox parallel")).isLessThanOrEqualTo(44);
            assertThat(got.get("neox sequential")).isLessThanOrEqualTo(38 + tanhExtra);
            assertThat(got.get("llama")).isLessThanOrEqualTo(58 + siluExtra);
            assertThat(got.get("qwen3")).isLessThanOrEqualTo(72 + siluExtra);
        }
    }
}
