package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.rlhf4j.core.checkpoint.Provenance;

/** The pipeline's Markdown report and console table. */
final class PipelineReport {

    private PipelineReport() {}

    /**
     * Writes {@code report.md} and copies every stage's plots under {@code plots/<stage>/}.
     *
     * @param report the report directory
     * @param stagesRoot where the stages ran
     * @param stages stage names in order
     * @param summaries stage summaries
     * @param seconds wall-clock seconds per stage (0 when skipped as finished)
     * @throws IOException on failure
     */
    static void write(Path report, Path stagesRoot, List<String> stages, Map<String, JsonNode> summaries,
            Map<String, Double> seconds) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# rlhf4j pipeline report\n\n");
        md.append("Created ").append(Instant.now()).append(" by rlhf4j ").append(Provenance.libraryVersion())
                .append("; stages in `").append(stagesRoot).append("`.\n\n");
        md.append("## Stages\n\n| stage | seconds | summary |\n|---|---|---|\n");
        for (String s : stages) {
            md.append("| ").append(s).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f", seconds.getOrDefault(s, 0.0))).append(" | ")
                    .append(flat(summaries.get(s))).append(" |\n");
        }
        md.append("\n(A stage that was already finished is reused and shows its time of this run, near 0.)\n");
        for (String s : stages) {
            Path plots = stagesRoot.resolve(s).resolve("plots");
            if (!Files.isDirectory(plots)) {
                continue;
            }
            Path target = Files.createDirectories(report.resolve("plots").resolve(s));
            md.append("\n## ").append(s).append("\n\n");
            try (Stream<Path> files = Files.list(plots)) {
                for (Path png : files.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                    Files.copy(png, target.resolve(png.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    md.append("![").append(s).append(' ').append(png.getFileName()).append("](plots/").append(s)
                            .append('/').append(png.getFileName()).append(")\n");
                }
            }
        }
        Files.writeString(report.resolve("report.md"), md.toString(), StandardCharsets.UTF_8);
    }

    /** One line per stage with its headline numbers. */
    static String table(Map<String, JsonNode> summaries) {
        StringBuilder sb = new StringBuilder();
        summaries.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "%-8s %s%n", k, flat(v))));
        return sb.toString().stripTrailing();
    }

    private static String flat(JsonNode n) {
        if (n == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("stage") || f.getKey().equals("model")) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            JsonNode v = f.getValue();
            sb.append(f.getKey()).append('=').append(v.isFloatingPointNumber()
                    ? String.format(Locale.ROOT, "%.4g", v.asDouble()) : v.toString());
        }
        return sb.toString();
    }
}
