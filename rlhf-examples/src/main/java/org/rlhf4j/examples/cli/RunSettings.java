package org.rlhf4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.rlhf4j.algorithms.common.ExistingRun;
import org.rlhf4j.algorithms.common.RunConfig;
import org.rlhf4j.algorithms.common.RunConfigMismatchException;

/** How the command line words a run directory that holds a run with other settings: by option names. */
final class RunSettings {

    private static final Set<String> SCHEDULE_OPTIONS = Set.of("eval-steps", "save-steps", "save-total-limit",
            "logging-steps", "device");

    private RunSettings() {}

    /**
     * The error line for a run-config mismatch: the options whose values differ ({@code --lr 0.003 -> 0.001}), then
     * the trainer-config fields, then what to do.
     *
     * @param m the mismatch
     * @return the text
     */
    static String mismatchText(RunConfigMismatchException m) {
        List<String> options = optionDifferences(m.saved(), m.current());
        String fields = m.differences().stream().map(RunConfig.Difference::toString).collect(Collectors.joining(", "));
        StringBuilder sb = new StringBuilder();
        if (m.mode() == ExistingRun.RESUME) {
            sb.append("cannot --resume ").append(m.runDir()).append(": settings that change the trajectory differ: ");
        } else {
            sb.append(m.runDir()).append(" holds a run with other settings: ");
        }
        if (!options.isEmpty()) {
            sb.append(String.join(", ", options)).append(" (").append(fields).append(")");
        } else {
            sb.append(fields);
        }
        if (m.mode() == ExistingRun.RESUME) {
            sb.append("; start fresh with --overwrite or use another --out");
        } else {
            sb.append("; continue it with --resume (only --eval-steps, --save-steps, --save-total-limit, "
                    + "--logging-steps may differ), start fresh with --overwrite, or use another --out");
        }
        return sb.toString();
    }

    /** The options (as given on the command line or in --config) whose values differ, schedules left out. */
    private static List<String> optionDifferences(RunConfig saved, RunConfig current) {
        List<String> out = new ArrayList<>();
        if (saved == null || current == null || saved.options() == null || current.options() == null) {
            return out;
        }
        JsonNode a = saved.options();
        JsonNode b = current.options();
        Set<String> names = new LinkedHashSet<>();
        for (Iterator<String> it = b.fieldNames(); it.hasNext();) {
            names.add(it.next());
        }
        for (Iterator<String> it = a.fieldNames(); it.hasNext();) {
            names.add(it.next());
        }
        for (String n : names) {
            if (SCHEDULE_OPTIONS.contains(n)) {
                continue;
            }
            JsonNode x = a.get(n);
            JsonNode y = b.get(n);
            if (x == null || y == null || !x.equals(y)) {
                out.add("--" + n + " " + text(x) + " -> " + text(y));
            }
        }
        return out;
    }

    private static String text(JsonNode v) {
        return v == null ? "(default)" : v.isTextual() ? v.asText() : v.toString();
    }
}
