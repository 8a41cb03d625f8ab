package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.io.Hashes;
import org.rlhf4j.core.io.Json;

/**
 * The {@code --lora-*} options end to end: a LoRA SFT run writes a PEFT adapter and leaves its base untouched, records
 * the settings and refuses to continue with others; {@code score --adapter}, an adapter directory as {@code --model},
 * {@code model merge} agree; DPO from the LoRA SFT adapter merges it and trains a fresh adapter whose reference is the
 * merged SFT model.
 */
class LoraCliTest {

    static double[] logprobs(CliSmokeTest.Run r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode lp = Json.MAPPER.readTree(r.out()).get("logprobs");
        double[] out = new double[lp.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = lp.get(i).asDouble();
        }
        return out;
    }

    static CliSmokeTest.Run timed(String... args) {
        long t0 = System.nanoTime();
        CliSmokeTest.Run r = CliSmokeTest.run(args);
        System.out.printf("LoRA CLI: %s %s: %.1f s%n", args[0], args.length > 1 ? args[1] : "", (System.nanoTime() - t0) / 1e9);
        return r;
    }

    static double maxDiff(double[] a, double[] b) {
        assertThat(a).hasSameSizeAs(b);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void configFilesTakeTheLoraKeys(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("lora.yaml");
        Files.writeString(yaml, "lora-r: 16\nlora_alpha: 32\nlora-target: [q_proj, v_proj]\nlora-rslora: true\n");
        picocli.CommandLine cl = Rlhf4jCli.commandLine();
        cl.setDefaultValueProvider(ConfigFile.read(yaml));
        cl.parseArgs("dpo", "--lora-dropout", "0.05");
        DpoCommand dpo = cl.getSubcommands().get("dpo").getCommand();
        ConfigFile.read(yaml).check(cl.getSubcommands().get("dpo").getCommandSpec());
        org.rlhf4j.core.lora.LoraConfig c = dpo.lora.config();
        assertThat(c).isEqualTo(new org.rlhf4j.core.lora.LoraConfig(16, 32, 0.05, java.util.List.of("q_proj",
                "v_proj"), true));
        assertThat(dpo.lora.args()).containsExactly("--lora-r", "16", "--lora-alpha", "32.0", "--lora-dropout", "0.05",
                "--lora-target", "q_proj,v_proj", "--lora-rslora");
        assertThat(dpo.train.options()).containsEntry("lora-r", 16).containsEntry("lora-rslora", true);
    }

    @Test
    void loraSftScoreMergeAndDpo(@TempDir Path dir) throws Exception {
        // a base model: a tiny random GPT-2 over a compact vocabulary, and small SFT and preference files
        Path texts = dir.resolve("texts.txt");
        StringBuilder sftRows = new StringBuilder();
        StringBuilder pairRows = new StringBuilder();
        String[] animals = {"cat", "dog", "bird", "fish"};
        String[] places = {"mat", "rug", "sofa", "bed"};
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            String a = animals[i % 4];
            String p = places[(i / 4) % 4];
            String prompt = "Where did the " + a + " sleep?";
            sftRows.append("{\"prompt\": \"").append(prompt).append("\", \"completion\": \" On the ").append(p)
                    .append(".\"}\n");
            pairRows.append("{\"prompt\": \"").append(prompt).append("\", \"chosen\": \" On the ").append(p)
                    .append(".\", \"rejected\": \" In the ").append(p).append(" again.\"}\n");
            vocab.append(prompt).append(" On the ").append(p).append(". In the ").append(p).append(" again.\n");
        }
        Files.writeString(texts, vocab.toString());
        Path sftData = Files.writeString(dir.resolve("sft.jsonl"), sftRows.toString());
        Path pairs = Files.writeString(dir.resolve("pairs.jsonl"), pairRows.toString());
        Path baseModel = dir.resolve("base");
        CliSmokeTest.Run b = timed("init", "--out", baseModel.toString(), "--n-embd", "32", "--n-layer", "2",
                "--n-head", "2", "--n-positions", "128", "--vocab-texts", texts.toString());
        assertThat(b.code()).as(b.err()).isZero();
        String baseHash = Hashes.sha256(baseModel.resolve("model.safetensors"));

        // LoRA SFT over it
        Path sft = dir.resolve("lsft");
        String[] sftArgs = {"sft", "--model", baseModel.toString(), "--out", sft.toString(), "--data",
            sftData.toString(), "--eval-data", sftData.toString(), "--epochs", "2", "--seed", "3", "--lr", "3e-2",
            "--lora-r", "4", "--lora-alpha", "16", "--lora-target", "c_attn,c_proj"};
        CliSmokeTest.Run s = timed(sftArgs);
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode summary = Json.MAPPER.readTree(s.out());
        assertThat(summary.get("eval_loss").asDouble()).isLessThan(summary.get("eval_loss_before").asDouble());
        Path adapter = sft.resolve("model");
        assertThat(adapter.resolve("adapter_config.json")).exists();
        assertThat(adapter.resolve("adapter_model.safetensors")).exists();
        assertThat(adapter.resolve("model.safetensors")).doesNotExist();
        assertThat(adapter.resolve("tokenizer.json")).exists();
        JsonNode ac = Json.MAPPER.readTree(Files.readString(adapter.resolve("adapter_config.json")));
        assertThat(ac.get("r").asInt()).isEqualTo(4);
        assertThat(ac.get("lora_alpha").asDouble()).isEqualTo(16.0);
        assertThat(ac.get("base_model_name_or_path").asText()).isEqualTo(baseModel.toAbsolutePath().normalize()
                .toString());
        assertThat(Hashes.sha256(baseModel.resolve("model.safetensors"))).isEqualTo(baseHash); // base untouched
        JsonNode rc = Json.MAPPER.readTree(Files.readString(sft.resolve("run_config.json")));
        assertThat(rc.get("options").get("lora-r").asInt()).isEqualTo(4);
        assertThat(rc.get("options").get("lora-alpha").asDouble()).isEqualTo(16.0);
        assertThat(rc.get("options").get("lora-target").toString()).isEqualTo("[\"c_attn\",\"c_proj\"]");
        assertThat(rc.get("adapters").get("policy").get("r").asInt()).isEqualTo(4);

        // other LoRA settings are refused
        sftArgs[sftArgs.length - 5] = "8";
        CliSmokeTest.Run other = timed(sftArgs);
        assertThat(other.code()).isEqualTo(1);
        assertThat(other.err()).contains("--lora-r 4 -> 8").contains("adapters.policy.r 4 -> 8");
        CliSmokeTest.Run noRank = timed("sft", "--model", baseModel.toString(), "--data", sftData.toString(), "--out",
                dir.resolve("x").toString(), "--lora-alpha", "4");
        assertThat(noRank.code()).isEqualTo(1);
        assertThat(noRank.err()).contains("--lora-alpha need --lora-r R");
        CliSmokeTest.Run scratch = timed("sft", "--out", dir.resolve("y").toString(), "--lora-r", "4");
        assertThat(scratch.code()).isEqualTo(1);
        assertThat(scratch.err()).contains("--lora-r needs --model DIR");

        // score: --adapter over the base, the adapter directory as --model, and the merged model agree
        String text = "Where did the dog sleep? On the rug.";
        double[] withAdapter = logprobs(timed("score", "--model", baseModel.toString(), "--adapter",
                adapter.toString(), "--text", text));
        double[] adapterAsModel = logprobs(timed("score", "--model", adapter.toString(), "--text", text));
        double[] plain = logprobs(timed("score", "--model", baseModel.toString(), "--text", text));
        assertThat(maxDiff(withAdapter, adapterAsModel)).isZero();
        assertThat(maxDiff(withAdapter, plain)).isGreaterThan(1e-4); // the adapter trained
        Path merged = dir.resolve("merged");
        CliSmokeTest.Run mg = timed("model", "merge", "--model", baseModel.toString(), "--adapter",
                adapter.toString(), "--out", merged.toString());
        assertThat(mg.code()).as(mg.err()).isZero();
        assertThat(merged.resolve("model.safetensors")).exists();
        assertThat(merged.resolve("tokenizer.json")).exists();
        double[] mergedLp = logprobs(timed("score", "--model", merged.toString(), "--text", text));
        System.out.printf("LoRA CLI: |merged - adapter| = %.3g, |adapter - base| = %.3g%n",
                maxDiff(mergedLp, withAdapter), maxDiff(withAdapter, plain));
        assertThat(maxDiff(mergedLp, withAdapter)).isLessThan(1e-4);
        CliSmokeTest.Run mgAgain = timed("model", "merge", "--adapter", adapter.toString(), "--out",
                merged.toString());
        assertThat(mgAgain.code()).isEqualTo(1);
        assertThat(mgAgain.err()).contains("--overwrite");

        // DPO from the LoRA SFT adapter: merged in memory, a fresh adapter over it, the merged model the reference
        Path dpo = dir.resolve("ldpo");
        CliSmokeTest.Run d = timed("dpo", "--model", adapter.toString(), "--out", dpo.toString(), "--data",
                pairs.toString(), "--eval-data", pairs.toString(), "--epochs", "1", "--seed", "5", "--lora-r", "4");
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode ds = Json.MAPPER.readTree(d.out());
        assertThat(ds.get("eval_loss_before").asDouble()).isCloseTo(Math.log(2), within(1e-6));
        assertThat(dpo.resolve("model/adapter_model.safetensors")).exists();
        JsonNode dac = Json.MAPPER.readTree(Files.readString(dpo.resolve("model/adapter_config.json")));
        assertThat(dac.get("base_model_name_or_path").asText()).isEqualTo(adapter.toAbsolutePath().normalize()
                .toString());
        // the chain (base -> SFT adapter, merged -> DPO adapter) loads; a fresh-ish DPO adapter stays near SFT
        double[] dpoLp = logprobs(timed("score", "--model", dpo.resolve("model").toString(), "--text",
                text));
        assertThat(maxDiff(dpoLp, mergedLp)).isLessThan(0.5);

        // reward model as adapter + head over the merged SFT model, then PPO whose critic is its copy
        Path rm = dir.resolve("lrm");
        CliSmokeTest.Run r = timed("reward", "--model", adapter.toString(), "--out", rm.toString(), "--data",
                pairs.toString(), "--eval-data", pairs.toString(), "--epochs", "1", "--lora-r", "4");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rac = Json.MAPPER.readTree(Files.readString(rm.resolve("model/adapter_config.json")));
        assertThat(rac.get("task_type").asText()).isEqualTo("SEQ_CLS");
        Path ppo = dir.resolve("lppo");
        CliSmokeTest.Run p = timed("ppo", "--model", adapter.toString(), "--reward-model",
                rm.resolve("model").toString(), "--out", ppo.toString(), "--data", pairs.toString(), "--eval-data",
                pairs.toString(), "--episodes", "8", "--batch-size", "4", "--micro-batch-size", "2", "--lora-r", "4",
                "--lora-dropout", "0.1");
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(p.err()).contains("--lora-dropout 0.1 is recorded but not applied");
        assertThat(ppo.resolve("model/adapter_model.safetensors")).exists();
        assertThat(ppo.resolve("model/critic/adapter_model.safetensors")).exists();
        JsonNode prc = Json.MAPPER.readTree(Files.readString(ppo.resolve("run_config.json")));
        assertThat(prc.get("adapters").get("policy").get("r").asInt()).isEqualTo(4);
        assertThat(prc.get("adapters").get("critic").get("r").asInt()).isEqualTo(4);
    }
}
