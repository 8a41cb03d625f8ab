package org.rlhf4j.algorithms.grpo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Reads the TRL fixtures written by {@code scripts/trl_grpo_fixture.py} (test resources, no Python needed). */
public final class TrlFixtures {

    private TrlFixtures() {}

    /**
     * Parses a fixture file from {@code trl-fixtures/} on the test class path.
     *
     * @param name file name, e.g. {@code grpo.json}
     * @return the JSON tree
     */
    public static JsonNode load(String name) {
        try (InputStream in = TrlFixtures.class.getResourceAsStream("/trl-fixtures/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource trl-fixtures/" + name);
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns a JSON array of numbers (null = NaN) as doubles. */
    public static double[] doubles(JsonNode n) {
        double[] d = new double[n.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = n.get(i).isNull() ? Double.NaN : n.get(i).asDouble();
        }
        return d;
    }

    /** Returns a JSON array of numbers as floats. */
    public static float[] floats(JsonNode n) {
        float[] f = new float[n.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) n.get(i).asDouble();
        }
        return f;
    }

    /** Returns a JSON matrix of numbers as floats. */
    public static float[][] floats2(JsonNode n) {
        float[][] f = new float[n.size()][];
        for (int i = 0; i < f.length; i++) {
            f[i] = floats(n.get(i));
        }
        return f;
    }

    /** Returns a JSON matrix of integers. */
    public static int[][] ints2(JsonNode n) {
        int[][] a = new int[n.size()][];
        for (int i = 0; i < a.length; i++) {
            a[i] = new int[n.get(i).size()];
            for (int j = 0; j < a[i].length; j++) {
                a[i][j] = n.get(i).get(j).asInt();
            }
        }
        return a;
    }

    /** Returns a metric that TRL may not have logged, null as NaN. */
    public static double metric(JsonNode metrics, String key) {
        JsonNode v = metrics.get(key);
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }
}
