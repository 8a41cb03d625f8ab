package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;


import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * HF GPT-2 parity: a tiny random checkpoint in HF layout, loaded through the real safetensors reader, reproduces the
 * log-probabilities an independent PyTorch GPT-2 computed for it (test resource {@code parity/gpt2-tiny}).
 */
class Gpt2ParityTest {

    @Test
    void logprobsMatchIndependentPytorchImplementation() throws Exception {
        Path dir = TestSupport.resource("parity/gpt2-tiny");
        JsonNode ref = Json.MAPPER.readTree(Files.readString(dir.resolve("logprobs.json")));
        long[] tokens = new long[ref.get("tokens").size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = ref.get("tokens").get(i).asLong();
        }
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.load(dir, m)) {
            NDArray ids = m.create(tokens).reshape(1, tokens.length);
            NDArray mask = m.ones(ids.getShape(), DataType.INT64);
            NDArray lp = TensorOps.sequenceLogprobs(model.forward(ids, mask), ids);
            float[] got = lp.toFloatArray();
            assertThat(got).hasSize(tokens.length - 1);
            double sum = 0;
            for (int i = 0; i < got.length; i++) {
                assertThat((double) got[i]).as("logprob %d", i).isCloseTo(ref.get("logprobs").get(i).asDouble(), within(1e-4));
                sum += got[i];
            }
            assertThat(sum).isCloseTo(ref.get("sum").asDouble(), within(1e-3));
            // the fused path (hidden states sliced before the vocabulary projection) gives the same values
            assertThat(model.nextTokenLogprobs(ids, mask).toFloatArray()).containsExactly(got, within(1e-6f));
        }
    }
}
