package org.rlhf4j.core.gguf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Llama;

/**
 * Every fixture GGUF, imported and loaded by rlhf4j's Llama, gives transformers' next-token logits after its own GGUF
 * load ({@code llama-next-token-logits.json}, written by {@code scripts/gguf_fixture.py}).
 */
class GgufLogitsTest {

    @TempDir Path tmp;

    @Test
    void importedModelsReproduceTransformersLogits() throws Exception {
        Path dir = TestSupport.resource("gguf-fixtures");
        JsonNode models = Json.MAPPER.readTree(dir.resolve("llama-next-token-logits.json").toFile()).get("models");
        int checked = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = models.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Path out = tmp.resolve(e.getKey());
                GgufImporter.importTo(dir.resolve(e.getKey()), out, m);
                double worst = 0;
                try (NDManager sub = m.newSubManager(); CausalLm model = CausalLm.load(out, sub)) {
                    assertTrue(model instanceof Llama, e.getKey());
                    for (JsonNode c : e.getValue()) {
                        long[] ids = new long[c.get("ids").size()];
                        for (int i = 0; i < ids.length; i++) {
                            ids[i] = c.get("ids").get(i).asLong();
                        }
                        NDArray x = sub.create(ids, new Shape(1, ids.length));
                        NDArray mask = sub.ones(new Shape(1, ids.length), ai.djl.ndarray.types.DataType.INT64);
                        float[] got = model.forward(x, mask).get(0).get(ids.length - 1).toFloatArray();
                        JsonNode want = c.get("last_logits");
                        for (int v = 0; v < got.length; v++) {
                            worst = Math.max(worst, Math.abs(got[v] - want.get(v).asDouble()));
                        }
                        assertTrue(got.length == want.size(), e.getKey());
                    }
                }
                System.out.printf("GGUF %-24s max |last-token logit diff| vs transformers %.3g%n", e.getKey(), worst);
                assertTrue(worst < 1e-4, e.getKey() + ": max |logit diff| " + worst);
                checked++;
            }
        }
        assertTrue(checked == 9, "fixtures checked: " + checked);
    }
}
