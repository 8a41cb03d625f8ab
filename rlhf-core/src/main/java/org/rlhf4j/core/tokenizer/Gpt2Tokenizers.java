package org.rlhf4j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;

/**
 * GPT-2 byte-level BPE tokenizers: built from {@code vocab.json} (a.k.a. {@code encoder.json}) and
 * {@code merges.txt} (a.k.a. {@code vocab.bpe}), or the bundled copy of GPT-2's own files (MIT, see
 * {@code org/rlhf4j/core/tokenizer/gpt2/NOTICE.md}).
 *
 * <p>The files are turned into the {@code tokenizer.json} that Hugging Face's {@code GPT2TokenizerFast} uses
 * (ByteLevel pre-tokenizer without prefix space, BPE model, ByteLevel decoder, {@code <|endoftext|>} as a special
 * added token), so encoding is exactly GPT-2's: {@code "Hello world"} gives {@code [15496, 995]}.
 */
public final class Gpt2Tokenizers {

    private static final String BUNDLE = "/org/rlhf4j/core/tokenizer/gpt2/";

    /** GPT-2's special end-of-text token. */
    public static final String EOS = "<|endoftext|>";

    private Gpt2Tokenizers() {}

    /**
     * Returns a new tokenizer over the bundled GPT-2 vocabulary (50,257 tokens, EOS 50256).
     *
     * @return the tokenizer (close it when done)
     */
    public static HfTokenizer bundled() {
        try (InputStream v = resource("encoder.json");
                InputStream m = resource("vocab.bpe")) {
            return fromStreams(v, m, Path.of("classpath:" + BUNDLE));
        } catch (IOException e) {
            throw new UncheckedIOException("bundled GPT-2 tokenizer is unreadable", e);
        }
    }

    /**
     * Returns the {@code tokenizer.json} text of the bundled GPT-2 vocabulary.
     *
     * @return the JSON
     */
    public static String bundledJson() {
        try (InputStream v = resource("encoder.json");
                InputStream m = resource("vocab.bpe")) {
            return tokenizerJson(v, m, Path.of("classpath:" + BUNDLE));
        } catch (IOException e) {
            throw new UncheckedIOException("bundled GPT-2 tokenizer is unreadable", e);
        }
    }

    /**
     * Builds a tokenizer from GPT-2 style files.
     *
     * @param vocabJson {@code vocab.json} / {@code encoder.json}: token to id
     * @param merges {@code merges.txt} / {@code vocab.bpe}: one merge per line, optional {@code #version} header
     * @return the tokenizer
     * @throws IOException when a file is missing or malformed (the message names it)
     */
    public static HfTokenizer fromFiles(Path vocabJson, Path merges) throws IOException {
        if (!Files.exists(vocabJson)) {
            throw new ModelFormatException(vocabJson, "file not found");
        }
        if (!Files.exists(merges)) {
            throw new ModelFormatException(merges, "file not found");
        }
        try (InputStream v = Files.newInputStream(vocabJson);
                InputStream m = Files.newInputStream(merges)) {
            return fromStreams(v, m, vocabJson.getParent());
        }
    }

    private static HfTokenizer fromStreams(InputStream vocab, InputStream merges, Path source) throws IOException {
        return HfTokenizer.fromJson(tokenizerJson(vocab, merges, source), source);
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = Gpt2Tokenizers.class.getResourceAsStream(BUNDLE + name);
        if (in == null) {
            throw new IOException("missing resource " + BUNDLE + name);
        }
        return in;
    }

    static String tokenizerJson(InputStream vocabIn, InputStream mergesIn, Path source) throws IOException {
        JsonNode vocab;
        try {
            vocab = Json.MAPPER.readTree(vocabIn);
        } catch (IOException e) {
            throw new ModelFormatException(source, "vocab.json is not valid JSON: " + e.getMessage(), e);
        }
        if (vocab == null || !vocab.isObject() || !vocab.has(EOS)) {
            throw new ModelFormatException(source, "vocab.json must be an object containing '" + EOS + "'");
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode eos = added.addObject();
        eos.put("id", vocab.get(EOS).asInt());
        eos.put("content", EOS);
        eos.put("single_word", false);
        eos.put("lstrip", false);
        eos.put("rstrip", false);
        eos.put("normalized", true);
        eos.put("special", true);
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false, true));
        root.set("post_processor", byteLevel(true, false));
        root.set("decoder", byteLevel(true, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.set("vocab", vocab);
        ArrayNode mergeList = model.putArray("merges");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(mergesIn, StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.startsWith("#version") || line.isEmpty()) {
                    continue;
                }
                if (line.split(" ").length != 2) {
                    throw new ModelFormatException(
                            source, "merges line " + lineNo + " is not two space-separated symbols: '" + line + "'");
                }
                mergeList.add(line);
            }
        }
        return Json.compact(root);
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }
}
