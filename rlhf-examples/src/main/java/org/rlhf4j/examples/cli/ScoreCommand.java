package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j score}: per-token log-probabilities of a sequence, {@code logprobs[i] = log p(tokens[i+1] |
 * tokens[0..i])}, printed as one JSON object.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Print {\"tokens\":[...],\"logprobs\":[...],\"sum\":X} where logprobs[i] = log p(tokens[i+1] | tokens[0..i]).")
public final class ScoreCommand implements Callable<Integer>, ResultCommand {

    @Spec CommandSpec spec;

    @Mixin ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", description = "Text, encoded with the model's tokenizer.")
        String text;

        @Option(names = "--tokens", split = ",", paramLabel = "ID", description = "Comma-separated token ids.")
        List<Integer> tokens;
    }

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        int[] ids;
        if (input.tokens != null) {
            ids = input.tokens.stream().mapToInt(Integer::intValue).toArray();
        } else {
            try (Tokenizer tok = modelOptions.tokenizer()) {
                ids = tok.encode(input.text);
            }
        }
        if (ids.length < 2) {
            throw new IllegalArgumentException("need at least 2 tokens to score, got " + ids.length);
        }
        try (NDManager m = modelOptions.newManager();
                CausalLm model = modelOptions.load(m)) {
            for (int id : ids) {
                if (id < 0 || id >= model.config().vocabSize()) {
                    throw new IllegalArgumentException(
                            "token id " + id + " is outside the model's vocabulary [0, " + model.config().vocabSize() + ")");
                }
            }
            long[] l = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                l[i] = ids[i];
            }
            NDArray x = m.create(l, new Shape(1, ids.length));
            float[] lp = model.nextTokenLogprobs(x, m.ones(x.getShape())).toFloatArray();
            double sum = 0;
            double[] out = new double[lp.length];
            for (int i = 0; i < lp.length; i++) {
                out[i] = lp[i];
                sum += lp[i];
            }
            Map<String, Object> res = new LinkedHashMap<>();
            res.put("tokens", ids);
            res.put("logprobs", out);
            res.put("sum", sum);
            result = res;
            spec.commandLine().getOut().println(Json.compact(res));
        }
        return 0;
    }
}
