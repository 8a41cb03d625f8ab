package org.rlhf4j.examples.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import org.rlhf4j.algorithms.common.ProgressListener;

/** A progress bar with ETA on stderr: redrawn in place on a terminal, one line per 10% otherwise. */
public final class ConsoleProgress implements ProgressListener {

    private final PrintWriter out;
    private final String metric;
    private final boolean tty;
    private final long startNanos = System.nanoTime();
    private long firstStep = -1;
    private int lastDecile = -1;

    /**
     * Creates a progress bar.
     *
     * @param out where to draw
     * @param metric the metric shown next to the bar (e.g. {@code train/loss})
     */
    public ConsoleProgress(PrintWriter out, String metric) {
        this.out = out;
        this.metric = metric;
        this.tty = System.console() != null;
    }

    @Override
    public void onStep(String stage, long step, long total, Map<String, Double> metrics) {
        if (firstStep < 0) {
            firstStep = step - 1;
        }
        double frac = (double) step / total;
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        double perStep = elapsed / Math.max(1, step - firstStep);
        double eta = perStep * (total - step);
        int width = 30;
        int filled = (int) Math.round(frac * width);
        Double v = metrics.get(metric);
        String line = String.format(Locale.ROOT, "[%s] %s%s %d/%d %3.0f%% %s ETA %s", stage, "#".repeat(filled),
                ".".repeat(width - filled), step, total, 100 * frac,
                v == null ? "" : metric + "=" + String.format(Locale.ROOT, "%.4f", v), clock(eta));
        if (tty) {
            out.print("\r" + line + (step == total ? "\n" : ""));
            out.flush();
        } else {
            int decile = (int) Math.floor(frac * 10);
            if (decile != lastDecile || step == total) {
                lastDecile = decile;
                out.println(line);
                out.flush();
            }
        }
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
