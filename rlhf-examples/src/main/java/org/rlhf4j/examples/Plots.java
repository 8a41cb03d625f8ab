package org.rlhf4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.rlhf4j.algorithms.eval.Interval;
import org.rlhf4j.core.io.Json;

/** PNG plots (XChart, headless): training curves, and the pipeline's comparison of the policies. */
public final class Plots {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /**
     * Reads a metrics file into one series per metric.
     *
     * @param metrics a {@code metrics.jsonl}
     * @return metric name to (steps, values)
     * @throws IOException when unreadable
     */
    public static Map<String, double[][]> read(Path metrics) throws IOException {
        Map<String, List<double[]>> points = new LinkedHashMap<>();
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode row = Json.MAPPER.readTree(line);
            double step = row.path("step").asDouble();
            for (Iterator<Map.Entry<String, JsonNode>> it = row.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getKey().equals("step") && f.getValue().isNumber()) {
                    points.computeIfAbsent(f.getKey(), k -> new ArrayList<>()).add(new double[] {step, f.getValue().asDouble()});
                }
            }
        }
        Map<String, double[][]> out = new LinkedHashMap<>();
        points.forEach((k, v) -> {
            double[][] s = new double[2][v.size()];
            for (int i = 0; i < v.size(); i++) {
                s[0][i] = v.get(i)[0];
                s[1][i] = v.get(i)[1];
            }
            out.put(k, s);
        });
        return out;
    }

    /** Accuracy of a pairwise classifier (a reward model, DPO's implicit reward) at random. */
    public static final double CHANCE = 0.5;

    private static final int PANEL_W = 560;
    private static final int PANEL_H = 380;

    /**
     * Writes one PNG per metric of a metrics file ({@code train/loss} becomes {@code train_loss.png}); the y axis is
     * titled with the metric, and every accuracy metric also shows the chance line at {@value #CHANCE}.
     *
     * @param metrics the metrics file
     * @param outDir the plots directory
     * @param title prefix of each chart title
     * @return the files written
     * @throws IOException on failure
     */
    public static List<Path> plotAll(Path metrics, Path outDir, String title) throws IOException {
        Files.createDirectories(outDir);
        List<Path> written = new ArrayList<>();
        for (Map.Entry<String, double[][]> e : read(metrics).entrySet()) {
            Path f = outDir.resolve(e.getKey().replaceAll("[^A-Za-z0-9._-]", "_") + ".png");
            Map<String, double[][]> series = new LinkedHashMap<>();
            series.put(e.getKey(), e.getValue());
            double[] x = e.getValue()[0];
            if (e.getKey().endsWith("accuracy") && x.length > 0) {
                double lo = Arrays.stream(x).min().orElseThrow();
                double hi = Arrays.stream(x).max().orElseThrow();
                series.put("chance (" + CHANCE + ")", new double[][] {{lo, hi}, {CHANCE, CHANCE}});
            }
            line(f, title + ": " + e.getKey(), "step", e.getKey(), series);
            written.add(f);
        }
        return written;
    }

    /**
     * Writes a line chart with one or more series (y axis untitled).
     *
     * @param file the PNG
     * @param title chart title
     * @param xLabel x-axis label
     * @param series name to (x, y)
     * @throws IOException on failure
     */
    public static void line(Path file, String title, String xLabel, Map<String, double[][]> series) throws IOException {
        line(file, title, xLabel, null, series);
    }

    /**
     * Writes a line chart with one or more series; a series whose name starts with {@code chance} is drawn as a
     * dashed grey reference line.
     *
     * @param file the PNG
     * @param title chart title
     * @param xLabel x-axis label
     * @param yLabel y-axis label, or null
     * @param series name to (x, y)
     * @throws IOException on failure
     */
    public static void line(Path file, String title, String xLabel, String yLabel, Map<String, double[][]> series)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel == null ? "" : yLabel).build();
        style(chart);
        chart.getStyler().setLegendVisible(series.size() > 1);
        chart.getStyler().setMarkerSize(3);
        for (Map.Entry<String, double[][]> s : series.entrySet()) {
            if (s.getValue()[0].length == 0) {
                continue;
            }
            XYSeries xy = chart.addSeries(s.getKey(), s.getValue()[0], s.getValue()[1]);
            xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            if (s.getKey().startsWith("chance")) {
                referenceLine(xy);
            }
        }
        save(chart, file);
    }

    /**
     * One policy in {@link #comparePolicies}.
     *
     * @param name its name on the x axis
     * @param flagged whether {@link org.rlhf4j.algorithms.eval.EvaluationChecks} flagged it (drawn as {@code name*})
     * @param rmScore mean RM score (a summary without EOS scores −1)
     * @param kl KL to the SFT policy
     * @param meanLength mean length in tokens
     * @param winRate win rate against the references
     * @param winRateCi95 its 95 % interval
     */
    public record PolicyPoint(String name, boolean flagged, double rmScore, double kl, double meanLength, double winRate,
            Interval winRateCi95) {}

    /**
     * Writes one PNG comparing the policies in four panels: RM score (with the references' as a dashed line), KL to
     * SFT, mean length (with the references'), and win rate against the references with its 95 % interval as an
     * error bar and the 50 % line. Flagged policies are drawn as {@code name*}.
     *
     * @param file the PNG
     * @param policies the policies, in x-axis order
     * @param referenceScore the references' mean RM score
     * @param referenceLength the references' mean length in tokens
     * @param judgeNote appended to the win-rate panel's title (e.g. {@code "judge at chance"}), or null
     * @throws IOException on failure
     */
    public static void comparePolicies(Path file, List<PolicyPoint> policies, double referenceScore,
            double referenceLength, String judgeNote) throws IOException {
        int n = policies.size();
        if (n == 0) {
            throw new IllegalArgumentException("no policy to plot");
        }
        String[] names = policies.stream().map(p -> p.flagged() ? p.name() + "*" : p.name()).toArray(String[]::new);
        String note = policies.stream().anyMatch(PolicyPoint::flagged) ? " (* flagged)" : "";
        XYChart score = dots("RM score" + note, "RM score", names,
                policies.stream().mapToDouble(PolicyPoint::rmScore).toArray(), "references", referenceScore);
        XYChart kl = dots("KL to SFT" + note, "KL (nats)", names,
                policies.stream().mapToDouble(PolicyPoint::kl).toArray(), null, Double.NaN);
        XYChart length = dots("mean length" + note, "tokens", names,
                policies.stream().mapToDouble(PolicyPoint::meanLength).toArray(), "references", referenceLength);
        XYChart win = dots("win rate vs references, 95% CI" + (judgeNote == null ? "" : " (" + judgeNote + ")"),
                "win rate", names, policies.stream().mapToDouble(PolicyPoint::winRate).toArray(), "50%", CHANCE);
        for (int i = 0; i < n; i++) {
            Interval ci = policies.get(i).winRateCi95();
            if (ci.defined()) {
                XYSeries bar = win.addSeries("ci " + names[i], new double[] {i + 1, i + 1}, new double[] {ci.lo(), ci.hi()});
                bar.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                bar.setMarker(SeriesMarkers.NONE);
                bar.setLineColor(Color.DARK_GRAY);
                bar.setShowInLegend(false);
            }
        }
        win.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        BufferedImage img = new BufferedImage(2 * PANEL_W, 2 * PANEL_H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            XYChart[] panels = {score, kl, length, win};
            for (int k = 0; k < panels.length; k++) {
                g.drawImage(BitmapEncoder.getBufferedImage(panels[k]), (k % 2) * PANEL_W, (k / 2) * PANEL_H, null);
            }
        } finally {
            g.dispose();
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    /**
     * A dot per policy at x = 1..n, labelled with the names, and an optional dashed reference line. The x axis spans
     * 0..n+1 (a reference line, or an invisible series, reaches both ends) so that XChart puts one tick per policy;
     * it labels ticks only when every label is distinct, so the two end ticks get distinct blank labels.
     */
    private static XYChart dots(String title, String yLabel, String[] names, double[] y, String refName, double ref) {
        XYChart chart = new XYChartBuilder().width(PANEL_W).height(PANEL_H).title(title).xAxisTitle("policy")
                .yAxisTitle(yLabel).build();
        style(chart);
        int n = names.length;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
        }
        chart.getStyler().setxAxisTickLabelsFormattingFunction(v -> {
            long i = Math.round(v);
            return Math.abs(v - i) < 1e-9 && i >= 1 && i <= n ? names[(int) i - 1]
                    : " ".repeat((int) Math.max(1, Math.round(4 * v) + 2)); // blank and distinct
        });
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        XYSeries s = chart.addSeries("policies", x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setShowInLegend(false);
        boolean line = refName != null && Double.isFinite(ref);
        double level = line ? ref : Arrays.stream(y).filter(Double::isFinite).findFirst().orElse(0);
        XYSeries r = chart.addSeries(line ? refName : "span", new double[] {0, n + 1}, new double[] {level, level});
        r.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        referenceLine(r);
        if (!line) {
            r.setLineColor(new Color(0, 0, 0, 0));
            r.setShowInLegend(false);
        }
        chart.getStyler().setLegendVisible(line);
        return chart;
    }

    private static void style(XYChart chart) {
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        chart.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        chart.getStyler().setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        chart.getStyler().setMarkerSize(8);
    }

    private static void referenceLine(XYSeries s) {
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(Color.GRAY);
        s.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    }

    private static void save(XYChart chart, Path file) throws IOException {
        String name = file.getFileName().toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(chart, file.resolveSibling(base).toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
