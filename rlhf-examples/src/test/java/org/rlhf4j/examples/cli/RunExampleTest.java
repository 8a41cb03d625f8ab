package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.examples.demo.ResetExplorationDemo;

/** {@link Rlhf4jCli#runExample(String...)}: the result object of the command that ran, or a clear failure. */
class RunExampleTest {

    @Test
    void returnsTheResultOfTheCommand() {
        assertThat((int[]) Rlhf4jCli.runExample("tokenize", "--text", "Hello world")).containsExactly(15496, 995);
    }

    @Test
    void returnsTheResultOfANestedCommand(@TempDir Path dir) {
        Object r = Rlhf4jCli.runExample("demo", "reset-exploration", "--updates", "1", "--batch", "8", "--skip-ppo",
                "--out", dir.toString());
        assertThat(r).isInstanceOf(ResetExplorationDemo.Result.class);
        assertThat(((ResetExplorationDemo.Result) r).plot()).exists();
    }

    @Test
    void aFailingCommandThrowsWithItsErrorLine(@TempDir Path dir) {
        assertThatThrownBy(() -> Rlhf4jCli.runExample("sft", "--out", dir.toString(), "--preset", "huge"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited with code 1")
                .hasMessageContaining("unknown preset 'huge'");
    }

    @Test
    void aCommandWithoutResultSaysSo() {
        assertThatThrownBy(() -> Rlhf4jCli.runExample("help"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has no result");
    }
}
