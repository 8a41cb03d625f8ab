package org.rlhf4j.core.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SafeTensors;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.model.Weights;

/** A reward model / critic as a LoRA adapter + scalar head over a shared frozen trunk, in PEFT's SEQ_CLS format. */
class LoraScalarModelTest {

    private static final long[][] IDS = {{1, 5, 9, 3, 7}, {0, 0, 7, 2, 11}};
    private static final long[][] MASK = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}};

    private static NDArray values(ScalarModel sm, NDManager s) {
        return sm.values(s.create(IDS), s.create(MASK));
    }

    private static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    static void randomizeB(ScalarModel sm, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Map.Entry<String, NDArray> e : sm.weights().asMap().entrySet()) {
            if (e.getKey().endsWith(LoraAdapter.B_SUFFIX)) {
                NDArray r = Weights.normal(e.getValue().getManager(), e.getValue().getShape(), 0.1, rng);
                e.getValue().set(r.toFloatArray());
                r.close();
            }
        }
    }

    @Test
    void freshLoraScalarEqualsFromLmAndTrainsOnlyAdapterAndHead() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = LoraModelTest.llama(m);
                ScalarModel full = ScalarModel.fromLm(base, m, 5);
                ScalarModel sm = ScalarModel.lora(base, LoraConfig.of(2, 4), 5);
                NDManager s = m.newSubManager()) {
            assertThat(sm.weights().names()).containsExactly(
                    "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
                    "model.layers.0.self_attn.v_proj.lora_A.weight", "model.layers.0.self_attn.v_proj.lora_B.weight",
                    "model.layers.1.self_attn.q_proj.lora_A.weight", "model.layers.1.self_attn.q_proj.lora_B.weight",
                    "model.layers.1.self_attn.v_proj.lora_A.weight", "model.layers.1.self_attn.v_proj.lora_B.weight",
                    "score.weight", "score.bias");
            assertThat(sm.base()).containsSame(base);
            // B = 0 and the same head seed: exactly the full model made from the same LM
            assertThat(maxAbsDiff(values(sm, s), values(full, s))).isZero();
            randomizeB(sm, 1);
            assertThat(maxAbsDiff(values(sm, s), values(full, s))).isGreaterThan(1e-4f);
            sm.weights().setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(sm.score(s.create(IDS), s.create(MASK)).sum());
            }
            for (String name : sm.weights().names()) {
                assertThat(sm.weights().get(name).getGradient().abs().sum().getFloat()).as(name).isPositive();
            }
            for (String name : base.weights().names()) {
                assertThat(base.weights().get(name).hasGradient()).as(name).isFalse();
            }
            // a copy shares the base and closing it (or the original) leaves the base open
            NDArray before = values(sm, s);
            try (ScalarModel c = sm.copy(m)) {
                assertThat(c.base()).containsSame(base);
                assertThat(maxAbsDiff(values(c, s), before)).isZero();
            }
            assertThat(maxAbsDiff(base.forward(s.create(IDS), s.create(MASK)),
                    base.forward(s.create(IDS), s.create(MASK)))).isZero();
        }
    }

    @Test
    void fromLmOfALoraModelCopiesTheMergedTrunkAndLoraRefusesALoraBase() {
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = LoraModelTest.neox(m);
                LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false);
                NDManager s = m.newSubManager()) {
            LoraModelTest.randomizeB(lm, 3);
            try (CausalLm merged = lm.merge(m); ScalarModel viaLora = ScalarModel.fromLm(lm, m, 4);
                    ScalarModel viaMerged = ScalarModel.fromLm(merged, m, 4)) {
                assertThat(viaLora.base()).isEmpty();
                assertThat(maxAbsDiff(values(viaLora, s), values(viaMerged, s))).isZero();
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ScalarModel.lora(lm, LoraConfig.of(2, 4), 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base()");
        }
    }

    @Test
    void savesAPeftSeqClsAdapterAndLoadsItBackOverItsBase(@TempDir Path tmp) throws Exception {
        Path baseDir = Files.createDirectories(tmp.resolve("base"));
        Path dir = Files.createDirectories(tmp.resolve("rm"));
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = LoraModelTest.gpt2(m);
                ScalarModel sm = ScalarModel.lora(base, new LoraConfig(2, 4, 0, List.of("c_attn", "c_proj"), true), 3);
                NDManager s = m.newSubManager()) {
            base.save(baseDir);
            randomizeB(sm, 2);
            sm.setBias(0.25f);
            sm.optBasePath(Path.of("../base")).save(dir);
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()).sorted())
                        .containsExactly("adapter_config.json", "adapter_model.safetensors");
            }
            JsonNode cfg = Json.MAPPER.readTree(dir.resolve("adapter_config.json").toFile());
            assertThat(cfg.get("task_type").asText()).isEqualTo("SEQ_CLS");
            assertThat(cfg.get("modules_to_save").toString()).isEqualTo("[\"classifier\",\"score\"]");
            try (SafeTensors st = SafeTensors.open(dir.resolve("adapter_model.safetensors"))) {
                assertThat(st.entries().keySet()).contains("base_model.model.score.weight",
                        "base_model.model.score.bias", "base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight");
            }
            NDArray want = values(sm, s);
            try (ScalarModel back = ScalarModel.load(dir, m, 0)) {
                assertThat(back.base()).isPresent();
                assertThat(back.bias()).isEqualTo(0.25f);
                assertThat(back.weights().names()).containsExactlyElementsOf(sm.weights().names());
                assertThat(maxAbsDiff(values(back, s), want)).isZero();
            }
            try (ScalarModel back = ScalarModel.loadAdapter(dir, base, false, 0)) {
                assertThat(maxAbsDiff(values(back, s), want)).isZero();
            }
            // a causal-LM adapter is not a scalar model, and the reverse
            assertThatThrownBy(() -> LoraModel.load(dir, base, false)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("task_type is SEQ_CLS");
            Path lmDir = Files.createDirectories(tmp.resolve("lm"));
            Path rm2 = Files.createDirectories(tmp.resolve("rm2"));
            NDArray want2;
            try (LoraModel lm = LoraModel.create(base, LoraConfig.of(2, 4), 1, false)) {
                LoraModelTest.randomizeB(lm, 8);
                lm.optBasePath(Path.of("../base")).save(lmDir);
                // a reward model over the SFT adapter's merged model: its base is the adapter directory
                try (CausalLm merged = lm.merge(m); ScalarModel rm = ScalarModel.lora(merged, LoraConfig.of(2, 4), 6)) {
                    randomizeB(rm, 7);
                    rm.optBasePath(Path.of("../lm")).save(rm2);
                    want2 = values(rm, s);
                }
            }
            try (ScalarModel back = ScalarModel.load(rm2, m, 0)) {
                assertThat(maxAbsDiff(values(back, s), want2)).isLessThan(1e-6f);
            }
            assertThatThrownBy(() -> ScalarModel.loadAdapter(lmDir, base, false, 0))
                    .isInstanceOf(ModelFormatException.class).hasMessageContaining("task_type is CAUSAL_LM");
        }
    }

    @Test
    void peftMadeSeqClsAdapterGivesPeftsValues() throws Exception {
        Path dir = TestSupport.resource("peft-fixtures/llama-seqcls");
        JsonNode expected = Json.MAPPER.readTree(dir.resolve("expected.json").toFile());
        try (NDManager m = NDManager.newBaseManager(); ScalarModel sm = ScalarModel.load(dir, m, 0)) {
            assertThat(sm.bias()).isZero();
            double worst = 0;
            for (JsonNode b : (Iterable<JsonNode>) () -> expected.get("batches").elements()) {
                try (NDManager s = m.newSubManager()) {
                    NDArray v = sm.values(s.create(PeftParityTest.longs(b.get("input_ids"))),
                            s.create(PeftParityTest.longs(b.get("attention_mask"))));
                    worst = Math.max(worst, PeftParityTest.maxDiff(PeftParityTest.rows(v), b.get("values"),
                            b.get("attention_mask"), false));
                }
            }
            System.out.printf("peft parity llama-seqcls: max |value diff| %.3g%n", worst);
            assertThat(worst).isLessThan(1e-4);
        }
    }

    /**
     * Writes an rlhf4j-made SEQ_CLS adapter (non-zero B, bias 0: PEFT has no head bias) with its per-position values
     * to {@code rlhf4j_expected.json} for {@code scripts/peft_fixture.py check DIR}; to {@code -Drlhf4j.peft.exportDir}
     * ({@code DIR/llama-seqcls-rlhf4j}) or a temporary directory.
     */
    @Test
    void rlhf4jSavedSeqClsAdapterCarriesItsOwnValuesForPeft(@TempDir Path tmp) throws Exception {
        String dest = System.getProperty("rlhf4j.peft.exportDir");
        Path out = Files.createDirectories((dest == null ? tmp : Path.of(dest)).resolve("llama-seqcls-rlhf4j"));
        Path baseDir = TestSupport.resource("peft-fixtures/llama").toAbsolutePath();
        JsonNode batches = Json.MAPPER.readTree(TestSupport.resource("peft-fixtures/llama-seqcls/expected.json")
                .toFile()).get("batches");
        try (NDManager m = NDManager.newBaseManager(); CausalLm base = CausalLm.load(baseDir, m);
                ScalarModel sm = ScalarModel.lora(base, LoraConfig.of(4, 8).withTargetModules(
                        List.of("q_proj", "k_proj", "gate_proj")), 8).optBasePath(baseDir)) {
            randomizeB(sm, 9);
            sm.save(out);
            ObjectNode json = Json.MAPPER.createObjectNode();
            ObjectNode bs = json.putObject("batches");
            try (ScalarModel back = ScalarModel.load(out, m, 0)) {
                for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) () -> batches.fields()) {
                    try (NDManager s = m.newSubManager()) {
                        NDArray ids = s.create(PeftParityTest.longs(e.getValue().get("input_ids")));
                        NDArray mask = s.create(PeftParityTest.longs(e.getValue().get("attention_mask")));
                        NDArray v = sm.values(ids, mask);
                        assertThat(maxAbsDiff(back.values(ids, mask), v)).isZero();
                        ObjectNode b = bs.putObject(e.getKey());
                        b.set("input_ids", e.getValue().get("input_ids"));
                        b.set("attention_mask", e.getValue().get("attention_mask"));
                        b.set("values", PeftParityTest.matrix(PeftParityTest.rows(v)));
                    }
                }
            }
            Json.write(out.resolve("rlhf4j_expected.json"), json);
        }
    }
}
