package org.rlhf4j.examples.cli;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.datasets.Prompt;
import org.rlhf4j.datasets.SftExample;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.FactScaffold;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j data scaffold}: writes SFT rows whose targets follow the facts-then-summary protocol
 * ({@link FactScaffold}), to read them, or to train on them with a plain {@code sft --data FILE}. Reddit posts are
 * written in the openai-tldr format (the summary field holds the target), other prompts in the sft format.
 */
@Command(name = "scaffold", mixinStandardHelpOptions = true,
        description = "Write SFT rows with \"Facts: - ... Summary: ...\" targets (facts: the post's sentences closest to"
                + " the reference; docs/grounding.md) as JSON Lines.")
final class DataScaffoldCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--data", defaultValue = "bundled", paramLabel = "bundled|full|FILE",
            description = "SFT rows (bundled, full, or an openai-tldr / sft file). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--split", defaultValue = "train", description = "Split of bundled or full. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--max-facts", defaultValue = "3", description = "Most facts per target. Default: ${DEFAULT-VALUE}.")
    int maxFacts;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The JSON Lines file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (maxFacts < 1) {
            throw new IllegalArgumentException("--max-facts must be >= 1, got " + maxFacts);
        }
        List<SftExample> rows = DataSource.parse(data).sftRows(split);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        int facts = 0;
        int withoutFacts = 0;
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            for (SftExample e : rows) {
                List<String> f = FactScaffold.extractFacts(e.prompt(), e.completion(), maxFacts);
                facts += f.size();
                withoutFacts += f.isEmpty() ? 1 : 0;
                String target = FactScaffold.render(f, e.completion());
                Map<String, Object> row = new LinkedHashMap<>();
                if (e.prompt() instanceof Prompt.Reddit r) {
                    // openai-tldr: the reader turns "summary" into the completion " " + summary
                    row.put("id", e.id());
                    row.put("split", e.split());
                    row.put("subreddit", r.subreddit());
                    row.put("title", r.title());
                    row.put("post", r.post());
                    row.put("summary", target.substring(1));
                } else {
                    row.put("prompt", e.prompt().text());
                    row.put("completion", target);
                }
                w.write(Json.compact(row));
                w.newLine();
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("out", out.toString());
        result.put("rows", rows.size());
        result.put("facts", facts);
        result.put("rows_without_facts", withoutFacts);
        spec.commandLine().getOut().println(Json.compact(result));
        return 0;
    }
}
