package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.ppo.KlEstimator;

/** Bad option values fail at once, in one line that names the option and lists the valid values. */
class CliErrorsTest {

    @Test
    void unknownKlEstimatorListsTheValidOnes() {
        CliSmokeTest.Run r = CliSmokeTest.run("ppo", "--kl-estimator", "k9", "--episodes", "1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("error: --kl-estimator: unknown KL estimator 'k9' (valid: k1, k3)");
        assertThat(KlEstimator.parse("K3")).isEqualTo(KlEstimator.K3);
        assertThat(KlEstimator.parse(" k1 ")).isEqualTo(KlEstimator.K1);
    }

    @Test
    void onlineRlNeedsItsCheckpointsNamedNotFoundInTheCurrentDirectory(@TempDir Path dir) {
        for (String cmd : new String[] {"ppo", "drpo"}) {
            Path out = dir.resolve(cmd);
            CliSmokeTest.Run r = CliSmokeTest.run(cmd, "--episodes", "1", "--out", out.toString());
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err().strip()).isEqualTo("error: --model DIR is required: the SFT checkpoint (e.g. runs/sft/model)");
            r = CliSmokeTest.run(cmd, "--model", dir.toString(), "--episodes", "1", "--out", out.toString());
            assertThat(r.err().strip()).startsWith("error: --reward-model DIR is required");
            assertThat(out).as("nothing written before the check").doesNotExist();
        }
    }

    @Test
    void enumOptionsAreCaseInsensitiveAndListTheirValues() {
        CliSmokeTest.Run r = CliSmokeTest.run("demo", "reset-exploration", "--schedule", "foo");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("expected one of [CONSTANT, LINEAR, COSINE] (case-insensitive) but was 'foo'");
    }

    @Test
    void fp16WithoutAGpuIsRefusedInOneLine(@TempDir Path dir) {
        assumeFalse(Engine.getInstance().getGpuCount() > 0, "a GPU is visible");
        for (String cmd : new String[] {"sft", "dpo", "reward"}) {
            CliSmokeTest.Run r = CliSmokeTest.run(cmd, "--fp16", "--out", dir.resolve(cmd).toString());
            assertThat(r.code()).as(cmd).isEqualTo(1);
            assertThat(r.err().strip()).as(cmd).startsWith("error: --fp16 needs a CUDA GPU and none is visible");
            assertThat(dir.resolve(cmd)).doesNotExist();
        }
    }

    @Test
    void unknownDeviceIsOneLine(@TempDir Path dir) {
        CliSmokeTest.Run r = CliSmokeTest.run("sft", "--device", "tpu", "--out", dir.resolve("x").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("error: --device: unknown device 'tpu' (valid: cpu, gpu, gpu:N, auto)");
        assertThat(dir.resolve("x")).doesNotExist();
    }

    @Test
    void gpuWithoutACudaEngineFailsBeforeAnyWorkInOneLine(@TempDir Path dir) {
        assumeFalse(Engine.getInstance().hasCapability(StandardCapabilities.CUDA), "a CUDA engine is present");
        for (String cmd : new String[] {"sft", "pipeline"}) {
            Path out = dir.resolve(cmd);
            CliSmokeTest.Run r = CliSmokeTest.run(cmd, "--device", "gpu", "--out", out.toString());
            assertThat(r.code()).as(r.err()).isEqualTo(1);
            assertThat(r.err().strip().lines()).hasSize(1);
            assertThat(r.err()).startsWith("error: --device gpu: this build's PyTorch engine")
                    .contains("RLHF4J_MVN_OPTS=-Pgpu");
            assertThat(out).as("no work before the check").doesNotExist();
        }
    }

    @Test
    void longNativeMessagesAreCutToTheirFirstLine() {
        String listing = "Could not run 'aten::empty_strided' with arguments from the 'CUDA' backend.\n"
                + "CPU: registered at x\n".repeat(40);
        assertThat(Rlhf4jCli.errorText(new IllegalStateException(listing)))
                .isEqualTo("Could not run 'aten::empty_strided' with arguments from the 'CUDA' backend. [40 more lines; "
                        + "RLHF4J_DEBUG=1 prints them and the stack trace]");
        assertThat(Rlhf4jCli.errorText(new IllegalStateException("a\nb"))).isEqualTo("a\nb");
    }
}
