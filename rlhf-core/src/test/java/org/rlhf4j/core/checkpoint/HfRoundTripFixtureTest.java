package org.rlhf4j.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import org.rlhf4j.core.tokenizer.Tokenizer;

/**
 * A model directory written by rlhf4j (a tiny GPT-2 over a compact vocabulary, after a few SFT epochs) gives the
 * token ids and next-token log-probabilities that Hugging Face {@code transformers} computed for it
 * ({@code AutoTokenizer}, {@code AutoModelForCausalLM}; test resource {@code hf-roundtrip}, written by
 * {@code scripts/make_hf_fixture.sh}). No Python is needed here.
 */
class HfRoundTripFixtureTest {

    private static final double TOLERANCE = 1e-4;

    @Test
    void idsAndLogprobsMatchTransformers() throws Exception {
        check(TestSupport.resource("hf-roundtrip/model"));
    }

    @Test
    void aCopySavedByRlhf4jStillMatches(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("copy");
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(TestSupport.resource("hf-roundtrip/model"), m);
                Tokenizer tok = Checkpoint.tokenizerFor(TestSupport.resource("hf-roundtrip/model"))) {
            Checkpoint.save(out, model, tok, null, null, null);
        }
        assertThat(out.resolve(HfTokenizer.CONFIG_FILE)).exists();
        check(out);
    }

    private static void check(Path dir) throws Exception {
        JsonNode expected = Json.MAPPER.readTree(TestSupport.resource("hf-roundtrip/expected.json").toFile());
        double worst = 0;
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.load(dir, m);
                Tokenizer tok = Checkpoint.tokenizerFor(dir)) {
            assertThat(tok.vocabSize()).isEqualTo(model.config().vocabSize());
            for (JsonNode c : expected.get("cases")) {
                String text = c.get("text").asText();
                int[] ids = tok.encode(text);
                int[] want = new int[c.get("ids").size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = c.get("ids").get(i).asInt();
                }
                assertThat(ids).as(text).containsExactly(want);
                assertThat(tok.decode(ids)).isEqualTo(text);
                long[] l = new long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    l[i] = ids[i];
                }
                NDArray x = m.create(l).reshape(1, ids.length);
                float[] got = model.nextTokenLogprobs(x, m.ones(x.getShape())).toFloatArray();
                assertThat(got).hasSize(ids.length - 1);
                for (int i = 0; i < got.length; i++) {
                    double diff = Math.abs(got[i] - c.get("logprobs").get(i).asDouble());
                    assertThat(diff).as("%s position %d", text, i).isLessThanOrEqualTo(TOLERANCE);
                    worst = Math.max(worst, diff);
                }
            }
        }
        assertThat(worst).isLessThanOrEqualTo(TOLERANCE);
    }
}
