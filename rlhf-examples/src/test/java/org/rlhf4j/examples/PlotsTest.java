package org.rlhf4j.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.eval.Interval;

/** The plots render (headless) to PNGs of the expected size. */
class PlotsTest {

    @Test
    void comparesPoliciesInFourPanels(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("report/plots/policies.png");
        Plots.comparePolicies(png, List.of(
                new Plots.PolicyPoint("sft", false, -0.9, 0.0, 49.8, 0.25, Interval.wilson95(8, 32)),
                new Plots.PolicyPoint("ppo", true, 0.6, 1.5, 1.0, 0.53, Interval.wilson95(17, 32)),
                new Plots.PolicyPoint("dpo", false, -0.7, 8.6, 41.3, 0.34, new Interval(Double.NaN, Double.NaN))),
                0.06, 25.0, "judge at chance");
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(1120);
        assertThat(img.getHeight()).isEqualTo(760);
        assertThatThrownBy(() -> Plots.comparePolicies(png, List.of(), 0, 0, null)).hasMessageContaining("no policy");
    }

    @Test
    void accuracyCurvesGetTheChanceLine(@TempDir Path dir) throws Exception {
        Path metrics = dir.resolve("metrics.jsonl");
        Files.writeString(metrics, "{\"step\":1,\"eval/valid1/accuracy\":0.48,\"train/loss\":0.7}\n"
                + "{\"step\":2,\"eval/valid1/accuracy\":0.55,\"train/loss\":0.6}\n", StandardCharsets.UTF_8);
        List<Path> written = Plots.plotAll(metrics, dir.resolve("plots"), "reward");
        assertThat(written).extracting(p -> p.getFileName().toString())
                .containsExactly("eval_valid1_accuracy.png", "train_loss.png");
        for (Path p : written) {
            assertThat(ImageIO.read(p.toFile()).getWidth()).isEqualTo(640);
        }
    }
}
