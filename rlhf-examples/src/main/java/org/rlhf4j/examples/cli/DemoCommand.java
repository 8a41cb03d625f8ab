package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.examples.demo.ResetExplorationDemo;
import org.rlhf4j.examples.demo.VerifiableRewardDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code rlhf4j demo}: small self-contained demonstrations of algorithmic effects. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Small self-contained demonstrations (minutes on a CPU).",
        subcommands = {DemoCommand.ResetExploration.class, DemoCommand.VerifiableReward.class})
public final class DemoCommand implements Runnable {

    @Spec CommandSpec spec;

    /** Creates the command. */
    public DemoCommand() {}

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code rlhf4j demo reset-exploration}: PPO vs DR-PO on a sparse-reward exact-answer task; prints one JSON object
     * and writes the learning curves as a PNG.
     */
    @Command(name = "reset-exploration", mixinStandardHelpOptions = true,
            description = "PPO vs DR-PO (same budget and seed) on a task whose only reward is an exact target answer; "
                    + "prints {\"ppo\":{\"success\":...},\"drpo\":{\"success\":...},\"settings\":{...}} and writes "
                    + "learning-curves.png to --out.")
    static final class ResetExploration implements Callable<Integer>, ResultCommand {

        @Spec CommandSpec spec;

        @Mixin ResetExplorationDemo.Options options;

        private Object result;

        @Override
        public Object result() {
            return result;
        }

        @Override
        public Integer call() throws Exception {
            ResetExplorationDemo.Result r = ResetExplorationDemo.run(options);
            result = r;
            PrintWriter out = spec.commandLine().getOut();
            out.println(Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r.toJson()));
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println("learning curves: " + r.plot());
            err.flush();
            return 0;
        }
    }

    /**
     * {@code rlhf4j demo verifiable-reward}: GRPO from a random policy on a task whose reward is the built-in
     * {@code exact_answer} against each prompt's {@code answer} field; prints one JSON object and writes the training
     * reward curve as a PNG.
     */
    @Command(name = "verifiable-reward", mixinStandardHelpOptions = true,
            description = "Critic-free RL (GRPO) with a verifiable exact-answer reward: a from-scratch GPT-2 learns to "
                    + "answer held-out prompts; prints {\"grpo\":{\"before\":...,\"after\":...},\"settings\":{...},"
                    + "\"plot\":...} and writes verifiable_reward.png to --out.")
    static final class VerifiableReward implements Callable<Integer>, ResultCommand {

        @Spec CommandSpec spec;

        @Mixin VerifiableRewardDemo.Options options;

        private Object result;

        @Override
        public Object result() {
            return result;
        }

        @Override
        public Integer call() throws Exception {
            VerifiableRewardDemo.Result r = VerifiableRewardDemo.run(options);
            result = r;
            PrintWriter out = spec.commandLine().getOut();
            out.println(Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r.toMap()));
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println("training reward curve: " + r.plot());
            err.flush();
            return 0;
        }
    }
}
