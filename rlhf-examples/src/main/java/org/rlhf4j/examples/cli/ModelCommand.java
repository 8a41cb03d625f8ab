package org.rlhf4j.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j model}: bring models into rlhf4j: {@code download} from the Hugging Face Hub, {@code import-gguf};
 * {@code merge} a LoRA adapter into its base.
 */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        description = "Bring models into rlhf4j as trainable Hugging Face directories; merge LoRA adapters.",
        subcommands = {ModelDownloadCommand.class, ImportGgufCommand.class, ModelMergeCommand.class})
public final class ModelCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    /** Creates the command (picocli instantiates it). */
    public ModelCommand() {}

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
}
