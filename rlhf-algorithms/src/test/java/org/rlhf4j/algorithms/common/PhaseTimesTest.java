package org.rlhf4j.algorithms.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The phase timer of the online-RL trainers, and the invariant every trainer's time/* metrics keep. */
public class PhaseTimesTest {

    /** Slack for generate + score + forward + train ≤ update: the clock reads between phases (seconds). */
    static final double SLACK = 1e-3;

    /**
     * Asserts that a trainer's metrics row has the five time/* metrics, each ≥ 0, the phases summing to at most the
     * update, and that some phase took time.
     *
     * @param row one update's metrics
     */
    public static void assertTimes(Map<String, Double> row) {
        assertThat(row).containsKeys("time/generate", "time/score", "time/forward", "time/train", "time/update");
        double phases = 0;
        for (String k : List.of("time/generate", "time/score", "time/forward", "time/train")) {
            assertThat(row.get(k)).as(k).isGreaterThanOrEqualTo(0.0);
            phases += row.get(k);
        }
        assertThat(row.get("time/generate")).as("time/generate").isGreaterThan(0.0);
        assertThat(row.get("time/train")).as("time/train").isGreaterThan(0.0);
        assertThat(phases).as("generate + score + forward + train vs update %s", row)
                .isLessThanOrEqualTo(row.get("time/update") + SLACK);
    }

    @Test
    void phasesAccumulateAndTheUpdateSpansThem() throws Exception {
        PhaseTimes t = new PhaseTimes();
        long t0 = System.nanoTime();
        Thread.sleep(20);
        t0 = t.add(PhaseTimes.Phase.GENERATE, t0);
        Thread.sleep(10);
        t.add(PhaseTimes.Phase.TRAIN, t0);
        long t1 = System.nanoTime();
        Thread.sleep(10);
        t.add(PhaseTimes.Phase.TRAIN, t1);
        Map<String, Double> m = t.metrics();
        assertThat(m.keySet()).containsExactly("time/generate", "time/score", "time/forward", "time/train",
                "time/update");
        assertThat(m.get("time/generate")).isGreaterThanOrEqualTo(0.020);
        assertThat(m.get("time/train")).isGreaterThanOrEqualTo(0.020); // two intervals summed
        assertThat(m.get("time/score")).isZero();
        assertThat(m.get("time/forward")).isZero();
        assertThat(m.get("time/update")).isGreaterThanOrEqualTo(0.040);
        assertThat(t.seconds(PhaseTimes.Phase.TRAIN)).isCloseTo(m.get("time/train"), within(1e-12));
        assertTimes(m);
    }
}
