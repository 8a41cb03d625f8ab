package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.common.RunDir;
import org.rlhf4j.algorithms.eval.EvaluationChecks;
import org.rlhf4j.algorithms.eval.GroundingJudge;
import org.rlhf4j.algorithms.eval.LlmJudge;
import org.rlhf4j.core.io.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j pipeline}: the whole TL;DR pipeline — SFT, reward model, then PPO, DPO and DR-PO from the SFT
 * policy — each stage run exactly as its own command would run it, then an evaluation table and a report.
 *
 * <p>Stages live in {@code OUT/<stage>} (default {@code runs/pipeline}); a finished stage leaves
 * {@code summary.json} and is skipped on the next run unless {@code --force}. The report (Markdown, the table as
 * JSON, every stage's plots) goes to {@code runs/<timestamp>/}. It states what the run can and cannot show: model
 * and data sizes, the reward model's held-out accuracy with its 95 % interval, each policy's win-rate interval and
 * flags, and warnings ({@link EvaluationChecks}); the CLI only wires them.
 *
 * <p>With {@code --lora-r} every stage gets the same {@code --lora-*} options: the SFT stage writes an adapter over
 * {@code --model}; every later stage loads {@code sft/model}, merges that adapter into its base in memory (W + s·BA,
 * the SFT policy itself) and trains a fresh adapter over the merged model, which is also the stage's frozen reference
 * (the adapter disabled). The reward stage trains an adapter and a scalar head over the merged SFT model.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "SFT -> reward model -> PPO, DPO, DR-PO on the bundled sample, then evaluation and a report.")
public final class PipelineCommand implements Callable<Integer>, ResultCommand {

    @Spec CommandSpec spec;

    @Option(names = "--preset", defaultValue = "tiny",
            description = "Preset of every stage: tiny, gpt2, pythia (see docs/reproduce.md). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--model", paramLabel = "DIR",
            description = "HF checkpoint the SFT stage starts from (required by gpt2 and pythia; tiny trains from scratch).")
    Path model;

    @Option(names = "--out", defaultValue = "runs/pipeline", paramLabel = "DIR",
            description = "Directory of the stages. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--report-dir", paramLabel = "DIR", description = "Report directory (default: runs/<timestamp>).")
    Path reportDir;

    @Option(names = "--force", description = "Re-run every stage from scratch.")
    boolean force;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu, gpu:N or auto. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--eval-prompts", defaultValue = "32",
            description = "Held-out prompts (the valid split of the preset's data) each policy is evaluated on. Default: ${DEFAULT-VALUE}.")
    int evalPrompts;

    @Mixin LoraOptions lora;

    @Option(names = "--algorithms", paramLabel = "LIST", split = ",", defaultValue = "ppo,dpo,drpo,grpo,rloo",
            description = "The policy-optimisation stages after SFT and the reward model, from ppo, dpo, drpo, grpo, rloo "
                    + "(GRPO and RLOO with the reward model as their reward function). Default: ${DEFAULT-VALUE}.")
    List<String> algorithms;

    @Option(names = "--grounding",
            description = "Also judge every policy's summaries for factual grounding (hallucination rate) with the LLM"
                    + " configured by $RLHF4J_JUDGE_BASE_URL, $RLHF4J_JUDGE_MODEL and $RLHF4J_JUDGE_API_KEY (docs/grounding.md);"
                    + " replies cached in OUT/grounding-cache.jsonl.")
    boolean grounding;

    /** One stage: its name and the command line that runs it. */
    record Stage(String name, List<String> args) {}

    /**
     * Returns the stages in order.
     *
     * @return the stages
     */
    List<Stage> stages() {
        String sftModel = out.resolve("sft").resolve("model").toString();
        String rmModel = out.resolve("reward").resolve("model").toString();
        List<Stage> s = new ArrayList<>();
        s.add(new Stage("sft", model == null ? List.of("sft") : List.of("sft", "--model", model.toString())));
        s.add(new Stage("reward", List.of("reward", "--model", sftModel)));
        List<Stage> rl = new ArrayList<>();
        rl.add(new Stage("ppo", List.of("ppo", "--model", sftModel, "--reward-model", rmModel)));
        rl.add(new Stage("dpo", List.of("dpo", "--model", sftModel)));
        rl.add(new Stage("drpo", List.of("drpo", "--model", sftModel, "--reward-model", rmModel)));
        rl.add(new Stage("grpo", List.of("grpo", "--model", sftModel, "--reward-model", rmModel)));
        rl.add(new Stage("rloo", List.of("rloo", "--model", sftModel, "--reward-model", rmModel)));
        List<String> known = rl.stream().map(Stage::name).toList();
        for (String a : algorithms) {
            if (!known.contains(a)) {
                throw new IllegalArgumentException("--algorithms: unknown algorithm '" + a + "' (" + String.join(", ",
                        known) + ")");
            }
        }
        for (Stage st : rl) {
            if (algorithms.contains(st.name())) {
                s.add(st);
            }
        }
        return s;
    }

    private Object result;

    @Override
    public Object result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        lora.config(); // a --lora-* option without --lora-r fails before any stage runs
        long t0 = System.nanoTime();
        Map<String, StageResult> summaries = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        for (Stage stage : stages()) {
            long s0 = System.nanoTime();
            summaries.put(stage.name(), runStage(stage, err));
            seconds.put(stage.name(), (System.nanoTime() - s0) / 1e9);
        }
        long e0 = System.nanoTime();
        PipelineEvaluation.Result evaluation;
        try (LlmJudge client = grounding ? LlmJudge.builder().optCacheFile(out.resolve("grounding-cache.jsonl"))
                .optMaxTokens(GroundingJudge.DEFAULT_MAX_TOKENS).build() : null) {
            GroundingJudge g = client == null ? null : GroundingJudge.builder().setClient(client).build();
            evaluation = PipelineEvaluation.run(out, policies(), preset, evalPrompts, device, err, g);
        }
        List<PipelineEvaluation.Row> table = evaluation.rows();
        seconds.put("evaluation", (System.nanoTime() - e0) / 1e9);
        EvaluationChecks.JudgeAccuracy rmAccuracy = summaries.get("reward") instanceof StageResult.Reward rm
                ? rm.heldoutAccuracy() : null;
        EvaluationChecks.Assessment assessment = EvaluationChecks.assess(rmAccuracy,
                table.stream().map(PipelineEvaluation.Row::full).toList());
        Map<String, Object> data = dataSizes(summaries, evaluation);
        List<String> caveats = PipelineReport.caveats(preset, evaluation, data, assessment);
        Path report = reportDir != null ? reportDir
                : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(report);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("preset", preset);
        result.put("caveats", caveats);
        result.put("warnings", assessment.warnings());
        result.put("model", modelSize(evaluation));
        result.put("data", data);
        result.put("reward_model", rewardModel(rmAccuracy, evaluation));
        result.put("ranking", assessment.ranking());
        Map<String, Object> stageMaps = new LinkedHashMap<>();
        summaries.forEach((name, s) -> stageMaps.put(name, s.toMap()));
        result.put("stages", stageMaps);
        result.put("evaluation", table);
        result.put("stage_seconds", seconds);
        result.put("total_seconds", (System.nanoTime() - t0) / 1e9);
        result.put("report", report.resolve("report.md").toString());
        PipelineReport.write(report, out, stages().stream().map(Stage::name).toList(), summaries, seconds, evaluation,
                data, caveats, assessment);
        Files.writeString(report.resolve("pipeline.json"), Json.pretty(result) + "\n", StandardCharsets.UTF_8);
        this.result = result;
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.println(PipelineReport.table(table, summaries));
        for (String w : assessment.warnings()) {
            stdout.println("WARNING: " + w);
        }
        stdout.println("ranking: " + assessment.ranking().note());
        stdout.println("report: " + report.resolve("report.md"));
        return 0;
    }

    /**
     * Returns the train and eval rows of every stage, from the stage results (null where a summary written by an
     * older version lacks the count; the reward model's eval rows are its pooled held-out pairs), and the prompts of
     * the final evaluation.
     *
     * @param summaries stage results
     * @param evaluation the evaluation
     * @return stage to {@code {unit, train, eval}}
     */
    static Map<String, Object> dataSizes(Map<String, StageResult> summaries, PipelineEvaluation.Result evaluation) {
        Map<String, Object> data = new LinkedHashMap<>();
        for (Map.Entry<String, StageResult> e : summaries.entrySet()) {
            StageResult s = e.getValue();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("unit", s.unit());
            d.put("train", s.trainRows());
            d.put("eval", s.evalRows());
            data.put(e.getKey(), d);
        }
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("unit", "prompts");
        ev.put("asked", evaluation.prompts());
        ev.put("evaluated", evaluation.rows().isEmpty() ? 0 : evaluation.rows().get(0).full().prompts());
        data.put("evaluation", ev);
        return data;
    }

    private static Map<String, Object> modelSize(PipelineEvaluation.Result e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", e.modelType());
        m.put("layers", e.layers());
        m.put("hidden_size", e.hiddenSize());
        m.put("parameters", e.policyParameters());
        m.put("reward_model_parameters", e.rewardModelParameters());
        return m;
    }

    private static Map<String, Object> rewardModel(EvaluationChecks.JudgeAccuracy acc, PipelineEvaluation.Result e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", e.rewardModelParameters());
        m.put("heldout_accuracy", acc == null ? null : acc.accuracy());
        m.put("heldout_accuracy_ci95", acc == null ? null : acc.ci95());
        m.put("heldout_correct", acc == null ? null : acc.correct());
        m.put("heldout_pairs", acc == null ? null : acc.pairs());
        m.put("at_chance", acc == null ? null : acc.atChance());
        return m;
    }

    /**
     * Returns the policies evaluated after training, in table order.
     *
     * @return policy name to the stage whose model it is
     */
    List<String> policies() {
        return stages().stream().map(Stage::name).filter(n -> !n.equals("reward")).toList();
    }

    private StageResult runStage(Stage stage, PrintWriter err) throws Exception {
        Path dir = out.resolve(stage.name());
        Path summaryFile = dir.resolve("summary.json");
        if (force) {
            new RunDir(dir).delete();
        } else if (Files.exists(summaryFile)) {
            err.println("pipeline: " + stage.name() + " already finished (" + summaryFile + "), skipped; --force re-runs it");
            return StageResult.read(stage.name(), Json.MAPPER.readTree(Files.readString(summaryFile)));
        }
        List<String> args = new ArrayList<>(stage.args());
        args.addAll(List.of("--preset", preset, "--out", dir.toString(), "--device", device));
        args.addAll(lora.args()); // every stage trains an adapter; later stages merge the SFT adapter first
        err.println("pipeline: " + stage.name() + ": rlhf4j " + String.join(" ", args));
        CommandLine cl = Rlhf4jCli.commandLine();
        cl.setOut(new PrintWriter(new StringWriter())); // the stage's JSON line; its typed result is read below
        cl.setErr(err);
        int code = cl.execute(args.toArray(String[]::new));
        if (code != 0) {
            throw new IllegalStateException("stage '" + stage.name() + "' failed with exit code " + code
                    + "; fix the error above and re-run (finished stages are kept)");
        }
        StageResult summary = ((StageCommand) cl.getSubcommands().get(stage.args().get(0)).getCommand()).stageResult();
        Files.writeString(summaryFile, Json.pretty(summary.toMap()) + "\n", StandardCharsets.UTF_8);
        return summary;
    }
}
