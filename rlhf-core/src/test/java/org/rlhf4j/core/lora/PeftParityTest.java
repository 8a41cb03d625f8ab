package org.rlhf4j.core.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDArrays;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;

/**
 * Adapters made by PEFT ({@code scripts/peft_fixture.py fixtures}: non-zero B, Llama q/v and all-linear rsLoRA, GPT-2
 * Conv1D, GPT-NeoX) give PEFT's log-probabilities in rlhf4j, and merging gives {@code merge_and_unload}'s.
 */
class PeftParityTest {

    /** Max |diff| over the real positions of one batch (mask[:, :-1]·mask[:, 1:] for log-probabilities). */
    static double maxDiff(float[][] got, JsonNode want, JsonNode mask, boolean shifted) {
        double worst = 0;
        for (int b = 0; b < got.length; b++) {
            for (int i = 0; i < got[b].length; i++) {
                boolean real = shifted ? mask.get(b).get(i).asInt() == 1 && mask.get(b).get(i + 1).asInt() == 1
                        : mask.get(b).get(i).asInt() == 1;
                if (real) {
                    worst = Math.max(worst, Math.abs(got[b][i] - want.get(b).get(i).asDouble()));
                }
            }
        }
        return worst;
    }

    static float[][] rows(NDArray a) {
        int n = Math.toIntExact(a.getShape().get(0));
        float[][] out = new float[n][];
        for (int b = 0; b < n; b++) {
            out[b] = a.get(b).toFloatArray();
        }
        return out;
    }

    static long[][] longs(JsonNode n) {
        long[][] out = new long[n.size()][];
        for (int b = 0; b < n.size(); b++) {
            out[b] = new long[n.get(b).size()];
            for (int i = 0; i < out[b].length; i++) {
                out[b][i] = n.get(b).get(i).asLong();
            }
        }
        return out;
    }

    /** Logprobs and logits at each row's last real token. */
    static NDArray[] outputs(CausalLm lm, NDManager s, long[][] ids, long[][] mask) {
        NDArray i = s.create(ids);
        NDArray m = s.create(mask);
        NDArray lp = lm.nextTokenLogprobs(i, m);
        NDArray logits = lm.forward(i, m);
        NDArray last = ScalarModel.lastRealIndex(m);
        long[] lastIdx = last.toLongArray();
        NDArray[] picked = new NDArray[ids.length];
        for (int b = 0; b < ids.length; b++) {
            picked[b] = logits.get(b).get(lastIdx[b]);
        }
        NDArray lastLogits = NDArrays.stack(new ai.djl.ndarray.NDList(picked));
        return new NDArray[] {lp, lastLogits};
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-qv", "llama-all-rslora", "llama-patterns", "gpt2-c_attn", "gpt_neox-qkv-mlp"})
    void peftAdaptersGivePeftsLogprobsAndMergeGivesMergeAndUnloads(String fixture) throws Exception {
        Path dir = TestSupport.resource("peft-fixtures/" + fixture);
        JsonNode expected = Json.MAPPER.readTree(dir.resolve("expected.json").toFile());
        try (NDManager m = NDManager.newBaseManager();
                CausalLm base = CausalLm.load(TestSupport.resource("peft-fixtures/" + expected.get("base").asText()),
                        m);
                LoraModel lm = LoraModel.load(dir, base, false);
                CausalLm merged = lm.merge(m);
                CausalLm viaCausalLm = CausalLm.load(dir, m)) {
            assertThat(lm.basePath()).isEqualTo("../" + expected.get("base").asText());
            assertThat(viaCausalLm).isInstanceOf(LoraModel.class);
            double worstLp = 0;
            double worstLast = 0;
            double worstMerged = 0;
            for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) () ->
                    expected.get("batches").fields()) {
                JsonNode b = e.getValue();
                long[][] ids = longs(b.get("input_ids"));
                long[][] mask = longs(b.get("attention_mask"));
                try (NDManager s = m.newSubManager()) {
                    NDArray[] out = outputs(lm, s, ids, mask);
                    worstLp = Math.max(worstLp, maxDiff(rows(out[0]), b.get("logprobs"), b.get("attention_mask"),
                            true));
                    float[] last = out[1].toFloatArray();
                    int v = last.length / ids.length;
                    for (int r = 0; r < ids.length; r++) {
                        for (int j = 0; j < v; j++) {
                            worstLast = Math.max(worstLast, Math.abs(last[r * v + j]
                                    - b.get("last_logits").get(r).get(j).asDouble()));
                        }
                    }
                    NDArray[] mo = outputs(merged, s, ids, mask);
                    worstMerged = Math.max(worstMerged, maxDiff(rows(mo[0]), b.get("merged_logprobs"),
                            b.get("attention_mask"), true));
                    NDArray[] vo = outputs(viaCausalLm, s, ids, mask);
                    assertThat(vo[0].sub(out[0]).abs().max().getFloat()).isZero();
                }
            }
            System.out.printf("peft parity %s: max |logprob diff| %.3g, |last logit diff| %.3g, merged %.3g%n",
                    fixture, worstLp, worstLast, worstMerged);
            assertThat(worstLp).isLessThan(1e-4);
            assertThat(worstLast).isLessThan(1e-4);
            assertThat(worstMerged).isLessThan(1e-5);
        }
    }

    @Test
    void rankAndAlphaPatternsGivePerModuleRanksAndScales(@TempDir Path tmp) throws Exception {
        Path dir = TestSupport.resource("peft-fixtures/llama-patterns");
        try (NDManager m = NDManager.newBaseManager();
                CausalLm base = CausalLm.load(TestSupport.resource("peft-fixtures/llama"), m);
                LoraModel lm = LoraModel.load(dir, base, false)) {
            LoraAdapter a = lm.adapter();
            // r = 4, α = 8; rank_pattern {v_proj: 2}; alpha_pattern {layers.1.self_attn.q_proj: 16}
            assertThat(a.rank("model.layers.0.self_attn.q_proj")).isEqualTo(4);
            assertThat(a.scaling("model.layers.0.self_attn.q_proj")).isEqualTo(2.0);
            assertThat(a.rank("model.layers.1.self_attn.v_proj")).isEqualTo(2);
            assertThat(a.scaling("model.layers.1.self_attn.v_proj")).isEqualTo(4.0);
            assertThat(a.scaling("model.layers.1.self_attn.q_proj")).isEqualTo(4.0);
            assertThat(a.scaling("model.layers.0.mlp.down_proj")).isEqualTo(2.0);
            String dest = System.getProperty("rlhf4j.peft.exportDir");
            if (dest != null) {
                // for scripts/peft_fixture.py check: PEFT reads the patterns rlhf4j writes
                Path out = Files.createDirectories(Path.of(dest, "llama-patterns-rlhf4j"));
                lm.optBasePath(TestSupport.resource("peft-fixtures/llama").toAbsolutePath()).save(out);
                JsonNode batches = Json.MAPPER.readTree(dir.resolve("expected.json").toFile()).get("batches");
                ObjectNode json = Json.MAPPER.createObjectNode();
                ObjectNode bs = json.putObject("batches");
                for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) () -> batches.fields()) {
                    try (NDManager s = m.newSubManager()) {
                        NDArray[] o = outputs(lm, s, longs(e.getValue().get("input_ids")),
                                longs(e.getValue().get("attention_mask")));
                        ObjectNode b = bs.putObject(e.getKey());
                        b.set("input_ids", e.getValue().get("input_ids"));
                        b.set("attention_mask", e.getValue().get("attention_mask"));
                        b.set("logprobs", matrix(rows(o[0])));
                        b.set("last_logits", matrix(rows(o[1])));
                    }
                }
                Json.write(out.resolve("rlhf4j_expected.json"), json);
            }
            lm.save(tmp);
            JsonNode cfg = Json.MAPPER.readTree(tmp.resolve("adapter_config.json").toFile());
            assertThat(cfg.get("rank_pattern").toString()).isEqualTo("{\"v_proj\":2}");
            assertThat(cfg.get("alpha_pattern").toString()).isEqualTo("{\"layers.1.self_attn.q_proj\":16}");
            try (LoraModel back = LoraModel.load(tmp, base, false); NDManager s = m.newSubManager()) {
                assertThat(back.adapter().patterns()).isEqualTo(a.patterns());
                long[][] ids = {{3, 8, 5, 40, 7}};
                long[][] mask = {{1, 1, 1, 1, 1}};
                assertThat(outputs(back, s, ids, mask)[0].sub(outputs(lm, s, ids, mask)[0]).abs().max().getFloat())
                        .isZero();
            }
        }
    }

    /**
     * Writes rlhf4j-made adapters (non-zero B) with their own outputs to {@code rlhf4j_expected.json} for
     * {@code scripts/peft_fixture.py check DIR}: to a temporary directory, or to {@code -Drlhf4j.peft.exportDir=DIR}
     * ({@code DIR/<case>}). The base is the fixture's, named by absolute path. Reloading each gives the same outputs.
     */
    @Test
    void rlhf4jSavedAdaptersCarryTheirOwnOutputsForPeft(@TempDir Path tmp) throws Exception {
        String dest = System.getProperty("rlhf4j.peft.exportDir");
        Path root = dest == null ? tmp : Path.of(dest);
        Map<String, LoraConfig> cases = Map.of(
                "llama", new LoraConfig(4, 8, 0.05, List.of("q_proj", "v_proj", "down_proj"), false),
                "gpt2", new LoraConfig(3, 6, 0, List.of(LoraConfig.ALL_LINEAR), true),
                "gpt_neox", new LoraConfig(2, 4, 0, List.of(), false));
        for (Map.Entry<String, LoraConfig> c : cases.entrySet()) {
            Path baseDir = TestSupport.resource("peft-fixtures/" + c.getKey()).toAbsolutePath();
            JsonNode batches = Json.MAPPER.readTree(TestSupport.resource("peft-fixtures/"
                    + (c.getKey().equals("llama") ? "llama-qv" : c.getKey().equals("gpt2") ? "gpt2-c_attn"
                            : "gpt_neox-qkv-mlp") + "/expected.json").toFile()).get("batches");
            Path out = Files.createDirectories(root.resolve(c.getKey() + "-rlhf4j"));
            try (NDManager m = NDManager.newBaseManager(); CausalLm base = CausalLm.load(baseDir, m);
                    LoraModel lm = LoraModel.create(base, c.getValue(), 11, false).optBasePath(baseDir)) {
                LoraModelTest.randomizeB(lm, 12);
                lm.save(out);
                ObjectNode json = Json.MAPPER.createObjectNode();
                json.put("generator", "PeftParityTest#rlhf4jSavedAdaptersCarryTheirOwnOutputsForPeft");
                ObjectNode bs = json.putObject("batches");
                try (LoraModel back = LoraModel.load(out, base, false)) {
                    for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) () ->
                            batches.fields()) {
                        long[][] ids = longs(e.getValue().get("input_ids"));
                        long[][] mask = longs(e.getValue().get("attention_mask"));
                        try (NDManager s = m.newSubManager()) {
                            NDArray[] o = outputs(lm, s, ids, mask);
                            NDArray[] r = outputs(back, s, ids, mask);
                            assertThat(r[0].sub(o[0]).abs().max().getFloat()).isZero();
                            ObjectNode b = bs.putObject(e.getKey());
                            b.set("input_ids", e.getValue().get("input_ids"));
                            b.set("attention_mask", e.getValue().get("attention_mask"));
                            b.set("logprobs", matrix(rows(o[0])));
                            b.set("last_logits", matrix(rows(o[1])));
                        }
                    }
                }
                Json.write(out.resolve("rlhf4j_expected.json"), json);
            }
        }
    }

    static ArrayNode matrix(float[][] v) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (float[] row : v) {
            ArrayNode r = a.addArray();
            for (float x : row) {
                r.add(x);
            }
        }
        return a;
    }
}
