package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.algorithms.common.RunConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import picocli.CommandLine;

/** {@code --config FILE}: YAML/JSON defaults, flags override, unknown keys named, a run repeated from its directory. */
class ConfigFileTest {

    private static TrainOptions parse(Path file, String... flags) {
        CommandLine cl = Rlhf4jCli.commandLine();
        cl.setDefaultValueProvider(ConfigFile.read(file));
        String[] args = new String[flags.length + 1];
        args[0] = "sft";
        System.arraycopy(flags, 0, args, 1, flags.length);
        CommandLine.ParseResult pr = cl.parseArgs(args);
        return ((SftCommand) pr.subcommand().commandSpec().userObject()).train;
    }

    @Test
    void yamlValuesAreDefaultsAndFlagsOverrideThem(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sft.yaml");
        Files.writeString(f, "# an SFT run\nepochs: 2\nlr: 3.0e-4\nbatch_size: 4\nsave-steps: 7\ndata: bundled\n");
        TrainOptions t = parse(f, "--lr", "0.001");
        assertThat(t.epochs).isEqualTo(2.0);
        assertThat(t.lr).isEqualTo(0.001); // the flag wins
        assertThat(t.batchSize).isEqualTo(4); // batch_size == batch-size
        assertThat(t.schedule(TrainingSchedule.of(10, 50))).isEqualTo(TrainingSchedule.of(10, 7)); // the rest: the preset's
        assertThat(t.preset).isEqualTo("tiny"); // annotated defaults stay
        assertThat(t.options()).containsEntry("epochs", 2.0).containsEntry("lr", 0.001).containsEntry("batch-size", 4);
    }

    @Test
    void jsonWorksTooAndAMissingOrMalformedFileIsNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sft.json");
        Files.writeString(f, "{\"epochs\": 0.5, \"seed\": 3}");
        TrainOptions t = parse(f);
        assertThat(t.epochs).isEqualTo(0.5);
        assertThat(t.seed).isEqualTo(3L);
        assertThatThrownBy(() -> ConfigFile.read(dir.resolve("missing.yaml"))).hasMessageContaining("missing.yaml")
                .hasMessageContaining("not found");
        Files.writeString(f, "[1, 2]");
        assertThatThrownBy(() -> ConfigFile.read(f)).hasMessageContaining("sft.json")
                .hasMessageContaining("map of option names");
    }

    @Test
    void anUnknownKeyIsAnErrorNamingItAndTheValidNames(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "epochs: 1\nlearning_rate: 0.1\n");
        assertThatThrownBy(() -> Rlhf4jCli.runExample("sft", "--config", f.toString(), "--out",
                dir.resolve("run").toString())).hasMessageContaining("learning-rate").hasMessageContaining("bad.yaml")
                .hasMessageContaining("valid: ").hasMessageContaining("lr");
        assertThat(dir.resolve("run")).doesNotExist(); // refused before any work
    }

    @Test
    void aPastRunIsRepeatedFromItsRunConfig(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sft.yaml");
        Files.writeString(f, "epochs: 0.16\nbatch-size: 4\nmicro-batch-size: 4\nlr: 0.002\n");
        Path a = dir.resolve("a");
        Rlhf4jCli.runExample("sft", "--config", f.toString(), "--out", a.toString(), "--device", "cpu");
        Path b = dir.resolve("b");
        Rlhf4jCli.runExample("sft", "--config", a.resolve(RunConfig.FILE).toString(), "--out", b.toString());
        RunConfig ra = RunConfig.read(a.resolve(RunConfig.FILE));
        RunConfig rb = RunConfig.read(b.resolve(RunConfig.FILE));
        assertThat(rb.differences(ra)).isEmpty();
        JsonNode cfg = rb.config();
        assertThat(cfg.get("optimizer").get("learningRate").asDouble()).isEqualTo(0.002);
        assertThat(cfg.get("batchSize").asInt()).isEqualTo(4);
        assertThat(Files.readAllLines(b.resolve("metrics.jsonl"))).isEqualTo(Files.readAllLines(a.resolve("metrics.jsonl")));
    }
}
