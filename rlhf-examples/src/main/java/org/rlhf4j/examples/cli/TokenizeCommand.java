package org.rlhf4j.examples.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code rlhf4j tokenize}: prints token ids as a JSON array. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text as a JSON array (bundled GPT-2 tokenizer by default).")
public final class TokenizeCommand implements Callable<Integer>, ResultCommand {

    @Spec CommandSpec spec;

    @Option(names = "--text", required = true, description = "The text to encode.")
    String text;

    @Option(names = "--model", paramLabel = "DIR", description = "Use this model directory's tokenizer.json.")
    Path model;

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        try (Tokenizer tok = model == null ? Gpt2Tokenizers.bundled() : Checkpoint.tokenizerFor(model)) {
            int[] ids = tok.encode(text);
            result = ids;
            spec.commandLine().getOut().println(Json.compact(ids));
        }
        return 0;
    }
}
