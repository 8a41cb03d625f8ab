package org.rlhf4j.examples.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.tokenizer.Gpt2Tokenizers;
import org.rlhf4j.core.tokenizer.HfTokenizer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.DataFormat;
import org.rlhf4j.datasets.DataFormatException;
import org.rlhf4j.datasets.download.CacheDirs;
import org.rlhf4j.datasets.download.TldrDownloader;
import org.rlhf4j.datasets.download.TldrFile;
import org.rlhf4j.datasets.io.ReadReport;
import org.rlhf4j.datasets.stats.DatasetStats;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The {@code rlhf4j data} command: download the TL;DR data into the cache, and print statistics of a data file.
 *
 * <p>Exit codes follow picocli: 0 success, 1 ({@link CommandLine.ExitCode#SOFTWARE}) for a bad data row in strict mode,
 * a file with no rows or no detectable format, or a failed download, 2 ({@link CommandLine.ExitCode#USAGE}) for bad
 * arguments. Errors go to stderr as one message,
 * without a stack trace.
 */
@Command(
        name = "data",
        mixinStandardHelpOptions = true,
        description = "Download datasets and inspect data files.",
        subcommands = {DataCommand.Download.class, DataCommand.Stats.class, DataReduceCommand.class,
            DataReduceCommand.Bench.class, DataScaffoldCommand.class})
public final class DataCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    /** Creates the command (picocli instantiates it). */
    public DataCommand() {}

    /**
     * Prints the usage when no subcommand is given.
     *
     * @return the usage exit code
     */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return CommandLine.ExitCode.USAGE;
    }

    /** The datasets {@code data download} knows. */
    enum Dataset {
        /** OpenAI's Reddit TL;DR files. */
        tldr
    }

    /** {@code data download tldr [--what sft|comparisons|all] [--cache DIR]}. */
    @Command(
            name = "download",
            mixinStandardHelpOptions = true,
            description = {
                "Download a dataset into the cache (resumable, sha256-checked).",
                "Files go to <cache>/summarize-from-feedback/<path as under the base URL>."
            })
    static final class Download implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DATASET", description = "Dataset: ${COMPLETION-CANDIDATES}.")
        Dataset dataset;

        @Option(names = "--what", defaultValue = "all", paramLabel = "sft|comparisons|all",
                description = "Which files (default: ${DEFAULT-VALUE}).")
        String what;

        @Option(names = "--cache", paramLabel = "DIR",
                description = "Cache root (default: $RLHF4J_CACHE, else ~/.cache/rlhf4j).")
        Path cache;

        @Option(names = "--base-url", paramLabel = "URL",
                description = "Mirror of the OpenAI files (default: " + "https://openaipublic.blob.core.windows.net/"
                        + "summarize-from-feedback/).")
        URI baseUrl;

        @Option(names = "--no-progress", description = "Do not draw progress bars.")
        boolean noProgress;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<TldrFile> files;
            try {
                files = TldrFile.of(TldrFile.Group.parse(what));
            } catch (IllegalArgumentException e) {
                err.println("error: " + e.getMessage());
                return CommandLine.ExitCode.USAGE;
            }
            TldrDownloader.Builder b = TldrDownloader.builder()
                    .setCacheDir(cache != null ? cache : CacheDirs.defaultRoot())
                    .optProgress(noProgress ? null : DataOutput.printStream(err));
            if (baseUrl != null) {
                try {
                    b.setBaseUrl(baseUrl);
                } catch (IllegalArgumentException e) {
                    err.println("error: " + e.getMessage());
                    return CommandLine.ExitCode.USAGE;
                }
            }
            TldrDownloader d = b.build();
            try {
                List<Path> paths = d.ensure(files);
                out.println(dataset + ": " + paths.size() + " files ready in " + d.dataRoot()
                        + " (sha256 in " + d.manifestFile().getFileName() + ")");
                out.flush();
                return CommandLine.ExitCode.OK;
            } catch (IOException e) {
                err.println("error: " + e.getMessage());
                err.flush();
                return CommandLine.ExitCode.SOFTWARE;
            }
        }
    }

    /** {@code data stats --file F [--format ...] [--lenient] [--max-query-tokens N]}. */
    @Command(
            name = "stats",
            mixinStandardHelpOptions = true,
            description = {
                "Print one JSON object: rows, rows per split, skipped rows by reason, and token-length",
                "percentiles (p50/p90/p99/max) of formatted queries and of responses (EOS included)."
            })
    static final class Stats implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Option(names = "--file", required = true, paramLabel = "F", description = "JSON Lines file (.gz ok).")
        Path file;

        @Option(names = "--format", defaultValue = "auto",
                paramLabel = "auto|openai-tldr|openai-comparisons|pairs|sft|prompts|messages",
                description = "Row format (default: ${DEFAULT-VALUE}, detected from the first row).")
        String format;

        @Option(names = "--lenient", description = "Skip bad rows and count them by reason (default: strict).")
        boolean lenient;

        @Option(names = "--max-query-tokens", defaultValue = "512", paramLabel = "N",
                description = "Query budget; the post is truncated to fit (default: ${DEFAULT-VALUE}).")
        int maxQueryTokens;

        @Option(names = "--max-response-tokens", paramLabel = "N",
                description = "Response limit incl. EOS for every row kind (default: SFT 53, pairs 169).")
        Integer maxResponseTokens;

        @Option(names = "--tokenizer", paramLabel = "FILE",
                description = "tokenizer.json to count with (default: the bundled GPT-2 tokenizer); the chat template"
                        + " of its directory renders conversational rows.")
        Path tokenizerJson;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            DataFormat fmt;
            TaskConfig config;
            try {
                fmt = DataFormat.parse(format);
                TaskConfig.Builder cb = TaskConfig.builder().setMaxQueryTokens(maxQueryTokens);
                if (maxResponseTokens != null) {
                    cb.setMaxSftResponseTokens(maxResponseTokens).setMaxRmResponseTokens(maxResponseTokens)
                            .setMaxCnnDmResponseTokens(maxResponseTokens);
                }
                config = cb.build();
            } catch (IllegalArgumentException e) {
                err.println("error: " + e.getMessage());
                err.flush();
                return CommandLine.ExitCode.USAGE;
            }
            if (!Files.isRegularFile(file)) {
                err.println("error: no such file: " + file);
                err.flush();
                return CommandLine.ExitCode.USAGE;
            }
            try (Tokenizer tok = tokenizerJson != null ? HfTokenizer.load(tokenizerJson) : Gpt2Tokenizers.bundled()) {
                // conversational rows are rendered by the chat template of the tokenizer's model directory, if any
                TldrTask task = TldrTask.builder().setTokenizer(tok).optConfig(config).optChatRenderer(
                        tokenizerJson == null ? null
                                : ChatTemplates.of(tokenizerJson.toAbsolutePath().getParent()).orElse(null)).build();
                DatasetStats stats = DatasetStats.compute(file, fmt, lenient, task);
                String nothing = nothingToReport(stats.report());
                if (nothing != null) {
                    err.println("error: " + nothing);
                    err.flush();
                    return CommandLine.ExitCode.SOFTWARE;
                }
                out.println(Json.pretty(stats.toJson()));
                out.flush();
                return CommandLine.ExitCode.OK;
            } catch (DataFormatException e) {
                err.println("error: " + e.getMessage()
                        + (lenient ? "" : " (strict mode; --lenient skips bad rows and counts them)"));
                err.flush();
                return CommandLine.ExitCode.SOFTWARE;
            } catch (IOException e) {
                err.println("error: " + e.getMessage());
                err.flush();
                return CommandLine.ExitCode.SOFTWARE;
            }
        }

        /**
         * Says why a read has nothing to report: a file without a single non-blank line, or (format auto) one whose
         * every line was skipped before a row could show the format.
         *
         * @return the one-line message, or null when there is something to report
         */
        static String nothingToReport(ReadReport r) {
            long dataLines = r.lines() - r.blankLines();
            if (dataLines == 0) {
                return r.file() + ": no rows: the file is empty" + (r.lines() > 0 ? " (" + r.lines()
                        + " blank lines)" : "");
            }
            if (r.format() == DataFormat.AUTO) {
                return r.file() + ": cannot detect the format: none of its " + dataLines + " non-blank lines is a"
                        + " usable JSON object (skipped: " + r.skipped() + "; first: "
                        + (r.skipExamples().isEmpty() ? "-" : r.skipExamples().get(0)) + ")";
            }
            return null;
        }
    }
}
