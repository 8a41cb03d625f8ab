package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.algorithms.reduce.DataReducer;
import org.rlhf4j.algorithms.reduce.Embedder;
import org.rlhf4j.algorithms.reduce.HashedEmbedder;
import org.rlhf4j.algorithms.reduce.ModelEmbedder;
import org.rlhf4j.algorithms.reduce.PlantedPreferences;
import org.rlhf4j.algorithms.reduce.PreferenceFile;
import org.rlhf4j.algorithms.reduce.ReductionBench;
import org.rlhf4j.algorithms.reduce.ReductionReport;
import org.rlhf4j.algorithms.reduce.ReductionRow;
import org.rlhf4j.algorithms.reduce.RewardModelJudge;
import org.rlhf4j.algorithms.reduce.Selection;
import org.rlhf4j.core.checkpoint.Checkpoint;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j data reduce}: keep a small representative subset of a comparison file (codebook selection,
 * deduplication, contradictions; {@link DataReducer}), and {@code rlhf4j data reduce-bench}: reward-model accuracy
 * of codebook vs random subsets vs the full data. See docs/reduce.md.
 *
 * <p>Exit codes: 0 success, 1 an unreadable or malformed file or a failing model, 2 bad arguments.
 */
@Command(
        name = "reduce",
        mixinStandardHelpOptions = true,
        description = {
            "Keep a representative fraction of a comparison file (codebook selection after TL;DR, Wang et al. 2023),",
            "dropping exact and near-duplicates and contradictory pairs. Writes G (input lines unchanged) and",
            "G.report.json (codes, kept per code, every dropped line and why)."
        })
public final class DataReduceCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--file", required = true, paramLabel = "F",
            description = "Comparisons: OpenAI TL;DR comparisons or [prompt,] chosen, rejected pairs (JSON Lines, "
                    + ".gz ok).")
    Path file;

    @Option(names = "--out", required = true, paramLabel = "G", description = "The subset (.gz: compressed).")
    Path out;

    @Option(names = "--fraction", defaultValue = "0.25", paramLabel = "F",
            description = "Fraction of the input rows to keep, in (0, 1] (default: ${DEFAULT-VALUE}).")
    double fraction;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Embed with this model's mean final hidden states (e.g. the SFT policy); default: hashed "
                    + "TF-IDF of words and bigrams, no model.")
    Path model;

    @Option(names = "--codebook-size", defaultValue = "256", paramLabel = "K",
            description = "Codes asked for, capped by the target (default: ${DEFAULT-VALUE}).")
    int codebookSize;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "k-means++ seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dedup-threshold", defaultValue = "0.995", paramLabel = "T",
            description = "Rows of a code with cosine similarity above T are near-duplicates; > 1 disables "
                    + "(default: ${DEFAULT-VALUE}).")
    double dedupThreshold;

    @Option(names = "--max-iterations", defaultValue = "50", paramLabel = "N",
            description = "Most Lloyd iterations (default: ${DEFAULT-VALUE}).")
    int maxIterations;

    @Option(names = "--dims", defaultValue = "256", paramLabel = "N",
            description = "Hashed embedding buckets per block (prompt, responses) (default: ${DEFAULT-VALUE}).")
    int dims;

    @Option(names = "--judge-model", paramLabel = "RM_DIR",
            description = "Score kept pairs with this reward model and flag strong disagreements in the report "
                    + "(labels are never changed).")
    Path judgeModel;

    @Option(names = "--judge-threshold", defaultValue = "1.0", paramLabel = "M",
            description = "Flag when r(chosen) - r(rejected) < -M (default: ${DEFAULT-VALUE}).")
    double judgeThreshold;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N",
            description = "Rows per forward pass of --model and --judge-model (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--device", paramLabel = "DEV", description = "cpu, gpu or gpu:N (default: gpu when available).")
    String device;

    /** Creates the command (picocli instantiates it). */
    public DataReduceCommand() {}

    /**
     * Returns the report file written next to a subset.
     *
     * @param out the subset
     * @return {@code out + ".report.json"}
     */
    public static Path reportFile(Path out) {
        return out.resolveSibling(out.getFileName() + ".report.json");
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DataReducer.Builder b;
        ai.djl.Device dev = null;
        try {
            b = DataReducer.builder().setFraction(fraction).optCodebookSize(codebookSize).optSeed(seed)
                    .optDedupThreshold(dedupThreshold).optMaxIterations(maxIterations);
            if (!(judgeThreshold >= 0)) {
                throw new IllegalArgumentException("--judge-threshold must be >= 0, got " + judgeThreshold);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
            }
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("no such file: " + file);
            }
            if (file.toAbsolutePath().normalize().equals(this.out.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--out must differ from --file: " + file);
            }
            if (model != null || judgeModel != null) {
                dev = ModelOptions.DeviceOption.parse(device);
            }
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.USAGE;
        }
        // the engine starts only when a model is used
        try (NDManager m = dev != null ? NDManager.newBaseManager(dev) : null) {
            List<ReductionRow> rows = PreferenceFile.read(file);
            if (rows.isEmpty()) {
                err.println("error: " + file + ": no comparison rows");
                err.flush();
                return CommandLine.ExitCode.SOFTWARE;
            }
            ReductionReport report;
            if (model != null) {
                try (Tokenizer tok = Checkpoint.tokenizerFor(model);
                        CausalLm lm = CausalLm.load(model, m)) {
                    Embedder e = new ModelEmbedder(lm, m, task(tok, model), batchSize, model.toString());
                    report = b.optEmbedder(e).build().reduce(rows);
                }
            } else {
                report = b.optEmbedder(new HashedEmbedder(dims, true)).build().reduce(rows);
            }
            if (judgeModel != null) {
                List<ReductionRow> kept = new ArrayList<>();
                java.util.Set<Long> keep = new HashSet<>(report.keptLines());
                for (ReductionRow r : rows) {
                    if (keep.contains(r.line())) {
                        kept.add(r);
                    }
                }
                try (Tokenizer tok = Checkpoint.tokenizerFor(judgeModel);
                        ScalarModel rm = ScalarModel.load(judgeModel, m, seed)) {
                    report = report.withJudge(new RewardModelJudge(rm, task(tok, judgeModel), batchSize,
                            judgeModel.toString()).flag(kept, judgeThreshold));
                }
            }
            PreferenceFile.copyLines(file, new HashSet<>(report.keptLines()), this.out);
            Path rep = reportFile(this.out);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("input", file.toString());
            json.put("output", this.out.toString());
            json.putAll(report.toMap());
            Json.write(rep, json);
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("out", this.out.toString());
            line.put("report", rep.toString());
            line.put("input_rows", report.inputRows());
            line.put("target", report.target());
            line.put("kept", report.kept());
            line.put("contradictory", report.contradictory().size());
            line.put("exact_duplicates", report.exactDuplicates().size());
            line.put("near_duplicates", report.nearDuplicates().size());
            line.put("codes", report.codebookSize());
            if (report.judge() != null) {
                line.put("judge_flagged", report.judge().flagged().size());
            }
            out.println(Json.compact(line));
            out.flush();
            return CommandLine.ExitCode.OK;
        } catch (DataFormatException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }
    }

    /** The task that encodes rows for a model: its chat template, generous limits (nothing is cut but the post). */
    static TldrTask task(Tokenizer tok, Path dir) {
        TaskConfig cfg = TaskConfig.builder().setMaxRmResponseTokens(4096).setMaxCnnDmResponseTokens(4096)
                .setMaxSftResponseTokens(4096).build();
        return TldrTask.builder().setTokenizer(tok).optConfig(cfg)
                .optChatRenderer(ChatTemplates.of(dir).orElse(null)).build();
    }

    /**
     * {@code data reduce-bench}: reward-model held-out accuracy after training on codebook, random and full subsets.
     */
    @Command(
            name = "reduce-bench",
            mixinStandardHelpOptions = true,
            description = {
                "Train a reward model on codebook and random subsets (and on all rows) and print held-out accuracy.",
                "--planted: the planted redundant data set (known truth, tiny GPT-2, CPU, minutes);",
                "--file F --eval-file E --model DIR: real comparisons (e.g. the TL;DR train and valid1 batches)."
            })
    public static final class Bench implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Option(names = "--planted", description = "Use the planted data set (default when --file is absent).")
        boolean planted;

        @Option(names = "--file", paramLabel = "F", description = "Training comparisons.")
        Path file;

        @Option(names = "--eval-file", paramLabel = "E", description = "Held-out comparisons (with --file).")
        Path evalFile;

        @Option(names = "--model", paramLabel = "DIR", description = "Initial reward model (with --file).")
        Path model;

        @Option(names = "--fractions", defaultValue = "0.1,0.25,0.5,1", split = ",", paramLabel = "F,...",
                description = "Fractions (default: ${DEFAULT-VALUE}; at 1 the codebook only drops duplicates and "
                        + "contradictions; training on all rows is always run too).")
        List<Double> fractions;

        @Option(names = "--seeds", defaultValue = "1,2,3", split = ",", paramLabel = "S,...",
                description = "Seeds (default: ${DEFAULT-VALUE}).")
        List<Long> seeds;

        @Option(names = "--steps", defaultValue = "80", paramLabel = "N",
                description = "Optimizer steps of every run (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--batch-size", defaultValue = "16", paramLabel = "N",
                description = "Batch (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(names = "--lr", defaultValue = "3e-3", paramLabel = "LR",
                description = "Learning rate (default: ${DEFAULT-VALUE}).")
        double lr;

        @Option(names = "--codebook-size", defaultValue = "32", paramLabel = "K",
                description = "Codes asked for (default: ${DEFAULT-VALUE}).")
        int codebookSize;

        @Option(names = "--out", paramLabel = "JSON", description = "Also write every run as JSON.")
        Path outJson;

        /** Creates the command. */
        public Bench() {}

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (planted && file != null) {
                err.println("error: --planted and --file exclude each other");
                err.flush();
                return CommandLine.ExitCode.USAGE;
            }
            if (file != null && (evalFile == null || model == null)) {
                err.println("error: --file needs --eval-file and --model");
                err.flush();
                return CommandLine.ExitCode.USAGE;
            }
            ReductionBench.Builder b = ReductionBench.builder().optSteps(steps).optBatchSize(batchSize)
                    .optLearningRate(lr).optCodebookSize(codebookSize);
            Tokenizer tok;
            if (file == null) {
                PlantedPreferences data = PlantedPreferences.standard(7);
                tok = data.tokenizer();
                Gpt2Config cfg = Gpt2Config.of(tok.vocabSize(), 32, 32, 2, 4);
                b.setTrain(data.train()).setHeldOut(data.heldOut()).setTokenizer(tok)
                        .setModels((mm, s) -> ScalarModel.random(cfg, mm, s));
            } else {
                tok = Checkpoint.tokenizerFor(model);
                b.setTrain(PreferenceFile.read(file)).setHeldOut(PreferenceFile.read(evalFile)).setTokenizer(tok)
                        .setModels((mm, s) -> ScalarModel.load(model, mm, s));
            }
            try (Tokenizer closing = tok) {
                ReductionBench bench = b.build();
                List<Map<String, Object>> runs = new ArrayList<>();
                out.println("| fraction | rows | codebook accuracy | random accuracy |");
                out.println("|---:|---:|---|---|");
                for (double f : fractions) {
                    List<Double> cb = new ArrayList<>();
                    List<Double> rnd = new ArrayList<>();
                    int rows = 0;
                    for (long s : seeds) {
                        for (Selection sel : List.of(Selection.CODEBOOK, Selection.RANDOM)) {
                            ReductionBench.Run r = bench.run(sel, f, s);
                            (sel == Selection.CODEBOOK ? cb : rnd).add(r.accuracy());
                            rows = r.rows();
                            runs.add(runMap(r));
                            err.printf(java.util.Locale.ROOT, "%s %.2f seed %d: %d rows, accuracy %.3f%n", sel, f, s,
                                    r.rows(), r.accuracy());
                        }
                    }
                    out.printf(java.util.Locale.ROOT, "| %.2f | %d | %s | %s |%n", f, rows, stats(cb), stats(rnd));
                    out.flush();
                }
                List<Double> full = new ArrayList<>();
                int rows = 0;
                for (long s : seeds) {
                    ReductionBench.Run r = bench.run(Selection.FULL, 1.0, s);
                    full.add(r.accuracy());
                    rows = r.rows();
                    runs.add(runMap(r));
                }
                out.printf(java.util.Locale.ROOT, "| all rows | %d | %s | (the same rows) |%n", rows, stats(full));
                out.flush();
                if (outJson != null) {
                    Json.write(outJson, runs);
                }
            }
            return CommandLine.ExitCode.OK;
        }

        private static Map<String, Object> runMap(ReductionBench.Run r) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("selection", r.selection().name().toLowerCase(java.util.Locale.ROOT));
            m.put("fraction", r.fraction());
            m.put("seed", r.seed());
            m.put("rows", r.rows());
            m.put("accuracy", r.accuracy());
            return m;
        }

        /** "mean (min–max): v1 / v2 / v3". */
        static String stats(List<Double> v) {
            double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double min = v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            double max = v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            return String.format(java.util.Locale.ROOT, "%.3f (%.3f–%.3f)", mean, min, max);
        }
    }
}
