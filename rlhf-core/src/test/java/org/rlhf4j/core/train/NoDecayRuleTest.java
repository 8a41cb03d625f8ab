package org.rlhf4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link AdamW#NO_DECAY_BIAS_AND_NORM} against transformers 5.18's {@code Trainer.get_decay_parameter_names} on tiny
 * GPT-2, GPT-NeoX, Llama, Qwen2 and Qwen3 models: the parameters listed here are those it excludes from weight decay
 * (first list) and those it decays (second), copied from its output.
 */
class NoDecayRuleTest {

    static final List<String> HF_NO_DECAY = List.of(
            "transformer.h.0.ln_1.weight", "transformer.h.0.ln_1.bias", "transformer.h.0.attn.c_attn.bias",
            "transformer.h.0.attn.c_proj.bias", "transformer.h.0.ln_2.weight", "transformer.h.0.ln_2.bias",
            "transformer.h.0.mlp.c_fc.bias", "transformer.h.0.mlp.c_proj.bias", "transformer.ln_f.weight",
            "transformer.ln_f.bias",
            "gpt_neox.layers.0.input_layernorm.weight", "gpt_neox.layers.0.input_layernorm.bias",
            "gpt_neox.layers.0.post_attention_layernorm.weight", "gpt_neox.layers.0.post_attention_layernorm.bias",
            "gpt_neox.layers.0.attention.query_key_value.bias", "gpt_neox.layers.0.attention.dense.bias",
            "gpt_neox.layers.0.mlp.dense_h_to_4h.bias", "gpt_neox.layers.0.mlp.dense_4h_to_h.bias",
            "gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias",
            "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
            "model.norm.weight",
            "model.layers.0.self_attn.q_norm.weight", "model.layers.0.self_attn.k_norm.weight",
            "model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.k_proj.bias",
            "model.layers.0.self_attn.v_proj.bias");

    static final List<String> HF_DECAY = List.of(
            "transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight",
            "transformer.h.0.attn.c_proj.weight", "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight",
            "gpt_neox.embed_in.weight", "gpt_neox.layers.0.attention.query_key_value.weight",
            "gpt_neox.layers.0.attention.dense.weight", "gpt_neox.layers.0.mlp.dense_h_to_4h.weight",
            "gpt_neox.layers.0.mlp.dense_4h_to_h.weight", "embed_out.weight", "lm_head.weight",
            "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
            "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
            "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
            "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight", "score.weight");

    @Test
    void excludesWhatTransformersTrainerExcludes() {
        assertThat(HF_NO_DECAY).allMatch(AdamW.NO_DECAY_BIAS_AND_NORM);
        assertThat(HF_DECAY).noneMatch(AdamW.NO_DECAY_BIAS_AND_NORM);
    }

    @Test
    void gpt2NamesWithoutTheTransformerPrefixKeepTheirRule() {
        assertThat(List.of("h.0.ln_1.weight", "ln_f.bias", "ln_f.weight", "h.3.ln_2.weight"))
                .allMatch(AdamW.NO_DECAY_BIAS_AND_NORM);
        assertThat(List.of("wte.weight", "h.0.attn.c_attn.weight")).noneMatch(AdamW.NO_DECAY_BIAS_AND_NORM);
    }
}
