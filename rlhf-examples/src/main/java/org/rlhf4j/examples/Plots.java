package org.rlhf4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.rlhf4j.core.io.Json;

/** PNG line plots of training curves (XChart, headless). */
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

    /**
     * Writes one PNG per metric of a metrics file ({@code train/loss} becomes {@code train_loss.png}).
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
            line(f, title + ": " + e.getKey(), "step", Map.of(e.getKey(), e.getValue()));
            written.add(f);
        }
        return written;
    }

    /**
     * Writes a line chart with one or more series.
     *
     * @param file the PNG
     * @param title chart title
     * @param xLabel x-axis label
     * @param series name to (x, y)
     * @throws IOException on failure
     */
    public static void line(Path file, String title, String xLabel, Map<String, double[][]> series) throws IOException {
        XYChart chart = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle(xLabel).build();
        chart.getStyler().setLegendVisible(series.size() > 1);
        chart.getStyler().setMarkerSize(3);
        for (Map.Entry<String, double[][]> s : series.entrySet()) {
            if (s.getValue()[0].length == 0) {
                continue;
            }
            XYSeries xy = chart.addSeries(s.getKey(), s.getValue()[0], s.getValue()[1]);
            xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        String name = file.getFileName().toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(chart, file.resolveSibling(base).toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
