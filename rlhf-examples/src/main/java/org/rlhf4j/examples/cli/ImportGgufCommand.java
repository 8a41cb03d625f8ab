package org.rlhf4j.examples.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.rlhf4j.core.gguf.GgufImporter;
import org.rlhf4j.core.io.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j model import-gguf FILE --out DIR [--overwrite]}: converts a llama.cpp GGUF file (llama, mistral,
 * qwen2, qwen3) into a float32 Hugging Face directory. The directory is written as {@code DIR.tmp} and renamed when
 * complete, so {@code DIR} never holds a partial import; an existing non-empty {@code DIR} is refused unless
 * {@code --overwrite}. Prints one JSON object: architecture, model_type, parameters, source tensor types.
 */
@Command(
        name = "import-gguf",
        mixinStandardHelpOptions = true,
        description = {
            "Import a GGUF file (llama.cpp) as a trainable Hugging Face directory: config.json, model.safetensors "
                    + "(float32), tokenizer.json, tokenizer_config.json (chat template), special_tokens_map.json.",
            "Supported tensor types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K; architectures: llama "
                    + "(and mistral), qwen2, qwen3."
        })
public final class ImportGgufCommand implements Callable<Integer> {

    /** Files an import writes; a leftover {@code DIR.tmp} holding only these is cleared. */
    static final Set<String> OUTPUTS = Set.of("config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "generation_config.json");

    @Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The .gguf file.")
    Path file;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
    Path out;

    @Option(names = "--overwrite", description = "Replace an existing non-empty output directory.")
    boolean overwrite;

    /** Creates the command (picocli instantiates it). */
    public ImportGgufCommand() {}

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (!Files.isRegularFile(file)) {
                err.println("error: " + file + ": file not found");
                return CommandLine.ExitCode.USAGE;
            }
            if (nonEmpty(out) && !overwrite) {
                err.println("error: " + out + " exists and is not empty; pass --overwrite to replace it");
                return CommandLine.ExitCode.USAGE;
            }
            Path target = out.toAbsolutePath().normalize();
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            if (Files.exists(tmp)) {
                if (!onlyOurFiles(tmp)) {
                    err.println("error: " + tmp + " exists and holds files an import does not write; remove it");
                    return CommandLine.ExitCode.USAGE;
                }
                deleteTree(tmp);
            }
            GgufImporter.Summary s;
            try (NDManager m = NDManager.newBaseManager()) {
                s = GgufImporter.importTo(file, tmp, m);
            }
            if (Files.exists(target)) {
                deleteTree(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("out", target.toString());
            o.put("architecture", s.architecture());
            o.put("model_type", s.modelType());
            o.put("parameters", s.parameters());
            o.put("tied_embeddings", s.tiedEmbeddings());
            ObjectNode types = o.putObject("tensor_types");
            s.tensorTypes().forEach(types::put);
            var skipped = o.putArray("skipped_tensors");
            s.skipped().forEach(skipped::add);
            PrintWriter pw = spec.commandLine().getOut();
            pw.println(Json.compact(o));
            pw.flush();
            return CommandLine.ExitCode.OK;
        } catch (IOException | RuntimeException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }
    }

    private static boolean nonEmpty(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return false;
        }
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    private static boolean onlyOurFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.allMatch(p -> Files.isRegularFile(p) && OUTPUTS.contains(p.getFileName().toString()));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(dir)) {
            all = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            Files.delete(p);
        }
    }
}
