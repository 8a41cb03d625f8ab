package org.rlhf4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The hook sees every parameter and every linear layer of each family, in forward order, and changes what it says. */
class ForwardHookTest {

    /** Records what the forward asks for; optionally scales one module's output. */
    private static final class Recorder implements ForwardHook {
        final Set<String> params = new LinkedHashSet<>();
        final List<String> modules = new ArrayList<>();
        final String scaled;

        Recorder(String scaled) {
            this.scaled = scaled;
        }

        @Override
        public NDArray param(String name, NDArray stored) {
            params.add(name);
            return stored;
        }

        @Override
        public NDArray adapt(String module, NDArray input, NDArray output) {
            modules.add(module);
            return module.equals(scaled) ? output.mul(2) : output;
        }
    }

    private static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    private static void check(CausalLm model, List<String> layer0Modules, String scaled) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ids = m.create(new long[][] {{1, 5, 9, 3}, {0, 0, 7, 2}});
            NDArray mask = m.create(new long[][] {{1, 1, 1, 1}, {0, 0, 1, 1}});
            NDArray plain = model.forward(ids, mask);
            Recorder identity = new Recorder("");
            NDArray same = model.logits(model.hidden(ids, mask, null, identity), identity);
            assertEquals(0f, maxAbsDiff(plain, same), "an identity hook must not change the logits");
            // every stored parameter is read through param(), nothing else
            assertEquals(model.weights().names(), identity.params);
            int layers = identity.modules.size() / layer0Modules.size();
            assertEquals(2, layers, "modules " + identity.modules);
            for (int l = 0; l < layers; l++) {
                for (int i = 0; i < layer0Modules.size(); i++) {
                    assertEquals(layer0Modules.get(i).replace(".0.", "." + l + "."),
                            identity.modules.get(l * layer0Modules.size() + i));
                }
            }
            Recorder doubling = new Recorder(scaled);
            NDArray changed = model.logits(model.hidden(ids, mask, null, doubling), doubling);
            assertTrue(maxAbsDiff(plain, changed) > 1e-4, "adapting " + scaled + " must change the logits");
        }
    }

    @Test
    void gpt2SeesItsFourConv1dModulesPerBlock() {
        try (NDManager m = NDManager.newBaseManager(); Gpt2 model = Gpt2.random(Gpt2Config.of(97, 64, 32, 2, 4), m, 3)) {
            check(model, List.of("transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj",
                    "transformer.h.0.mlp.c_fc", "transformer.h.0.mlp.c_proj"), "transformer.h.1.attn.c_attn");
        }
    }

    @Test
    void gptNeoXSeesItsFourLinearsPerBlock() {
        try (NDManager m = NDManager.newBaseManager();
                GptNeoX model = GptNeoX.random(GptNeoXConfig.of(97, 64, 32, 2, 2), m, 3)) {
            check(model, List.of("gpt_neox.layers.0.attention.query_key_value", "gpt_neox.layers.0.attention.dense",
                    "gpt_neox.layers.0.mlp.dense_h_to_4h", "gpt_neox.layers.0.mlp.dense_4h_to_h"),
                    "gpt_neox.layers.0.attention.query_key_value");
        }
    }

    @Test
    void llamaSeesItsSevenLinearsPerBlock() {
        LlamaConfig c = LlamaConfig.of(LlamaFamily.QWEN2, 97, 64, 32, 2, 4, 2, 48, 1, 2);
        try (NDManager m = NDManager.newBaseManager(); Llama model = Llama.random(c, m, 3)) {
            String a = "model.layers.0.self_attn.";
            String p = "model.layers.0.mlp.";
            check(model, List.of(a + "q_proj", a + "k_proj", a + "v_proj", a + "o_proj", p + "gate_proj",
                    p + "up_proj", p + "down_proj"), "model.layers.1.self_attn.v_proj");
        }
    }

    @Test
    void compositionAppliesThisHookThenTheNext() {
        ForwardHook first = new ForwardHook() {
            @Override
            public NDArray adapt(String module, NDArray input, NDArray output) {
                return output.add(1);
            }
        };
        ForwardHook second = new ForwardHook() {
            @Override
            public NDArray adapt(String module, NDArray input, NDArray output) {
                return output.mul(10);
            }

            @Override
            public NDArray param(String name, NDArray stored) {
                return stored.mul(3);
            }
        };
        assertSame(first, first.andThen(ForwardHook.NONE));
        assertSame(second, ForwardHook.NONE.andThen(second));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {2f});
            ForwardHook both = first.andThen(second);
            assertEquals(30f, both.adapt("m", x, x).getFloat(0), 0f); // (2 + 1) · 10
            assertEquals(6f, both.param("w", x).getFloat(0), 0f);
            assertEquals(21f, second.andThen(first).adapt("m", x, x).getFloat(0), 0f); // 2 · 10 + 1
        }
    }
}
