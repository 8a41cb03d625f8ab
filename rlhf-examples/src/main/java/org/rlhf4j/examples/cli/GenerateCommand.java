package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf4j generate}: sample continuations of a prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Sample continuations of a prompt (KV cache; stops at EOS).")
public final class GenerateCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin ModelOptions modelOptions;

    @Option(names = "--prompt", required = true, description = "The prompt text.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "50", description = "Maximum new tokens. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--min-new-tokens", defaultValue = "0", description = "EOS suppressed before this many tokens. Default: ${DEFAULT-VALUE}.")
    int minNewTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature; 0 = greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Top-k filtering; 0 = off. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus (top-p) mass; 1 = off. Default: ${DEFAULT-VALUE}.")
    double topP;

    @Option(names = "--num-samples", defaultValue = "1", description = "Independent samples. Default: ${DEFAULT-VALUE}.")
    int numSamples;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--chat",
            description = "Send the prompt as one user message through the model's chat template (with the generation "
                    + "prompt), for instruction-tuned models; prints only the answer.")
    boolean chat;

    @Option(names = "--scaffold",
            description = "The model writes \"Facts: ... Summary: ...\" (sft/dpo --scaffold): print only the text after"
                    + " \"Summary:\"; an output without it is printed whole, with a warning on stderr.")
    boolean scaffold;

    @Override
    public Integer call() throws Exception {
        if (numSamples < 1) {
            throw new IllegalArgumentException("--num-samples must be >= 1, got " + numSamples);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Tokenizer tok = modelOptions.tokenizer();
                NDManager m = modelOptions.newManager();
                CausalLm model = modelOptions.load(m)) {
            String text = prompt;
            if (chat) {
                org.rlhf4j.core.tokenizer.ChatRenderer template = ChatTemplates.of(modelOptions.model)
                        .orElseThrow(() -> new IllegalArgumentException("--chat: "
                                + ChatTemplates.missing(modelOptions.model)));
                text = template.render(List.of(org.rlhf4j.core.tokenizer.ChatMessage.user(prompt)), true);
            }
            int[] ids = tok.encode(text);
            if (ids.length == 0) {
                throw new IllegalArgumentException("--prompt encodes to no tokens");
            }
            GenerationConfig cfg = GenerationConfig.builder(maxNewTokens, tok.eosTokenId())
                    .setEosTokenIds(stopTokens(tok, model)).setMinNewTokens(minNewTokens)
                    .setTemperature(temperature).setTopK(topK).setTopP(topP).build();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < numSamples; i++) {
                prompts.add(ids);
            }
            Rollout r = Generator.generate(model, prompts, null, cfg, seed);
            for (int b = 0; b < r.batchSize(); b++) {
                if (numSamples > 1) {
                    out.println("--- sample " + (b + 1));
                }
                String sample = tok.decode(r.response(b), true);
                if (scaffold) {
                    java.util.Optional<String> summary = org.rlhf4j.datasets.task.FactScaffold.summaryPart(sample);
                    if (summary.isEmpty()) {
                        spec.commandLine().getErr().println("warning: sample " + (b + 1) + " has no \""
                                + org.rlhf4j.datasets.task.FactScaffold.SUMMARY_MARKER + "\" marker; printed whole");
                    }
                    out.println(summary.orElse(sample));
                } else {
                    out.println((chat ? "" : prompt) + sample);
                }
            }
        }
        return 0;
    }

    /**
     * Returns the ids that end a sample: the tokenizer's EOS first (from {@code tokenizer_config.json}: e.g.
     * {@code <|im_end|>} for Qwen and SmolLM2 instruct models, {@code <|eot_id|>} for Llama 3.x instruct), then the
     * model's {@code eos_token_id}s from {@code generation_config.json} and {@code config.json}, as transformers'
     * {@code generate} stops on any of them.
     *
     * @param tok the tokenizer
     * @param model the model
     * @return distinct ids, the tokenizer's first
     */
    static List<Integer> stopTokens(Tokenizer tok, CausalLm model) {
        java.util.Set<Integer> ids = new java.util.LinkedHashSet<>();
        ids.add(tok.eosTokenId());
        model.generationConfig().ifPresent(g -> ids.addAll(g.eosTokenIds()));
        ids.addAll(model.config().eosTokenIds()); // a list, possibly empty (Qwen's config may have none)
        return List.copyOf(ids);
    }
}
