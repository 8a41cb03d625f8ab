package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
import java.util.List;
import org.rlhf4j.algorithms.common.RunConfigMismatchException;
import org.rlhf4j.core.checkpoint.Provenance;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code rlhf4j} command line. */
@Command(
        name = "rlhf4j",
        mixinStandardHelpOptions = true,
        versionProvider = Rlhf4jCli.Version.class,
        description = "RLHF for the JVM: SFT, reward models, PPO, DPO and DR-PO on DJL + PyTorch.",
        subcommands = {
            InitCommand.class,
            GenerateCommand.class,
            ScoreCommand.class,
            TokenizeCommand.class,
            ChatTemplateCommand.class,
            BenchCommand.class,
            DataCommand.class,
            SftCommand.class,
            RewardCommand.class,
            DpoCommand.class,
            PpoCommand.class,
            GrpoCommand.class,
            RlooCommand.class,
            DrpoCommand.class,
            DemoCommand.class,
            ModelCommand.class,
            PipelineCommand.class,
            EvalCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Rlhf4jCli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /**
     * Runs the command line.
     *
     * @param args arguments
     */
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /**
     * Runs the command line and returns the exit code (0 = success, 1 = error, 2 = usage error).
     *
     * @param args arguments
     * @return the exit code
     */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        try {
            withConfigFile(cl, args);
        } catch (IllegalArgumentException e) {
            cl.getErr().println("error: " + e.getMessage());
            cl.getErr().flush();
            return 2;
        }
        return cl.execute(args);
    }

    /** Installs {@code --config FILE} as the default-value provider of every command (flags override it). */
    private static void withConfigFile(CommandLine cl, String[] args) {
        ConfigFile cf = ConfigFile.fromArgs(args);
        if (cf != null) {
            cl.setDefaultValueProvider(cf);
        }
    }

    /**
     * Runs one command in-process, as an example or from a test, and returns its result: for the training and
     * evaluation commands the object they print as JSON (a {@code Map} of the summary), for {@code pipeline} the
     * object written as {@code pipeline.json}, for {@code demo reset-exploration} its {@code Result}. Output goes to
     * {@code System.out} and {@code System.err} as on the command line.
     *
     * <pre>{@code
     * Map<?, ?> sft = (Map<?, ?>) Rlhf4jCli.runExample("sft", "--out", "runs/sft");
     * }</pre>
     *
     * @param args the command line, e.g. {@code "sft", "--epochs", "1"}
     * @return the command's result
     * @throws IllegalStateException when the command fails (the message has its exit code and error line) or has
     *     no result (e.g. {@code generate}, which only prints)
     */
    public static Object runExample(String... args) {
        CommandLine cl = commandLine();
        java.io.StringWriter errText = new java.io.StringWriter();
        PrintWriter systemErr = new PrintWriter(System.err, true);
        cl.setErr(new PrintWriter(new java.io.Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                errText.write(buf, off, len);
                systemErr.write(buf, off, len);
            }

            @Override
            public void flush() {
                systemErr.flush();
            }

            @Override
            public void close() {}
        }, true));
        withConfigFile(cl, args);
        int code = cl.execute(args);
        if (code != 0) {
            throw new IllegalStateException("rlhf4j " + String.join(" ", args) + " exited with code " + code + ": "
                    + errText.toString().strip());
        }
        CommandLine.ParseResult pr = cl.getParseResult();
        while (pr.hasSubcommand()) {
            pr = pr.subcommand();
        }
        if (pr.commandSpec().userObject() instanceof ResultCommand rc && rc.result() != null) {
            return rc.result();
        }
        throw new IllegalStateException("rlhf4j " + String.join(" ", args) + " has no result to return; "
                + "use execute(...) for commands that only print");
    }

    /**
     * Returns the configured picocli command line (errors print one line to stderr; {@code RLHF4J_DEBUG=1} adds the
     * stack trace).
     *
     * @return the command line
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Rlhf4jCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // checks --device before any work: a missing CUDA engine is a one-line error, not a late libtorch listing
        cl.setExecutionStrategy(parseResult -> {
            checkConfigKeys(parseResult);
            checkDevice(parseResult);
            return new CommandLine.RunLast().execute(parseResult);
        });
        cl.setExecutionExceptionHandler(
                (ex, commandLine, parseResult) -> {
                    PrintWriter err = commandLine.getErr();
                    err.println("error: " + errorText(ex));
                    if (System.getenv("RLHF4J_DEBUG") != null) {
                        ex.printStackTrace(err);
                    }
                    err.flush();
                    return 1;
                });
        return cl;
    }

    /** A {@code --config} file's keys must all be options of the command that runs. */
    private static void checkConfigKeys(CommandLine.ParseResult parseResult) {
        CommandLine.ParseResult pr = parseResult;
        while (pr.hasSubcommand()) {
            pr = pr.subcommand();
        }
        if (pr.commandSpec().defaultValueProvider() instanceof ConfigFile cf) {
            try {
                cf.check(pr.commandSpec());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ExecutionException(pr.commandSpec().commandLine(), e.getMessage(), e);
            }
        }
    }

    private static void checkDevice(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult pr = parseResult; pr != null; pr = pr.hasSubcommand() ? pr.subcommand() : null) {
            CommandLine.Model.OptionSpec device = pr.matchedOption("--device");
            if (device != null) {
                try {
                    ModelOptions.DeviceOption.parse(device.getValue());
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ExecutionException(pr.commandSpec().commandLine(), e.getMessage(), e);
                }
            }
        }
    }

    /**
     * The error line: the exception's message, cut to its first line when a native library answered with a long
     * listing (the rest with {@code RLHF4J_DEBUG=1}).
     */
    static String errorText(Throwable ex) {
        if (ex instanceof RunConfigMismatchException m) {
            return RunSettings.mismatchText(m);
        }
        String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        List<String> lines = msg.lines().toList();
        if (lines.size() <= 8 || System.getenv("RLHF4J_DEBUG") != null) {
            return msg;
        }
        return lines.get(0) + " [" + (lines.size() - 1) + " more lines; RLHF4J_DEBUG=1 prints them and the stack trace]";
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Prints the library version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"rlhf4j " + Provenance.libraryVersion()};
        }
    }
}
