package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.algorithms.eval.GroundingJudge;
import org.rlhf4j.algorithms.eval.HumanComparisons;
import org.rlhf4j.algorithms.eval.Judge;
import org.rlhf4j.algorithms.eval.JudgeCache;
import org.rlhf4j.algorithms.eval.JudgeTemplate;
import org.rlhf4j.algorithms.eval.LlmJudge;
import org.rlhf4j.algorithms.eval.PolicyEvaluation;
import org.rlhf4j.algorithms.eval.PolicyEvaluator;
import org.rlhf4j.algorithms.eval.RewardModelJudge;
import org.rlhf4j.algorithms.eval.SummaryFiles;
import org.rlhf4j.algorithms.eval.WinRate;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ModelConfig;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.BundledTldr;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j eval}: win rate of a policy's summaries (generated, or read from a file) against the reference
 * summaries or another policy's, by the reward model or an LLM judge; also RM score, KL to a reference policy,
 * length and ROUGE; optionally the judge's agreement with the human labels of the bundled comparisons, and with
 * {@code --grounding} the hallucination rate by an LLM grounding judge ({@link GroundingJudge}). Prints one JSON object
 * on stdout and the evaluation as a table on stderr ({@link EvalTable}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate summaries: win rate vs the reference (RM or LLM judge), RM score, KL, length, ROUGE;"
                + " --human-agreement checks the judge against the labellers. Prints one JSON object.")
public final class EvalCommand implements Callable<Integer>, ResultCommand {

    @Spec CommandSpec spec;

    @Option(names = "--policy", paramLabel = "DIR", description = "Policy checkpoint whose summaries are generated.")
    Path policy;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A LoRA adapter (PEFT format) applied over --policy.")
    Path adapter;

    @Option(names = "--summaries", paramLabel = "FILE", description = "JSON Lines {\"id\", \"summary\"} to evaluate instead of a policy.")
    Path summaries;

    @Option(names = "--against", defaultValue = "reference", paramLabel = "reference|FILE",
            description = "Opponent: the reference summaries, or a JSON Lines {\"id\", \"summary\"} file. Default: ${DEFAULT-VALUE}.")
    String against;

    @Option(names = "--judge", defaultValue = "rm", paramLabel = "rm|llm", description = "Judge of the win rate. Default: ${DEFAULT-VALUE}.")
    String judgeKind;

    @Option(names = "--reward-model", paramLabel = "DIR", description = "Reward model: the rm judge and the RM score.")
    Path rewardModel;

    @Option(names = "--reference-policy", paramLabel = "DIR", description = "Reference policy (e.g. SFT) for the KL.")
    Path referencePolicy;

    @Option(names = "--base-url", paramLabel = "URL",
            description = "OpenAI-compatible API base URL; /chat/completions is appended before any ?query"
                    + " (else $RLHF4J_JUDGE_BASE_URL, else https://api.openai.com/v1).")
    String baseUrl;

    @Option(names = "--judge-model", paramLabel = "NAME", description = "LLM judge model (else $RLHF4J_JUDGE_MODEL).")
    String judgeModel;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "API key (else $RLHF4J_JUDGE_API_KEY, else $OPENAI_API_KEY). Prefer the environment: options show in process lists.")
    String apiKey;

    @Option(names = "--template", defaultValue = "dpo-concise",
            description = "LLM prompt template: dpo-concise, dpo-simple, letter-only. Default: ${DEFAULT-VALUE}.")
    String template;

    @Option(names = "--cache", paramLabel = "FILE", defaultValue = "runs/eval/judge-cache.jsonl",
            description = "LLM reply cache (JSON Lines; reruns and resumed runs are free). Default: ${DEFAULT-VALUE}.")
    Path cache;

    @Option(names = "--max-retries", defaultValue = "6", description = "LLM request retries. Default: ${DEFAULT-VALUE}.")
    int maxRetries;

    @Option(names = "--timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "Deadline of each LLM request, from connecting to the last byte of the answer (a server that"
                    + " stalls mid-answer times out too). Default: ${DEFAULT-VALUE}.")
    double timeoutSeconds;

    @Option(names = "--data", defaultValue = "bundled", paramLabel = "bundled|full|FILE",
            description = "Prompts with reference summaries: the bundled sample, the full downloaded TL;DR data or a JSON"
                    + " Lines file (openai-tldr, sft or prompts format). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--split", defaultValue = "test", description = "Split of bundled or full (train, valid, test). Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--limit", description = "Evaluate only the first N prompts (and N comparisons).")
    Integer limit;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (and LLM backoff jitter). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--temperature", defaultValue = "0", description = "Summary sampling temperature, 0 = greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--kl-temperature", defaultValue = "1", description = "Temperature of the KL samples. Default: ${DEFAULT-VALUE}.")
    double klTemperature;

    @Option(names = "--max-new-tokens", defaultValue = "53", description = "Summary token budget. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--max-query-tokens",
            description = "Query budget (default: 512, less when the models' maximum positions leave no room for the summary).")
    Integer maxQueryTokens;

    @Option(names = "--batch-size", defaultValue = "8", description = "Prompts per generation/scoring batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--samples", defaultValue = "3", description = "Sample summaries in the output. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--name", description = "Name of the evaluated policy in the output (default: the directory or file name).")
    String name;

    @Option(names = "--save-summaries", paramLabel = "FILE", description = "Write the evaluated summaries as JSON Lines {\"id\", \"summary\"}.")
    Path saveSummaries;

    @Option(names = "--grounding",
            description = "Also judge every summary's factual grounding with the LLM (same --base-url, --judge-model,"
                    + " --api-key, --cache): the judge lists the post's facts, checks each claim, gives a verdict as JSON;"
                    + " reports the hallucination rate (docs/grounding.md). Works with --judge rm or llm.")
    boolean grounding;

    @Option(names = "--scaffold",
            description = "The policy (or summaries file) writes \"Facts: ... Summary: ...\" (trained with sft/dpo"
                    + " --scaffold): evaluate the text after \"Summary:\"; outputs without it are counted and flagged."
                    + " Give a larger --max-new-tokens.")
    boolean scaffold;

    @Option(names = "--human-agreement", description = "Also judge the bundled human comparisons and report agreement with the labellers.")
    boolean humanAgreement;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto. Default: ${DEFAULT-VALUE}.")
    String device;

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        if (policy != null && summaries != null) {
            throw new IllegalArgumentException("give --policy or --summaries, not both");
        }
        if (policy == null && summaries == null && !humanAgreement) {
            throw new IllegalArgumentException("nothing to evaluate: give --policy DIR, --summaries FILE or --human-agreement");
        }
        if (!judgeKind.equals("rm") && !judgeKind.equals("llm")) {
            throw new IllegalArgumentException("--judge must be rm or llm, got '" + judgeKind + "'");
        }
        if (judgeKind.equals("rm") && rewardModel == null) {
            throw new IllegalArgumentException("--judge rm needs --reward-model DIR (or use --judge llm)");
        }
        if (adapter != null && policy == null) {
            throw new IllegalArgumentException("--adapter (a LoRA adapter over the policy) needs --policy");
        }
        if (limit != null && limit < 1) {
            throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
        }
        if (!(timeoutSeconds > 0) || Double.isInfinite(timeoutSeconds)) {
            throw new IllegalArgumentException("--timeout must be a positive number of seconds, got " + timeoutSeconds);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        Path tokSource = policy != null ? policy : rewardModel;
        try (Tokenizer tok = tokSource != null ? Checkpoint.tokenizerFor(tokSource) : Gpt2Tokenizers.bundled();
                NDManager m = NDManager.newBaseManager(ModelOptions.DeviceOption.parse(device));
                CausalLm pol = policy != null ? ModelOptions.load(policy, adapter, m) : null;
                CausalLm ref = referencePolicy != null ? ModelOptions.load(referencePolicy, null, m) : null;
                ScalarModel rm = rewardModel != null ? org.rlhf4j.algorithms.common.Adapters.loadScalar(rewardModel, m, seed) : null) {
            if (ref != null && pol == null) {
                throw new IllegalArgumentException("--reference-policy (KL) needs --policy");
            }
            int budget = maxQueryTokens != null ? maxQueryTokens : TaskConfig.DEFAULT.maxQueryTokens();
            if (maxQueryTokens == null) {
                // room for the summary; the reward model also scores references of up to the SFT limit
                for (ModelConfig c : configs(pol, ref, null)) {
                    budget = Math.min(budget, c.maxPositions() - maxNewTokens);
                }
                if (rm != null) {
                    int longest = Math.max(maxNewTokens, TaskConfig.DEFAULT.maxSftResponseTokens());
                    budget = Math.min(budget, rm.config().maxPositions() - longest);
                }
            }
            if (budget < 1) {
                throw new IllegalArgumentException("no room for a query: the models' maximum positions leave " + budget + " tokens");
            }
            TldrTask task = new TldrTask(tok, TaskConfig.builder().setMaxQueryTokens(budget).build());
            int maxPositions = Integer.MAX_VALUE;
            for (ModelConfig c : configs(pol, ref, rm)) {
                maxPositions = Math.min(maxPositions, c.maxPositions());
            }
            boolean llmUsed = judgeKind.equals("llm") || grounding;
            try (JudgeCache replies = llmUsed ? JudgeCache.open(cache, w -> spec.commandLine().getErr().println(w))
                    : null;
                    LlmJudge llm = judgeKind.equals("llm") ? llmJudge(replies, 256) : null;
                    LlmJudge groundingClient = grounding ? llmJudge(replies, GroundingJudge.DEFAULT_MAX_TOKENS) : null) {
                Judge judge = llm != null ? llm
                        : RewardModelJudge.builder().setModel(rm).setTokenizer(tok).optMicroBatchSize(batchSize).build();
                GroundingJudge grounder = groundingClient == null ? null
                        : GroundingJudge.builder().setClient(groundingClient).build();
                out.put("judge", judge.describe());
                if (grounder != null) {
                    out.put("grounding_judge", grounder.describe());
                }
                if (policy != null || summaries != null) {
                    out.put("data", DataSource.parse(data).label(split));
                    out.put("evaluation", evaluate(task, pol, ref, rm, judge, grounder));
                }
                if (humanAgreement) {
                    out.put("human_agreement", humanAgreement(task, judge, maxPositions));
                }
                if (llm != null) {
                    out.put("judge_stats", llm.stats());
                }
                if (grounder != null) {
                    Map<String, Object> g = new LinkedHashMap<>();
                    g.put("summaries", grounder.stats().questions());
                    g.put("malformed", grounder.stats().malformed());
                    g.put("client", groundingClient.stats());
                    out.put("grounding_stats", g);
                }
                if (llmUsed) {
                    out.put("cache", cache.toString());
                }
            }
        }
        result = out;
        spec.commandLine().getOut().println(Json.compact(out));
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static List<ModelConfig> configs(CausalLm pol, CausalLm ref, ScalarModel rm) {
        List<ModelConfig> cs = new ArrayList<>();
        if (pol != null) {
            cs.add(pol.config());
        }
        if (ref != null) {
            cs.add(ref.config());
        }
        if (rm != null) {
            cs.add(rm.config());
        }
        return cs;
    }

    private LlmJudge llmJudge(JudgeCache replies, int maxTokens) throws IOException {
        return LlmJudge.builder().optBaseUrl(baseUrl).optModel(judgeModel).optApiKey(apiKey)
                .optTemplate(JudgeTemplate.named(template)).optCache(replies).optMaxTokens(maxTokens)
                .optMaxRetries(maxRetries)
                .optRequestTimeout(Duration.ofMillis(Math.max(1, Math.round(timeoutSeconds * 1000)))).optSeed(seed).build();
    }

    private Map<String, Object> evaluate(TldrTask task, CausalLm pol, CausalLm ref, ScalarModel rm, Judge judge,
            GroundingJudge grounder) throws IOException {
        List<PromptRow> rows = prompts();
        if (limit != null && rows.size() > limit) {
            rows = rows.subList(0, limit);
        }
        PolicyEvaluator.Builder b = PolicyEvaluator.builder().setTask(task).setPrompts(rows).optJudge(judge)
                .optRewardModel(rm).optReferencePolicy(ref).optTemperature(temperature).optKlTemperature(klTemperature)
                .optMaxNewTokens(maxNewTokens).optSeed(seed).optBatchSize(batchSize).optNumSamples(samples)
                .optGroundingJudge(grounder).optScaffold(scaffold);
        if (pol != null) {
            b.setPolicy(pol).optName(name != null ? name : String.valueOf(policy.getFileName()));
        } else {
            b.setSummaries(SummaryFiles.read(summaries)).optName(name != null ? name : String.valueOf(summaries.getFileName()));
        }
        if (!against.equals("reference")) {
            Path f = Path.of(against);
            b.optOpponent(String.valueOf(f.getFileName()), SummaryFiles.read(f));
        }
        PolicyEvaluation e = b.build().evaluate();
        if (saveSummaries != null) {
            SummaryFiles.write(saveSummaries, e.summaries());
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", e.name());
        r.put("prompts", e.prompts());
        r.put("skipped", e.skipped());
        r.put("temperature", e.temperature());
        r.put("mean_length", e.meanLength());
        r.put("eos_fraction", e.eosFraction());
        r.put("reference_mean_length", e.referenceMeanLength());
        r.put("flags", EvaluationChecks.check(e).flags());
        r.put("rm_score", e.rmScore());
        r.put("rm_score_no_eos_penalized", e.rmScoreNoEosPenalized());
        r.put("opponent_rm_score", e.opponentRmScore());
        r.put("kl", e.kl());
        r.put("kl_temperature", e.klTemperature());
        r.put("rouge", e.rouge());
        r.put("opponent", e.opponent());
        r.put("win_rate", e.winRate());
        if (e.withoutSummaryMarker() != null) {
            r.put("without_summary_marker", e.withoutSummaryMarker());
        }
        if (e.hallucination() != null) {
            r.put("hallucination", e.hallucination());
            r.put("groundings", e.groundings().subList(0, Math.min(samples, e.groundings().size())));
        }
        r.put("samples", e.samples());
        spec.commandLine().getErr().println(EvalTable.format(List.of(e)));
        spec.commandLine().getErr().flush();
        return r;
    }

    private WinRate.HumanAgreement humanAgreement(TldrTask task, Judge judge, int maxPositions) {
        HumanComparisons h = HumanComparisons.of(BundledTldr.comparisons(), task, maxPositions,
                limit != null ? limit : Integer.MAX_VALUE);
        if (!h.skipped().isEmpty()) {
            spec.commandLine().getErr().println("human agreement: skipped comparisons by reason: " + h.skipped());
        }
        return h.agreement(judge);
    }

    private List<PromptRow> prompts() throws IOException {
        return DataSource.parse(data).promptRows(split);
    }
}
