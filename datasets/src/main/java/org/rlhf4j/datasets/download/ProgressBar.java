package org.rlhf4j.datasets.download;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A throttled one-line progress bar ({@code \r}-redrawn) for byte transfers.
 *
 * <p>Draws at most every {@code minIntervalNanos} (default 200 ms), plus once on {@link #finish()}; a null stream
 * disables it.
 */
public final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final long startBytes;
    private final long startNanos;
    private final long minIntervalNanos;
    private long lastDraw = Long.MIN_VALUE;
    private long bytes;
    private int draws;

    /**
     * Creates a bar.
     *
     * @param out where to draw, or null for none
     * @param label the name shown (e.g. the file name)
     * @param total total bytes, or -1 when unknown
     * @param startBytes bytes already present (a resumed download)
     * @param minIntervalNanos smallest time between two draws
     */
    public ProgressBar(PrintStream out, String label, long total, long startBytes, long minIntervalNanos) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.startBytes = startBytes;
        this.bytes = startBytes;
        this.startNanos = System.nanoTime();
        this.minIntervalNanos = minIntervalNanos;
    }

    /**
     * Creates a bar redrawn at most every 200 ms.
     *
     * @param out where to draw, or null for none
     * @param label the name shown
     * @param total total bytes, or -1 when unknown
     * @param startBytes bytes already present
     */
    public ProgressBar(PrintStream out, String label, long total, long startBytes) {
        this(out, label, total, startBytes, 200_000_000L);
    }

    /**
     * Reports the bytes transferred so far; redraws when the throttle allows.
     *
     * @param bytesSoFar total bytes present now (including {@code startBytes})
     */
    public void update(long bytesSoFar) {
        bytes = bytesSoFar;
        long now = System.nanoTime();
        if (lastDraw == Long.MIN_VALUE || now - lastDraw >= minIntervalNanos) {
            lastDraw = now;
            draw(now);
        }
    }

    /** Draws the final state and ends the line. */
    public void finish() {
        draw(System.nanoTime());
        if (out != null) {
            out.println();
            out.flush();
        }
    }

    /**
     * Returns how many times the bar was drawn (for tests of the throttle).
     *
     * @return draws
     */
    public int draws() {
        return draws;
    }

    /**
     * Renders the current line without drawing it.
     *
     * @param nowNanos the current time
     * @return the line
     */
    String render(long nowNanos) {
        double secs = Math.max(1e-9, (nowNanos - startNanos) / 1e9);
        double rate = (bytes - startBytes) / secs;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-24s ", label));
        if (total > 0) {
            double frac = Math.min(1.0, (double) bytes / total);
            int fill = (int) Math.round(frac * WIDTH);
            sb.append(String.format(Locale.ROOT, "%3d%% [", (int) Math.floor(frac * 100)));
            for (int i = 0; i < WIDTH; i++) {
                sb.append(i < fill ? '=' : (i == fill ? '>' : ' '));
            }
            sb.append("] ").append(mb(bytes)).append('/').append(mb(total)).append(" MB");
        } else {
            sb.append(mb(bytes)).append(" MB");
        }
        sb.append(String.format(Locale.ROOT, " %.1f MB/s", rate / 1e6));
        return sb.toString();
    }

    private void draw(long now) {
        draws++;
        if (out != null) {
            out.print('\r');
            out.print(render(now));
            out.flush();
        }
    }

    private static String mb(long b) {
        return String.format(Locale.ROOT, "%.1f", b / 1e6);
    }
}
