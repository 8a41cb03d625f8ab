package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.GptNeoXConfig;
import org.rlhf4j.core.model.LlamaConfig;
import org.rlhf4j.core.model.LlamaFamily;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.tokenizer.CompactVocabulary;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j init}: write a randomly initialised model directory (from-scratch training, CPU smoke runs of the
 * GPU presets, small test models): GPT-2, GPT-NeoX with Pythia's defaults for everything but the sizes, or a
 * Llama-family model ({@code llama}, {@code mistral}, {@code qwen2}, {@code qwen3}) with transformers' defaults; all over
 * the bundled GPT-2 tokenizer (V = 50,257, EOS = BOS = 50,256) or, with {@code --vocab-texts}, a compact vocabulary
 * of it.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a randomly initialised GPT-2, GPT-NeoX or Llama-family model (HF layout + bundled GPT-2 "
                + "tokenizer) to --out.")
public final class InitCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Target directory (replaced atomically).")
    Path out;

    @Option(names = "--arch", defaultValue = "gpt2",
            description = "Architecture (config.json model_type): gpt2, gpt_neox, llama, mistral, qwen2 or qwen3. "
                    + "Default: ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--n-kv-head", paramLabel = "N",
            description = "Key/value heads of the Llama family (grouped-query attention; divides --n-head). "
                    + "Default: --n-head.")
    Integer nKvHead;

    @Option(names = "--n-embd", defaultValue = "128", description = "d_model. Default: ${DEFAULT-VALUE}.")
    int nEmbd;

    @Option(names = "--n-layer", defaultValue = "4", description = "Blocks. Default: ${DEFAULT-VALUE}.")
    int nLayer;

    @Option(names = "--n-head", defaultValue = "4", description = "Attention heads. Default: ${DEFAULT-VALUE}.")
    int nHead;

    @Option(names = "--n-positions", defaultValue = "1024", description = "Maximum sequence length. Default: ${DEFAULT-VALUE}.")
    int nPositions;

    @Option(names = "--seed", defaultValue = "0", description = "Initialisation seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--vocab-texts", paramLabel = "FILE",
            description = "A compact vocabulary instead of GPT-2's 50,257 tokens: the tokens of this UTF-8 file's lines "
                    + "and what spells them (as the tiny preset does with its data).")
    Path vocabTexts;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Use the tokenizer of an HF model directory (its tokenizer.json, tokenizer_config.json with "
                    + "special tokens and chat template): the model's vocabulary and EOS come from it, e.g. a tiny "
                    + "random model with a real Llama or Qwen tokenizer for CPU trials.")
    Path tokenizerDir;

    @Override
    public Integer call() throws Exception {
        if (tokenizerDir != null && vocabTexts != null) {
            throw new IllegalArgumentException("--tokenizer and --vocab-texts exclude each other");
        }
        try (Tokenizer tok = tokenizerDir != null ? HfTokenizer.load(tokenizerDir.resolve("tokenizer.json"))
                : vocabTexts == null ? Gpt2Tokenizers.bundled()
                : CompactVocabulary.fromTexts(Gpt2Tokenizers.bundled(), Files.readAllLines(vocabTexts))) {
            write(tok, tok.vocabSize(), tok.eosTokenId());
        }
        return 0;
    }

    private void write(Tokenizer tok, int vocab, int eos) throws java.io.IOException {
        if (nKvHead != null && LlamaFamily.ofModelType(arch) == null) {
            throw new IllegalArgumentException("--n-kv-head is for the Llama family (llama, mistral, qwen2, qwen3), "
                    + "not --arch " + arch);
        }
        ModelConfig cfg = switch (arch) {
            case Gpt2Config.MODEL_TYPE -> new Gpt2Config(vocab, nPositions, nEmbd, nLayer, nHead,
                    4 * nEmbd, 1e-5, "gelu_new", eos, eos, java.util.Map.of());
            case GptNeoXConfig.MODEL_TYPE -> {
                GptNeoXConfig p = GptNeoXConfig.of(vocab, nPositions, nEmbd, nLayer, nHead);
                yield new GptNeoXConfig(p.vocabSize(), p.maxPositionEmbeddings(), p.hiddenSize(), p.numHiddenLayers(),
                        p.numAttentionHeads(), p.intermediateSize(), p.hiddenAct(), p.rotaryPct(), p.rotaryEmbBase(),
                        p.layerNormEps(), p.useParallelResidual(), p.tieWordEmbeddings(), p.attentionBias(),
                        eos, eos, p.extra());
            }
            default -> {
                LlamaFamily family = LlamaFamily.ofModelType(arch);
                if (family == null) {
                    throw new IllegalArgumentException(
                            "unknown --arch '" + arch + "' (gpt2, gpt_neox, llama, mistral, qwen2, qwen3)");
                }
                // MLP width 8/3·d, the SwiGLU convention of the Llama papers
                yield LlamaConfig.of(family, vocab, nPositions, nEmbd, nLayer, nHead,
                        nKvHead == null ? nHead : nKvHead, Math.max(1, 8 * nEmbd / 3), eos, eos);
            }
        };
        try (NDManager m = NDManager.newBaseManager();
                CausalLm model = CausalLm.random(cfg, m, seed)) {
            Checkpoint.save(out, model, tok, null, null, null);
            spec.commandLine().getOut().println(
                    "wrote " + out + " (" + cfg.modelType() + ", " + model.weights().count() + " parameters, vocabulary "
                            + vocab + ")");
        }
    }
}
