package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
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
            BenchCommand.class,
            DataCommand.class,
            SftCommand.class,
            RewardCommand.class,
            DpoCommand.class,
            PpoCommand.class,
            DrpoCommand.class,
            DemoCommand.class,
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
        return commandLine().execute(args);
    }

    /**
     * Returns the configured picocli command line (errors print one line to stderr; {@code RLHF4J_DEBUG=1} adds the
     * stack trace).
     *
     * @return the command line
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Rlhf4jCli());
        cl.setExecutionExceptionHandler(
                (ex, commandLine, parseResult) -> {
                    PrintWriter err = commandLine.getErr();
                    err.println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
                    if (System.getenv("RLHF4J_DEBUG") != null) {
                        ex.printStackTrace(err);
                    }
                    err.flush();
                    return 1;
                });
        return cl;
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
