package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --config FILE}: a YAML or JSON file whose keys are the command's long option names, without the dashes
 * ({@code lr: 3e-4}, {@code batch-size: 16}; {@code batch_size} works too). Values in the file are defaults: a flag
 * on the command line overrides them. A run directory's {@code run_config.json} is a config file too (its
 * {@code options} object holds the options the run was started with), so any past run can be repeated with
 * {@code --config OUT/run_config.json}. Unknown keys are an error naming the key, the file and the valid names.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider {

    /** The option that names the file. */
    static final String OPTION = "--config";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final Path file;
    private final Map<String, String> values;

    private ConfigFile(Path file, Map<String, String> values) {
        this.file = file;
        this.values = values;
    }

    /**
     * Finds {@code --config FILE} (or {@code --config=FILE}) in the arguments and reads the file.
     *
     * @param args the command-line arguments
     * @return the config file, or null when none is given
     * @throws IllegalArgumentException when the file is missing, malformed or not a map of options
     */
    static ConfigFile fromArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                return null;
            }
            if (args[i].equals(OPTION) && i + 1 < args.length) {
                return read(Path.of(args[i + 1]));
            }
            if (args[i].startsWith(OPTION + "=")) {
                return read(Path.of(args[i].substring(OPTION.length() + 1)));
            }
        }
        return null;
    }

    /**
     * Reads a config file.
     *
     * @param file YAML or JSON
     * @return the config
     * @throws IllegalArgumentException when the file is missing, malformed or not a map of options
     */
    static ConfigFile read(Path file) {
        JsonNode root;
        try {
            root = YAML.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--config " + file + ": file not found");
        } catch (IOException e) {
            throw new IllegalArgumentException("--config " + file + ": not valid YAML or JSON: "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root != null && root.has("options") && root.has("algorithm")) {
            root = root.get("options"); // a run directory's run_config.json
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return new ConfigFile(file, Map.of());
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException("--config " + file + ": expected a map of option names to values, got "
                    + root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            String text;
            if (v.isNull()) {
                continue;
            } else if (v.isArray()) {
                List<String> parts = new ArrayList<>();
                v.forEach(x -> parts.add(x.asText()));
                text = String.join(",", parts);
            } else if (v.isObject()) {
                throw new IllegalArgumentException("--config " + file + ": key '" + e.getKey()
                        + "' has a map value; values must be numbers, strings, booleans or lists");
            } else {
                text = v.asText();
            }
            values.put(normalise(e.getKey()), text);
        }
        return new ConfigFile(file, values);
    }

    private static String normalise(String key) {
        String k = key.startsWith("--") ? key.substring(2) : key;
        return k.replace('_', '-').toLowerCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (arg instanceof OptionSpec o) {
            return values.get(normalise(o.longestName()));
        }
        return null;
    }

    /**
     * Checks that every key names an option of the command that runs.
     *
     * @param command the command
     * @throws IllegalArgumentException naming the unknown keys, the file and the valid names
     */
    void check(CommandSpec command) {
        TreeSet<String> known = new TreeSet<>();
        for (OptionSpec o : command.options()) {
            if (o.longestName().startsWith("--") && !o.usageHelp() && !o.versionHelp() && !o.hidden()) {
                known.add(normalise(o.longestName()));
            }
        }
        known.remove(normalise(OPTION));
        List<String> unknown = values.keySet().stream().filter(k -> !known.contains(k)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("--config " + file + ": unknown option" + (unknown.size() > 1 ? "s " : " ")
                    + unknown + " for '" + command.qualifiedName() + "' (valid: " + String.join(", ", known) + ")");
        }
    }
}
