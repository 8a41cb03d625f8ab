package org.rlhf4j.examples.cli;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.eval.FactExtractor;
import org.rlhf4j.algorithms.eval.GroundingJudge;
import org.rlhf4j.algorithms.eval.LlmJudge;
import org.rlhf4j.algorithms.eval.Matchup;
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
 * written in the openai-tldr format (the summary field holds the target), other prompts in the sft format. Facts come
 * from {@link FactScaffold#extractFacts} (default, offline), or with {@code --facts llm} from an LLM
 * ({@link FactExtractor}, replies cached); a row whose LLM reply is malformed gets the extractive facts and is counted.
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

    @Option(names = "--facts", defaultValue = "extractive", paramLabel = "extractive|llm",
            description = "Where the facts come from: the post's sentences closest to the reference (offline), or an LLM"
                    + " (--base-url, --judge-model, --api-key, --cache, as eval's). Default: ${DEFAULT-VALUE}.")
    String factSource;

    @Option(names = "--base-url", paramLabel = "URL", description = "LLM API base URL (else $RLHF4J_JUDGE_BASE_URL).")
    String baseUrl;

    @Option(names = "--judge-model", paramLabel = "NAME", description = "LLM model (else $RLHF4J_JUDGE_MODEL).")
    String judgeModel;

    @Option(names = "--api-key", paramLabel = "KEY", description = "API key (else $RLHF4J_JUDGE_API_KEY, $OPENAI_API_KEY).")
    String apiKey;

    @Option(names = "--cache", paramLabel = "FILE", defaultValue = "runs/data/facts-cache.jsonl",
            description = "LLM reply cache. Default: ${DEFAULT-VALUE}.")
    Path cache;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The JSON Lines file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (maxFacts < 1) {
            throw new IllegalArgumentException("--max-facts must be >= 1, got " + maxFacts);
        }
        if (!factSource.equals("extractive") && !factSource.equals("llm")) {
            throw new IllegalArgumentException("--facts must be extractive or llm, got '" + factSource + "'");
        }
        List<SftExample> rows = DataSource.parse(data).sftRows(split);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        int facts = 0;
        int withoutFacts = 0;
        int malformed = 0;
        try (LlmJudge client = factSource.equals("llm") ? LlmJudge.builder().optBaseUrl(baseUrl).optModel(judgeModel)
                .optApiKey(apiKey).optCacheFile(cache).optMaxTokens(GroundingJudge.DEFAULT_MAX_TOKENS).build() : null;
                BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            FactExtractor llm = client == null ? null : new FactExtractor(client, maxFacts);
            for (SftExample e : rows) {
                List<String> f = null;
                if (llm != null) {
                    FactExtractor.Result r = llm.facts(Matchup.postText(e.prompt()));
                    if (r.problem() == null) {
                        f = r.facts();
                    } else {
                        malformed++;
                        spec.commandLine().getErr().println("data scaffold: " + e.id() + ": malformed LLM reply ("
                                + r.problem() + "); extractive facts used");
                    }
                }
                if (f == null) {
                    f = FactScaffold.extractFacts(e.prompt(), e.completion(), maxFacts);
                }
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
        result.put("fact_source", factSource);
        if (factSource.equals("llm")) {
            result.put("llm_malformed", malformed);
        }
        spec.commandLine().getOut().println(Json.compact(result));
        return 0;
    }
}
