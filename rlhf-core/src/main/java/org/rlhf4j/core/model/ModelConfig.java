package org.rlhf4j.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * The configuration of a supported architecture, mirroring a Hugging Face {@code config.json}.
 *
 * <p>Each architecture has its own record with the field names of its {@code config.json} ({@link Gpt2Config},
 * {@link GptNeoXConfig}, {@link LlamaConfig}); this interface is the part that code working with any causal LM needs: the vocabulary and
 * position limits, the width of the hidden states (for scalar heads), the depth (for KV caches) and the special
 * tokens. Fields a record does not model are kept in {@link #extra()} and written back unchanged. The interface is
 * sealed so that code dispatching on the architecture (loading, scalar heads) is checked to cover every case.
 */
public sealed interface ModelConfig permits Gpt2Config, GptNeoXConfig, LlamaConfig {

    /**
     * Returns the Hugging Face {@code model_type} ({@code "gpt2"}, {@code "gpt_neox"}, {@code "llama"},
     * {@code "mistral"}, {@code "qwen2"}, {@code "qwen3"}).
     *
     * @return the model type
     */
    String modelType();

    /**
     * Returns the vocabulary size V (rows of the embedding, columns of the logits).
     *
     * @return V
     */
    int vocabSize();

    /**
     * Returns the maximum sequence length (GPT-2 {@code n_positions}, GPT-NeoX {@code max_position_embeddings}).
     *
     * @return the maximum number of positions
     */
    int maxPositions();

    /**
     * Returns the name of the {@code config.json} field that {@link #maxPositions()} reads, for error messages.
     *
     * @return e.g. {@code "n_positions"}
     */
    String maxPositionsField();

    /**
     * Returns the width d_model of the hidden states.
     *
     * @return d_model
     */
    int hiddenSize();

    /**
     * Returns the number of transformer blocks (one KV-cache entry each).
     *
     * @return the number of layers
     */
    int numLayers();

    /**
     * Returns {@code bos_token_id}.
     *
     * @return the BOS id
     */
    int bosTokenId();

    /**
     * Returns {@code eos_token_id}.
     *
     * @return the EOS id
     */
    int eosTokenId();

    /**
     * Returns every {@code eos_token_id} of the file (Llama 3 lists several; transformers' {@code generate} stops on
     * any of them), the first being {@link #eosTokenId()}; may be empty where the file has none (Qwen).
     *
     * @return the EOS ids
     */
    default java.util.List<Integer> eosTokenIds() {
        return java.util.List.of(eosTokenId());
    }

    /**
     * Returns the fields of the file that the record does not model, kept for round trips.
     *
     * @return field name to value
     */
    Map<String, JsonNode> extra();

    /**
     * Returns a copy with other extra fields (e.g. the {@code architectures} of a scalar-head model).
     *
     * @param newExtra the extra fields
     * @return the copy
     */
    ModelConfig withExtra(Map<String, JsonNode> newExtra);

    /**
     * Returns the JSON object that {@link #write(Path)} writes: {@code model_type}, the modelled fields, then the
     * kept extra fields.
     *
     * @return the object
     */
    ObjectNode toJson();

    /**
     * Writes {@code config.json} in Hugging Face layout.
     *
     * @param file the target
     * @throws IOException on write failure
     */
    void write(Path file) throws IOException;

    /**
     * Reads a {@code config.json} of any supported architecture, dispatching on its {@code model_type}
     * ({@code gpt2} when absent, as for the original GPT-2 checkpoints).
     *
     * @param file the file
     * @return the config
     * @throws ModelFormatException when the file is missing or malformed, or its {@code model_type} is not supported;
     *     the message names the file and the field
     */
    static ModelConfig read(Path file) throws ModelFormatException {
        JsonNode root = ConfigFields.readObject(file);
        String type = root.path("model_type").asText(Gpt2Config.MODEL_TYPE);
        return switch (type) {
            case Gpt2Config.MODEL_TYPE -> Gpt2Config.fromJson(file, root);
            case GptNeoXConfig.MODEL_TYPE -> GptNeoXConfig.fromJson(file, root);
            case "llama", "mistral", "qwen2", "qwen3" -> LlamaConfig.fromJson(file, root);
            default -> throw new ModelFormatException(
                    file,
                    "field 'model_type' is '" + type + "'; supported: '" + Gpt2Config.MODEL_TYPE + "', '"
                            + GptNeoXConfig.MODEL_TYPE + "', 'llama', 'mistral', 'qwen2', 'qwen3'");
        };
    }
}
