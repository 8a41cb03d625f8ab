package org.rlhf4j.core.gguf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SafeTensors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts a GGUF file of a llama-family model into a Hugging Face model directory that transformers'
 * {@code AutoModelForCausalLM} / {@code AutoTokenizer.from_pretrained(dir)} load and rlhf4j can train:
 * {@code config.json}, {@code model.safetensors} (float32), {@code tokenizer.json}, {@code tokenizer_config.json},
 * {@code special_tokens_map.json} and {@code generation_config.json}.
 *
 * <p>Architectures ({@code general.architecture}): {@code llama} (model_type {@code llama}, or {@code mistral} when
 * {@code general.name} is exactly "mistral", as transformers' {@code load_gguf_checkpoint} decides), {@code qwen2}
 * (q/k/v biases) and {@code qwen3} (per-head q/k RMSNorm). Tensor names follow transformers'
 * {@code DENSE_DECODER_RENAMINGS} / gguf-py's {@code tensor_mapping.py}; GGUF dimensions are reversed to get the
 * PyTorch shape. For {@code llama} files the Q and K rows are un-permuted as transformers'
 * {@code LlamaTensorProcessor._reverse_permute_weights} does: llama.cpp's converter stores row
 * {@code h*D + 2d + s} what Hugging Face has at {@code h*D + s*(D/2) + d} ({@code D} = head_dim, {@code s} in {0,1});
 * qwen2/qwen3 files are not permuted. When {@code output.weight} is absent the embeddings are tied.
 */
public final class GgufImporter {

    private static final Logger LOG = LoggerFactory.getLogger(GgufImporter.class);

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");

    /** GGUF leaf name to transformers module path inside a decoder layer. */
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("attn_q", "self_attn.q_proj"), Map.entry("attn_k", "self_attn.k_proj"),
            Map.entry("attn_v", "self_attn.v_proj"), Map.entry("attn_output", "self_attn.o_proj"),
            Map.entry("ffn_gate", "mlp.gate_proj"), Map.entry("ffn_up", "mlp.up_proj"),
            Map.entry("ffn_down", "mlp.down_proj"), Map.entry("attn_norm", "input_layernorm"),
            Map.entry("ffn_norm", "post_attention_layernorm"), Map.entry("attn_q_norm", "self_attn.q_norm"),
            Map.entry("attn_k_norm", "self_attn.k_norm"));

    /**
     * What an import wrote.
     *
     * @param architecture GGUF architecture
     * @param modelType transformers model_type written to config.json
     * @param parameters number of weights written
     * @param tensorTypes count of source tensors per ggml type
     * @param skipped GGUF tensors that have no transformers counterpart (e.g. {@code rope_freqs.weight})
     * @param tiedEmbeddings whether the output projection is the embedding matrix
     */
    public record Summary(String architecture, String modelType, long parameters, Map<String, Integer> tensorTypes,
            List<String> skipped, boolean tiedEmbeddings) {}

    private GgufImporter() {}

    /**
     * Maps a GGUF tensor name to the transformers name.
     *
     * @param gguf e.g. {@code blk.3.attn_q.weight}
     * @return e.g. {@code model.layers.3.self_attn.q_proj.weight}, or {@code null} when it has no counterpart
     */
    public static String hfName(String gguf) {
        switch (gguf) {
            case "token_embd.weight":
                return "model.embed_tokens.weight";
            case "output_norm.weight":
                return "model.norm.weight";
            case "output.weight":
                return "lm_head.weight";
            default:
                break;
        }
        Matcher m = BLOCK.matcher(gguf);
        if (!m.matches() || !LAYER_NAMES.containsKey(m.group(2))) {
            return null;
        }
        return "model.layers." + m.group(1) + "." + LAYER_NAMES.get(m.group(2)) + "." + m.group(3);
    }

    /**
     * Builds {@code config.json} from the metadata.
     *
     * @param gguf the file
     * @return the config
     * @throws ModelFormatException when a required key is missing or the architecture is not supported
     */
    public static ObjectNode config(GgufFile gguf) throws ModelFormatException {
        String arch = gguf.string("general.architecture");
        String modelType = modelType(gguf, arch);
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.putArray("architectures").add(switch (modelType) {
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            case "qwen3" -> "Qwen3ForCausalLM";
            default -> "LlamaForCausalLM";
        });
        c.put("model_type", modelType);
        String p = arch + ".";
        long hidden = gguf.integer(p + "embedding_length");
        long heads = gguf.integer(p + "attention.head_count");
        long kvHeads = gguf.has(p + "attention.head_count_kv") ? gguf.integer(p + "attention.head_count_kv") : heads;
        int vocab = gguf.has(p + "vocab_size") ? (int) gguf.integer(p + "vocab_size")
                : gguf.array("tokenizer.ggml.tokens").size(); // transformers issue 32526: vocab from the token list
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", gguf.integer(p + "feed_forward_length"));
        c.put("num_hidden_layers", gguf.integer(p + "block_count"));
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        // head_dim: attention.key_length, else rope.dimension_count (transformers' llama mapping), else hidden/heads
        long headDim = gguf.has(p + "attention.key_length") ? gguf.integer(p + "attention.key_length")
                : gguf.has(p + "rope.dimension_count") && "llama".equals(arch)
                        ? gguf.integer(p + "rope.dimension_count") : hidden / heads;
        c.put("head_dim", headDim);
        c.put("max_position_embeddings", gguf.integer(p + "context_length"));
        c.put("rms_norm_eps", (double) (float) gguf.number(p + "attention.layer_norm_rms_epsilon"));
        c.put("rope_theta", gguf.has(p + "rope.freq_base") ? (double) (float) gguf.number(p + "rope.freq_base")
                : 10000.0);
        ObjectNode scaling = ropeScaling(gguf, p);
        if (scaling != null) {
            c.set("rope_scaling", scaling);
        } else {
            c.putNull("rope_scaling");
        }
        c.put("hidden_act", "silu");
        if (!"qwen2".equals(modelType)) {
            c.put("attention_bias", gguf.tensors().containsKey("blk.0.attn_q.bias"));
        }
        c.put("tie_word_embeddings", !gguf.tensors().containsKey("output.weight"));
        for (String[] k : new String[][] {{"bos_token_id", "tokenizer.ggml.bos_token_id"},
                {"eos_token_id", "tokenizer.ggml.eos_token_id"}, {"pad_token_id", "tokenizer.ggml.padding_token_id"}}) {
            if (gguf.has(k[1])) {
                c.put(k[0], gguf.integer(k[1]));
            }
        }
        c.put("torch_dtype", "float32");
        return c;
    }

    private static String modelType(GgufFile gguf, String arch) throws ModelFormatException {
        return switch (arch) {
            // load_gguf_checkpoint: `"mistral" in [general.name]`, an exact match
            case "llama" -> gguf.has("general.name") && "mistral".equals(gguf.metadata().get("general.name"))
                    ? "mistral" : "llama";
            case "qwen2", "qwen3" -> arch;
            default -> throw new ModelFormatException(gguf.file(), "metadata 'general.architecture' = '" + arch
                    + "' is not supported (supported: llama, qwen2, qwen3)");
        };
    }

    private static ObjectNode ropeScaling(GgufFile gguf, String p) throws ModelFormatException {
        if (!gguf.has(p + "rope.scaling.type")) {
            return null;
        }
        String type = gguf.string(p + "rope.scaling.type");
        if ("none".equals(type)) {
            return null;
        }
        ObjectNode s = Json.MAPPER.createObjectNode();
        s.put("rope_type", type);
        s.put("type", type);
        if (gguf.has(p + "rope.scaling.factor")) {
            s.put("factor", (double) (float) gguf.number(p + "rope.scaling.factor"));
        }
        if (gguf.has(p + "rope.scaling.original_context_length")) {
            s.put("original_max_position_embeddings", gguf.integer(p + "rope.scaling.original_context_length"));
        }
        return s;
    }

    /**
     * Undoes llama.cpp's rotary row permutation of a Q or K projection (transformers
     * {@code LlamaTensorProcessor._reverse_permute_weights}): with {@code D = rows / heads},
     * {@code out[h*D + s*D/2 + d] = in[h*D + 2d + s]} for every row (a row being {@code cols} floats).
     *
     * @param in row-major [rows, cols]
     * @param rows number of rows
     * @param cols floats per row
     * @param heads number of heads (KV heads for K)
     * @return the un-permuted copy
     */
    static FloatBuffer reversePermute(FloatBuffer in, int rows, int cols, int heads) {
        return reversePermute(in, rows, cols, heads,
                ByteBuffer.allocateDirect(rows * cols * 4).order(ByteOrder.nativeOrder()).asFloatBuffer());
    }

    private static FloatBuffer reversePermute(FloatBuffer in, int rows, int cols, int heads, FloatBuffer scratch) {
        if (rows % (2 * heads) != 0) {
            throw new IllegalArgumentException(rows + " rows cannot be split into " + heads + " heads of pairs");
        }
        int perHead = rows / heads;
        int half = perHead / 2;
        FloatBuffer out = scratch.clear().limit(rows * cols);
        float[] row = new float[cols];
        for (int h = 0; h < heads; h++) {
            for (int s = 0; s < 2; s++) {
                for (int d = 0; d < half; d++) {
                    in.get((h * perHead + 2 * d + s) * cols, row);
                    out.put((h * perHead + s * half + d) * cols, row);
                }
            }
        }
        return out;
    }

    /**
     * Imports a GGUF file into {@code outDir} (created; existing files of the same names are overwritten).
     *
     * @param ggufPath the GGUF file
     * @param outDir the target directory
     * @param manager manager for the temporary tensors
     * @return what was written
     * @throws IOException when the file is invalid, holds an unsupported type, or writing fails
     */
    public static Summary importTo(Path ggufPath, Path outDir, NDManager manager) throws IOException {
        try (GgufFile gguf = GgufFile.open(ggufPath)) {
            ObjectNode config = config(gguf);
            GgufTokenizer.Files tok = GgufTokenizer.build(gguf);
            String arch = gguf.string("general.architecture");
            int heads = config.get("num_attention_heads").asInt();
            int kvHeads = config.get("num_key_value_heads").asInt();
            Map<String, Integer> types = new TreeMap<>();
            List<String> skipped = new ArrayList<>();
            // check every type before any work, so an unsupported file fails at once and names its tensor
            for (GgufFile.TensorInfo t : gguf.tensors().values()) {
                if (hfName(t.name()) != null && !t.type().supported()) {
                    throw new ModelFormatException(ggufPath, "tensor " + t.name() + " has type " + t.type()
                            + "; supported: " + GgmlType.supportedNames());
                }
            }
            long params = 0;
            long largest = gguf.tensors().values().stream().mapToLong(GgufFile.TensorInfo::elements).max().orElse(1);
            if (largest > Integer.MAX_VALUE / 4) {
                throw new ModelFormatException(ggufPath, "a tensor has " + largest
                        + " elements; over 2 GiB as float32, not supported");
            }
            // two scratch buffers for the largest tensor, reused: NDManager.create copies a FloatBuffer (a direct
            // ByteBuffer would be mapped zero-copy), so memory stays at the float32 model plus two tensors; aliasing
            // would show in GgufImporterTest, which compares every tensor's bytes
            FloatBuffer scratch = ByteBuffer.allocateDirect((int) largest * 4).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            FloatBuffer permuted = null;
            Files.createDirectories(outDir);
            try (NDManager sub = manager.newSubManager()) {
                Map<String, NDArray> tensors = new LinkedHashMap<>();
                for (GgufFile.TensorInfo t : gguf.tensors().values()) {
                    String hf = hfName(t.name());
                    if (hf == null) {
                        skipped.add(t.name());
                        LOG.warn("{}: tensor {} has no transformers counterpart; skipped", ggufPath, t.name());
                        continue;
                    }
                    types.merge(t.type().name(), 1, Integer::sum);
                    FloatBuffer values = gguf.dequantize(t.name(), scratch);
                    long[] shape = t.torchShape();
                    if ("llama".equals(arch) && (t.name().contains(".attn_q.") || t.name().contains(".attn_k."))) {
                        int rows = (int) shape[0];
                        int cols = shape.length > 1 ? (int) shape[1] : 1;
                        if (permuted == null) {
                            permuted = ByteBuffer.allocateDirect((int) largest * 4).order(ByteOrder.nativeOrder())
                                    .asFloatBuffer();
                        }
                        values = reversePermute(values, rows, cols,
                                t.name().contains(".attn_q.") ? heads : kvHeads, permuted);
                    }
                    tensors.put(hf, sub.create(values, new Shape(shape)));
                    params += t.elements();
                }
                if (!tensors.containsKey("model.embed_tokens.weight")) {
                    throw new ModelFormatException(ggufPath, "missing tensor 'token_embd.weight'");
                }
                SafeTensors.write(outDir.resolve("model.safetensors"), tensors, Map.of());
            }
            Json.write(outDir.resolve("config.json"), config);
            Files.writeString(outDir.resolve("tokenizer.json"), Json.compact(tok.tokenizerJson()) + "\n");
            Json.write(outDir.resolve("tokenizer_config.json"), tok.tokenizerConfig());
            Json.write(outDir.resolve("special_tokens_map.json"), tok.specialTokensMap());
            ObjectNode gen = Json.MAPPER.createObjectNode();
            if (tok.bosId() >= 0) {
                gen.put("bos_token_id", tok.bosId());
            }
            if (tok.eosId() >= 0) {
                gen.put("eos_token_id", tok.eosId());
            }
            if (tok.padId() >= 0) {
                gen.put("pad_token_id", tok.padId());
            }
            Json.write(outDir.resolve("generation_config.json"), gen);
            return new Summary(arch, config.get("model_type").asText(), params, types, List.copyOf(skipped),
                    config.get("tie_word_embeddings").asBoolean());
        }
    }
}
