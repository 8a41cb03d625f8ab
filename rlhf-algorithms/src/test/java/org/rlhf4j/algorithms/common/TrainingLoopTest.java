package org.rlhf4j.algorithms.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.checkpoint.TrainerState;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.io.SaveOptions;
import org.rlhf4j.core.train.MetricsSink;

/**
 * The shared loop with a fake trainee whose state is one number: x ← x·(1 − lr) + Σ indices of the step. Any
 * difference in data order, resume point or restored state shows in x.
 */
class TrainingLoopTest {

    /** The fake trainer's config (field names as the real configs' schedule fields). */
    record FakeConfig(long seed, double lr, int evalSteps, int saveSteps, int saveTotalLimit, int loggingSteps) {}

    /** Thrown by the fake trainee to simulate a kill at a given step. */
    static final class Killed extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    static final class Fake implements TrainingLoop.Trainee {
        final FakeConfig cfg;
        final long killAt;
        double x;
        final List<Long> evaluatedAt = new ArrayList<>();

        Fake(FakeConfig cfg, long killAt) {
            this.cfg = cfg;
            this.killAt = killAt;
        }

        @Override
        public void restore(Path dir, TrainerState state, boolean withOptimizer) throws IOException {
            x = Double.parseDouble(Files.readString(dir.resolve("x.txt")));
            if (withOptimizer) {
                assertThat(dir.resolve("opt.txt")).exists();
            }
        }

        @Override
        public Map<String, Double> step(TrainingLoop.Step step) {
            if (step.step() == killAt) {
                throw new Killed();
            }
            long sum = 0;
            for (int i : step.indices()) {
                sum += i;
            }
            x = x * (1 - cfg.lr()) + sum;
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("x", x);
            row.put("train/epoch", step.epoch());
            return row;
        }

        @Override
        public Map<String, Double> evaluate(long done, TrainingLoop.Logs logs) throws IOException {
            evaluatedAt.add(done);
            logs.eval(Map.of("step", done, "x", x));
            return Map.of("eval/x", x);
        }

        @Override
        public void save(Path dir, boolean withOptimizer, SaveOptions weights) throws IOException {
            Files.writeString(dir.resolve("x.txt"), Double.toString(x));
            if (withOptimizer) {
                Files.writeString(dir.resolve("opt.txt"), "moments");
            }
        }
    }

    private static final FakeConfig CFG = new FakeConfig(7, 0.1, 4, 3, 2, 1);

    private static TrainingLoop.Outcome run(RunDir dir, FakeConfig cfg, Fake fake, long stopAfter, ExistingRun mode,
            MetricsSink sink) throws IOException {
        TrainingLoop.Schedule s = new TrainingLoop.Schedule(10, 4, 13, cfg.loggingSteps(), cfg.evalSteps(),
                cfg.saveSteps(), cfg.saveTotalLimit());
        TestBuilder b = new TestBuilder().optRunDir(dir).optStopAfter(stopAfter).optExistingRun(mode)
                .optMetrics(sink).optDataId("fake:data");
        return new TrainingLoop("fake", cfg.seed(), cfg, s, fake, b).run();
    }

    private static TrainingLoop.Outcome run(RunDir dir, FakeConfig cfg, Fake fake) throws IOException {
        return run(dir, cfg, fake, 0, ExistingRun.CONTINUE_IF_SAME, null);
    }

    static final class TestBuilder extends TrainerBuilder<TestBuilder> {
        @Override
        protected TestBuilder self() {
            return this;
        }
    }

    @Test
    void checkpointsOnScheduleKeepTheLimitAndTheFinalModelHasNoOptimizer(@TempDir Path tmp) throws Exception {
        RunDir dir = new RunDir(tmp.resolve("run"));
        Fake fake = new Fake(CFG, -1);
        TrainingLoop.Outcome o = run(dir, CFG, fake);
        assertThat(o.startStep()).isZero();
        assertThat(o.steps()).isEqualTo(10);
        assertThat(o.rows()).hasSize(10);
        // saved at 3, 6, 9 (save_steps 3); the limit 2 keeps 6 and 9; the end goes to model/
        assertThat(dir.checkpoints()).extracting(RunDir::stepOf).containsExactly(6L, 9L);
        assertThat(dir.model().resolve("x.txt")).exists();
        assertThat(dir.model().resolve("opt.txt")).doesNotExist();
        assertThat(dir.checkpoint(9).resolve("opt.txt")).exists();
        assertThat(TrainerState.read(dir.model()).step()).isEqualTo(10);
        assertThat(TrainerState.read(dir.checkpoint(9)).samplesSeen()).isEqualTo(36);
        assertThat(dir.model().resolve("provenance.json")).exists();
        assertThat(dir.runConfig()).exists();
        // evaluations at 4, 8 (eval_steps 4) and the end
        assertThat(fake.evaluatedAt).containsExactly(4L, 8L, 10L);
        assertThat(Files.readAllLines(dir.eval())).hasSize(3);
        assertThat(Files.readAllLines(dir.metrics())).hasSize(10);
        // a complete run re-run: nothing to do, the final weights restored
        Fake again = new Fake(CFG, -1);
        TrainingLoop.Outcome o2 = run(dir, CFG, again);
        assertThat(o2.startStep()).isEqualTo(10);
        assertThat(o2.rows()).isEmpty();
        assertThat(again.x).isEqualTo(fake.x);
    }

    @Test
    void aKilledRunResumesFromItsLatestCheckpointExactly(@TempDir Path tmp) throws Exception {
        Fake whole = new Fake(CFG, -1);
        RunDir a = new RunDir(tmp.resolve("a"));
        List<Map<String, Double>> rows = run(a, CFG, whole).rows();

        RunDir b = new RunDir(tmp.resolve("b"));
        assertThatThrownBy(() -> run(b, CFG, new Fake(CFG, 7))).isInstanceOf(Killed.class);
        // killed during update 8 (step index 7): checkpoints 3 and 6 exist, metrics hold steps 1..7
        assertThat(b.checkpoints()).extracting(RunDir::stepOf).containsExactly(3L, 6L);
        assertThat(Files.readAllLines(b.metrics())).hasSize(7);
        // a torn last line, as a kill in the middle of an append leaves it
        Files.writeString(b.metrics(), "{\"step\": 8, \"x\": 12", StandardOpenOption.APPEND);
        Fake resumed = new Fake(CFG, -1);
        TrainingLoop.Outcome o = run(b, CFG, resumed);
        assertThat(o.startStep()).isEqualTo(6);
        assertThat(resumed.x).isEqualTo(whole.x); // bit-identical state
        assertThat(o.rows()).isEqualTo(rows.subList(6, 10));
        // the metrics file describes one trajectory, equal to the uninterrupted run's
        assertThat(Files.readAllLines(b.metrics())).isEqualTo(Files.readAllLines(a.metrics()));
        assertThat(Files.readAllLines(b.eval())).isEqualTo(Files.readAllLines(a.eval()));
        assertThat(Files.readString(b.model().resolve("x.txt"))).isEqualTo(Files.readString(a.model().resolve("x.txt")));
    }

    @Test
    void aRunWithAnotherConfigFailsNamingTheFieldUnlessResumedOrOverwritten(@TempDir Path tmp) throws Exception {
        RunDir dir = new RunDir(tmp.resolve("run"));
        run(dir, CFG, new Fake(CFG, -1), 4, ExistingRun.CONTINUE_IF_SAME, null);
        FakeConfig otherLr = new FakeConfig(7, 0.2, 4, 3, 2, 1);
        assertThatThrownBy(() -> run(dir, otherLr, new Fake(otherLr, -1)))
                .isInstanceOf(RunConfigMismatchException.class)
                .hasMessageContaining("config.lr 0.1 -> 0.2")
                .hasMessageContaining("--resume").hasMessageContaining("--overwrite");
        // resume: the lr still cannot differ (it changes the trajectory)
        assertThatThrownBy(() -> run(dir, otherLr, new Fake(otherLr, -1), 0, ExistingRun.RESUME, null))
                .isInstanceOf(RunConfigMismatchException.class).hasMessageContaining("config.lr");
        // resume: schedules may differ
        FakeConfig otherSchedule = new FakeConfig(7, 0.1, 5, 2, 0, 2);
        assertThatThrownBy(() -> run(dir, otherSchedule, new Fake(otherSchedule, -1)))
                .hasMessageContaining("config.evalSteps 4 -> 5");
        Fake resumed = new Fake(otherSchedule, -1);
        assertThat(run(dir, otherSchedule, resumed, 0, ExistingRun.RESUME, null).startStep()).isEqualTo(4);
        Fake whole = new Fake(CFG, -1);
        run(new RunDir(tmp.resolve("whole")), CFG, whole);
        assertThat(resumed.x).isEqualTo(whole.x);
        // overwrite: starts from scratch with the new config
        Fake fresh = new Fake(otherLr, -1);
        assertThat(run(dir, otherLr, fresh, 0, ExistingRun.OVERWRITE, null).startStep()).isZero();
        assertThat(RunConfig.read(dir.runConfig()).config().get("lr").asDouble()).isEqualTo(0.2);
        assertThat(Files.readAllLines(dir.metrics())).hasSize(10);
    }

    @Test
    void theScheduleIsTrajectoryNeutralNestedOrFlatAndNothingElse() {
        record Nested(double lr, TrainingSchedule schedule) {}
        record Drpo(Nested ppo, double betaMix) {}
        RunConfig saved = RunConfig.of("ppo", 7, new Drpo(new Nested(0.1, TrainingSchedule.of(4, 3)), 1.0), null, null);
        RunConfig current = RunConfig.of("ppo", 7, new Drpo(new Nested(0.1, new TrainingSchedule(5, 2, 0, 2)), 1.0),
                null, null);
        assertThat(current.differences(saved)).extracting(RunConfig.Difference::field).containsExactly(
                "config.ppo.schedule.evalSteps", "config.ppo.schedule.saveSteps", "config.ppo.schedule.saveTotalLimit",
                "config.ppo.schedule.loggingSteps");
        assertThat(current.differences(saved)).allMatch(RunConfig.Difference::trajectoryNeutral);
        assertThat(TrainingLoop.Schedule.of(10, 4, 13, new TrainingSchedule(5, 2, 0, 3)))
                .isEqualTo(new TrainingLoop.Schedule(10, 4, 13, 3, 5, 2, 0));
        // flat names at a config root (FakeConfig, run_config.json from before TrainingSchedule), the whole schedule
        // where only one side has it; elsewhere the same names are not neutral
        for (String f : new String[] {"config.schedule.evalSteps", "config.loggingSteps", "config.ppo.saveSteps",
                "config.schedule", "config.ppo.schedule", "config.numSamples", "config.sampleMaxTokens"}) {
            assertThat(RunConfig.isTrajectoryNeutral(f)).as(f).isTrue();
        }
        for (String f : new String[] {"config.lr", "config.optimizer.warmupSteps", "config.optimizer.schedule",
                "config.reward.evalSteps", "evalSteps", "seed", "config.ppo.numSamples"}) {
            assertThat(RunConfig.isTrajectoryNeutral(f)).as(f).isFalse();
        }
    }

    @Test
    void loggingStepsThinTheMetricsButKeepEvaluationsAndTheEnd(@TempDir Path tmp) throws Exception {
        FakeConfig cfg = new FakeConfig(7, 0.1, 4, 0, 0, 3);
        MetricsSink.InMemory sink = MetricsSink.inMemory();
        TrainingLoop.Outcome o = run(new RunDir(tmp.resolve("r")), cfg, new Fake(cfg, -1), 0,
                ExistingRun.CONTINUE_IF_SAME, sink);
        assertThat(o.rows()).hasSize(10);
        assertThat(sink.series("step")).containsExactly(3, 4, 6, 8, 9, 10);
    }

    @Test
    void aMalformedLineBeforeTheLastIsAnErrorNamingFileAndLine(@TempDir Path tmp) throws Exception {
        RunDir dir = new RunDir(tmp.resolve("run"));
        run(dir, CFG, new Fake(CFG, -1), 4, ExistingRun.CONTINUE_IF_SAME, null);
        List<String> lines = new ArrayList<>(Files.readAllLines(dir.metrics(), StandardCharsets.UTF_8));
        lines.set(1, "garbage");
        Files.write(dir.metrics(), lines);
        assertThatThrownBy(() -> run(dir, CFG, new Fake(CFG, -1))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("metrics.jsonl").hasMessageContaining("line 2");
        // nothing was lost: the file is as it was
        assertThat(Files.readAllLines(dir.metrics())).isEqualTo(lines);
    }
}
