package org.rlhf4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code ./rlhf4j ...} command line in a shell block of the README and docs/ parses with today's command line:
 * the command exists, every option exists, required options are given, values convert. (Running them all would need
 * GPUs and downloads; the snippets that can run on CPU are run by the other CLI tests.)
 */
class DocsCommandsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** A command line and where it is written. */
    record DocCommand(String where, List<String> args) {}

    static List<DocCommand> commands() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(ROOT.resolve("README.md"));
        try (Stream<Path> s = Files.walk(ROOT.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<DocCommand> out = new ArrayList<>();
        for (Path f : files) {
            List<String> lines = Files.readAllLines(f);
            java.util.Map<String, String> vars = new java.util.HashMap<>();
            boolean shell = false;
            StringBuilder pending = null;
            int start = 0;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.startsWith("```")) {
                    shell = !shell && (line.equals("```bash") || line.equals("```sh") || line.equals("```shell"));
                    continue;
                }
                if (!shell) {
                    continue;
                }
                String code = stripComment(line).strip();
                java.util.regex.Matcher assign = java.util.regex.Pattern.compile("(?:export\\s+)?([A-Z_][A-Z_0-9]*)=(.*)")
                        .matcher(code);
                if (pending == null && assign.matches() && !code.contains("./rlhf4j")) {
                    String v = assign.group(2).strip();
                    vars.put(assign.group(1), v.replaceAll("^\"(.*)\"$", "$1").replaceAll("^'(.*)'$", "$1"));
                    continue;
                }
                for (java.util.Map.Entry<String, String> v : vars.entrySet()) {
                    code = code.replace("${" + v.getKey() + "}", v.getValue()).replace("$" + v.getKey(), v.getValue());
                }
                if (pending == null) {
                    int at = code.indexOf("./rlhf4j ");
                    if (at < 0 || !code.substring(0, at).matches("([A-Z_0-9]+=\\S*\\s+)*")) {
                        continue;
                    }
                    pending = new StringBuilder(code.substring(at + "./rlhf4j ".length()));
                    start = i + 1;
                } else {
                    pending.append(' ').append(code);
                }
                if (pending.toString().endsWith("\\")) {
                    pending.setLength(pending.length() - 1);
                    continue;
                }
                // one line may chain several commands: cmd && ./rlhf4j cmd2
                for (String part : pending.toString().split("\\s*(&&|;|\\|\\|)\\s*")) {
                    String p = part.strip().replaceFirst("^\\./rlhf4j\\s+", "");
                    if (!p.isEmpty()) {
                        out.add(new DocCommand(ROOT.relativize(f) + ":" + start, split(p)));
                    }
                }
                pending = null;
            }
        }
        return out;
    }

    private static String stripComment(String line) {
        boolean single = false;
        boolean dbl = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'' && !dbl) {
                single = !single;
            } else if (c == '"' && !single) {
                dbl = !dbl;
            } else if (c == '#' && !single && !dbl && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** Splits like a POSIX shell for the simple cases the docs use (quotes, no expansions). */
    private static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = null;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                cur = cur == null ? new StringBuilder() : cur;
            } else if (Character.isWhitespace(c)) {
                if (cur != null) {
                    out.add(cur.toString());
                    cur = null;
                }
            } else {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(c);
            }
        }
        if (cur != null) {
            out.add(cur.toString());
        }
        return out;
    }

    @Test
    void everyDocumentedCommandLineParses() throws Exception {
        List<DocCommand> all = commands();
        assertThat(all).hasSizeGreaterThan(20);
        List<String> failures = new ArrayList<>();
        for (DocCommand c : all) {
            try {
                Rlhf4jCli.commandLine().parseArgs(c.args().toArray(new String[0]));
            } catch (CommandLine.ParameterException e) {
                failures.add(c.where() + ": rlhf4j " + String.join(" ", c.args()) + "\n    " + e.getMessage());
            }
        }
        assertThat(failures).as("documented command lines that no longer parse").isEmpty();
    }
}
