package org.rlhf4j.algorithms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.OptimizerConfig.Schedule;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.dpo.DpoConfig;
import org.rlhf4j.algorithms.dpo.DpoLossType;
import org.rlhf4j.algorithms.drpo.DrpoConfig;
import org.rlhf4j.algorithms.drpo.ResetSource;
import org.rlhf4j.algorithms.ppo.AdaptiveKl;
import org.rlhf4j.algorithms.ppo.KlEstimator;
import org.rlhf4j.algorithms.ppo.PpoConfig;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.sft.SftConfig;
import org.rlhf4j.core.io.Json;

/**
 * The trainer configs' builders: the defaults are the values the positional {@code references()} /
 * {@code defaults()} passed before the builders existed (written out field by field, in record order; the four
 * schedule fields, once flat in every config, are now its {@link TrainingSchedule}),
 * {@code toBuilder()} round-trips, the constructor's errors name the field and the bad value, and Jackson still
 * serialises exactly the record components (provenance).
 */
class ConfigBuildersTest {

    /** Returns the record's components by name, in declaration order. */
    static Map<String, Object> components(Record r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            try {
                m.put(c.getName(), c.getAccessor().invoke(r));
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        return m;
    }

    /** Checks that Jackson writes exactly the record components (no builder, no derived values). */
    static void serialisesItsComponents(Record r) {
        JsonNode tree = Json.MAPPER.valueToTree(r);
        List<String> names = new ArrayList<>();
        tree.fieldNames().forEachRemaining(names::add);
        // OptimizerConfig.fp16 is written only when true (@JsonInclude NON_DEFAULT), so run directories written
        // before it existed still resume with equal settings
        assertThat(names).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(r.getClass().getRecordComponents()).map(RecordComponent::getName)
                        .filter(n -> !(r instanceof OptimizerConfig o && n.equals("fp16") && !o.fp16()))
                        .toList());
    }

    /** Checks that a build fails with a message naming the field and the value. */
    static void rejects(Supplier<Object> build, String field, String value) {
        assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(field).hasMessageContaining(value);
    }

    /** The old {@code OptimizerConfig.references(lr, schedule)}: (lr, schedule, 0, 0.0, 0.9, 0.999, 1e-5, 1.0, 3), fp16 off. */
    static void isReferencesOptimizer(OptimizerConfig o, double lr, Schedule schedule) {
        assertThat(components(o)).containsExactly(
                entry("learningRate", lr),
                entry("schedule", schedule),
                entry("warmupSteps", 0L),
                entry("weightDecay", 0.0),
                entry("beta1", 0.9),
                entry("beta2", 0.999),
                entry("eps", 1e-5),
                entry("maxGradNorm", 1.0),
                entry("maxConsecutiveNonFinite", 3),
                entry("fp16", false));
    }

    /** The old positional {@code PpoConfig.references()}, with whitenRewards as given. */
    static void isReferencesPpo(PpoConfig c, boolean whitenRewards) {
        isReferencesOptimizer(c.optimizer(), 3e-6, Schedule.LINEAR);
        Map<String, Object> m = components(c);
        m.remove("optimizer");
        assertThat(m).containsExactly(
                entry("seed", 1L),
                entry("totalEpisodes", 1_000_000L),
                entry("batchSize", 512),
                entry("numMiniBatches", 1),
                entry("microBatchSize", 64),
                entry("ppoEpochs", 4),
                entry("responseLength", 53),
                entry("temperature", 0.7),
                entry("klCoef", 0.05),
                entry("adaptiveKl", null),
                entry("klEstimator", KlEstimator.K1),
                entry("whitenRewards", whitenRewards),
                entry("whitenAdvantages", true),
                entry("gamma", 1.0),
                entry("lambda", 0.95),
                entry("clipRange", 0.2),
                entry("clipRangeValue", 0.2),
                entry("vfCoef", 0.1),
                entry("entCoef", 0.0),
                entry("noEosScore", -1.0),
                entry("schedule", new TrainingSchedule(100, 100, 2, 1)));
    }

    /** A non-default schedule: (evalSteps 7, saveSteps 11, saveTotalLimit 0, loggingSteps 5). */
    static final TrainingSchedule SCHEDULE = new TrainingSchedule(7, 11, 0, 5);

    @Test
    void trainingSchedule() {
        TrainingSchedule d = TrainingSchedule.builder().build();
        assertThat(components(d)).containsExactly(entry("evalSteps", 100), entry("saveSteps", 100),
                entry("saveTotalLimit", 2), entry("loggingSteps", 1));
        assertThat(TrainingSchedule.of(200, 0)).isEqualTo(new TrainingSchedule(200, 0, 2, 1));
        TrainingSchedule c = d.toBuilder().setEvalSteps(7).setSaveSteps(11).setSaveTotalLimit(0).setLoggingSteps(5)
                .build();
        assertThat(c).isEqualTo(SCHEDULE);
        assertThat(c.toBuilder().build()).isEqualTo(c).isNotSameAs(c);
        serialisesItsComponents(c);

        rejects(() -> d.toBuilder().setEvalSteps(-1).build(), "evalSteps", "-1");
        rejects(() -> d.toBuilder().setSaveSteps(-2).build(), "saveSteps", "-2");
        rejects(() -> d.toBuilder().setSaveTotalLimit(-3).build(), "saveTotalLimit", "-3");
        rejects(() -> d.toBuilder().setLoggingSteps(0).build(), "loggingSteps", "0");
    }

    @Test
    void optimizerConfig() {
        isReferencesOptimizer(OptimizerConfig.builder().build(), 3e-6, Schedule.LINEAR);
        isReferencesOptimizer(OptimizerConfig.references(1e-4, Schedule.COSINE), 1e-4, Schedule.COSINE);
        OptimizerConfig o = OptimizerConfig.builder().setLearningRate(2e-3).setSchedule(Schedule.CONSTANT)
                .setWarmupSteps(7).setWeightDecay(0.01).setBeta1(0.8).setBeta2(0.99).setEps(1e-8).setMaxGradNorm(0.5)
                .setMaxConsecutiveNonFinite(0).setFp16(true).build();
        assertThat(components(o)).containsExactly(entry("learningRate", 2e-3), entry("schedule", Schedule.CONSTANT),
                entry("warmupSteps", 7L), entry("weightDecay", 0.01), entry("beta1", 0.8), entry("beta2", 0.99),
                entry("eps", 1e-8), entry("maxGradNorm", 0.5), entry("maxConsecutiveNonFinite", 0),
                entry("fp16", true));
        assertThat(o.toBuilder().build()).isEqualTo(o).isNotSameAs(o);
        assertThat(o.withLearningRate(5e-5)).isEqualTo(o.toBuilder().setLearningRate(5e-5).build());
        serialisesItsComponents(o);

        rejects(() -> o.toBuilder().setLearningRate(0).build(), "learningRate", "0.0");
        rejects(() -> o.toBuilder().setSchedule(null).build(), "schedule", "null");
        rejects(() -> o.toBuilder().setWarmupSteps(-2).build(), "warmupSteps", "-2");
        rejects(() -> o.toBuilder().setWeightDecay(-0.5).build(), "weightDecay", "-0.5");
        rejects(() -> o.toBuilder().setBeta1(1.0).build(), "beta1", "1.0");
        rejects(() -> o.toBuilder().setBeta2(-0.1).build(), "beta2", "-0.1");
        rejects(() -> o.toBuilder().setEps(0).build(), "eps", "0.0");
        rejects(() -> o.toBuilder().setMaxGradNorm(-1).build(), "maxGradNorm", "-1.0");
        rejects(() -> o.toBuilder().setMaxConsecutiveNonFinite(-3).build(), "maxConsecutiveNonFinite", "-3");
    }

    @Test
    void sftConfig() {
        SftConfig d = SftConfig.builder().build();
        assertThat(SftConfig.references()).isEqualTo(d);
        isReferencesOptimizer(d.optimizer(), 3e-6, Schedule.COSINE);
        Map<String, Object> m = components(d);
        m.remove("optimizer");
        // positional before: (1, references(3e-6, COSINE), 128, 16, 1.0, 200, 200, 4, 53)
        assertThat(m).containsExactly(entry("seed", 1L), entry("batchSize", 128), entry("microBatchSize", 16),
                entry("epochs", 1.0), entry("schedule", new TrainingSchedule(200, 200, 2, 1)), entry("numSamples", 4),
                entry("sampleMaxTokens", 53));
        SftConfig c = d.toBuilder().setSeed(9).setOptimizer(OptimizerConfig.references(1e-4, Schedule.LINEAR))
                .setBatchSize(12).setMicroBatchSize(3).setEpochs(2.5).setSchedule(SCHEDULE)
                .setNumSamples(0).setSampleMaxTokens(9).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(components(c).values()).containsExactly(9L, OptimizerConfig.references(1e-4, Schedule.LINEAR), 12, 3,
                2.5, SCHEDULE, 0, 9);
        serialisesItsComponents(c);

        rejects(() -> d.toBuilder().setOptimizer(null).build(), "optimizer", "null");
        rejects(() -> d.toBuilder().setBatchSize(20).setMicroBatchSize(8).build(), "batchSize", "20");
        rejects(() -> d.toBuilder().setEpochs(0).build(), "epochs", "0.0");
        rejects(() -> d.toBuilder().setSchedule(null).build(), "schedule", "null");
        rejects(() -> d.toBuilder().setNumSamples(-4).build(), "numSamples", "-4");
        rejects(() -> d.toBuilder().setSampleMaxTokens(0).build(), "sampleMaxTokens", "0");
    }

    @Test
    void rewardConfig() {
        RewardConfig d = RewardConfig.builder().build();
        assertThat(RewardConfig.references()).isEqualTo(d);
        isReferencesOptimizer(d.optimizer(), 3e-6, Schedule.COSINE);
        Map<String, Object> m = components(d);
        m.remove("optimizer");
        // positional before: (1, references(3e-6, COSINE), 64, 8, 1.0, 0.0, 200, 200, true)
        assertThat(m).containsExactly(entry("seed", 1L), entry("batchSize", 64), entry("microBatchSize", 8),
                entry("epochs", 1.0), entry("centerRewardsCoefficient", 0.0),
                entry("schedule", new TrainingSchedule(200, 200, 2, 1)), entry("normalizeOnReferences", true));
        RewardConfig c = d.toBuilder().setSeed(9).setOptimizer(OptimizerConfig.references(1e-4, Schedule.LINEAR))
                .setBatchSize(12).setMicroBatchSize(3).setEpochs(2.5).setCenterRewardsCoefficient(0.01)
                .setSchedule(SCHEDULE).setNormalizeOnReferences(false).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(components(c).values()).containsExactly(9L, OptimizerConfig.references(1e-4, Schedule.LINEAR), 12, 3,
                2.5, 0.01, SCHEDULE, false);
        serialisesItsComponents(c);

        rejects(() -> d.toBuilder().setOptimizer(null).build(), "optimizer", "null");
        rejects(() -> d.toBuilder().setBatchSize(20).setMicroBatchSize(8).build(), "batchSize", "20");
        rejects(() -> d.toBuilder().setEpochs(-1).build(), "epochs", "-1.0");
        rejects(() -> d.toBuilder().setCenterRewardsCoefficient(-0.5).build(), "centerRewardsCoefficient", "-0.5");
        rejects(() -> d.toBuilder().setSchedule(null).build(), "schedule", "null");
    }

    @Test
    void dpoConfig() {
        DpoConfig d = DpoConfig.builder().build();
        assertThat(DpoConfig.defaults()).isEqualTo(d);
        isReferencesOptimizer(d.optimizer(), 1e-6, Schedule.LINEAR);
        Map<String, Object> m = components(d);
        m.remove("optimizer");
        // positional before: (1, references(1e-6, LINEAR), 0.1, SIGMOID, 0.0, 64, 8, 1.0, 100, 100, true)
        assertThat(m).containsExactly(entry("seed", 1L), entry("beta", 0.1), entry("lossType", DpoLossType.SIGMOID),
                entry("labelSmoothing", 0.0), entry("batchSize", 64), entry("microBatchSize", 8), entry("epochs", 1.0),
                entry("schedule", new TrainingSchedule(100, 100, 2, 1)), entry("precomputeReferenceLogprobs", true));
        DpoConfig c = d.toBuilder().setSeed(9).setOptimizer(OptimizerConfig.references(1e-4, Schedule.COSINE))
                .setBeta(0.05).setLossType(DpoLossType.ROBUST).setLabelSmoothing(0.1).setBatchSize(12)
                .setMicroBatchSize(3).setEpochs(2.5).setSchedule(SCHEDULE)
                .setPrecomputeReferenceLogprobs(false).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(components(c).values()).containsExactly(9L, OptimizerConfig.references(1e-4, Schedule.COSINE), 0.05,
                DpoLossType.ROBUST, 0.1, 12, 3, 2.5, SCHEDULE, false);
        serialisesItsComponents(c);
        // the convenience copies change only their fields
        assertThat(d.withBatch(4, 2)).isEqualTo(d.toBuilder().setBatchSize(4).setMicroBatchSize(2).build());
        assertThat(d.withEpochs(3)).isEqualTo(d.toBuilder().setEpochs(3).build());
        assertThat(d.withSeed(5)).isEqualTo(d.toBuilder().setSeed(5).build());
        assertThat(d.withLoss(0.2, DpoLossType.IPO, 0)).isEqualTo(
                d.toBuilder().setBeta(0.2).setLossType(DpoLossType.IPO).setLabelSmoothing(0).build());
        assertThat(d.withPrecomputeReferenceLogprobs(false))
                .isEqualTo(d.toBuilder().setPrecomputeReferenceLogprobs(false).build());

        rejects(() -> d.toBuilder().setOptimizer(null).build(), "optimizer", "null");
        rejects(() -> d.toBuilder().setBeta(-0.5).build(), "beta", "-0.5");
        rejects(() -> d.toBuilder().setLossType(null).build(), "lossType", "null");
        rejects(() -> d.toBuilder().setLabelSmoothing(0.7).build(), "labelSmoothing", "0.7");
        rejects(() -> d.toBuilder().setBatchSize(20).setMicroBatchSize(8).build(), "batchSize", "20");
        rejects(() -> d.toBuilder().setEpochs(0).build(), "epochs", "0.0");
        rejects(() -> d.toBuilder().setSchedule(null).build(), "schedule", "null");
    }

    @Test
    void ppoConfig() {
        PpoConfig d = PpoConfig.builder().build();
        assertThat(PpoConfig.references()).isEqualTo(d);
        isReferencesPpo(d, false);
        AdaptiveKl kl = new AdaptiveKl(6.0, 10000);
        PpoConfig c = d.toBuilder().setSeed(9).setOptimizer(OptimizerConfig.references(1e-4, Schedule.COSINE))
                .setTotalEpisodes(240).setBatchSize(16).setNumMiniBatches(2).setMicroBatchSize(4).setPpoEpochs(2)
                .setResponseLength(8).setTemperature(1.0).setKlCoef(0.1).setAdaptiveKl(kl)
                .setKlEstimator(KlEstimator.K3).setWhitenRewards(true).setWhitenAdvantages(false).setGamma(0.99)
                .setLambda(1.0).setClipRange(0.1).setClipRangeValue(0.3).setVfCoef(0.5).setEntCoef(0.01)
                .setNoEosScore(null).setSchedule(SCHEDULE).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(components(c).values()).containsExactly(9L, OptimizerConfig.references(1e-4, Schedule.COSINE), 240L,
                16, 2, 4, 2, 8, 1.0, 0.1, kl, KlEstimator.K3, true, false, 0.99, 1.0, 0.1, 0.3, 0.5, 0.01, null,
                SCHEDULE);
        serialisesItsComponents(c);
        assertThat(d.withBatches(64, 16, 4, 2)).isEqualTo(d.toBuilder().setTotalEpisodes(64).setBatchSize(16)
                .setNumMiniBatches(4).setMicroBatchSize(2).build());

        rejects(() -> d.toBuilder().setTotalEpisodes(0).build(), "totalEpisodes", "0");
        rejects(() -> d.toBuilder().setBatchSize(10).setNumMiniBatches(4).build(), "numMiniBatches", "4");
        rejects(() -> d.toBuilder().setMicroBatchSize(48).build(), "microBatchSize", "48");
        rejects(() -> d.toBuilder().setTemperature(0).build(), "temperature", "0.0");
        rejects(() -> d.toBuilder().setKlCoef(-1).build(), "klCoef", "-1.0");
        rejects(() -> d.toBuilder().setSchedule(null).build(), "schedule", "null");
    }

    @Test
    void drpoConfig() {
        DrpoConfig d = DrpoConfig.builder().build();
        assertThat(DrpoConfig.references()).isEqualTo(d);
        // positional before: (PpoConfig.references() with whitenRewards = true, 1.0, REFERENCE_SUMMARY)
        isReferencesPpo(d.ppo(), true);
        assertThat(d.betaMix()).isEqualTo(1.0);
        assertThat(d.resetSource()).isEqualTo(ResetSource.REFERENCE_SUMMARY);
        PpoConfig p = PpoConfig.references().withBatches(64, 16, 4, 2);
        assertThat(DrpoConfig.of(p)).isEqualTo(d.toBuilder().setPpo(p).build());
        DrpoConfig c = d.toBuilder().setPpo(p).setBetaMix(0.25).setResetSource(ResetSource.PREFERRED_RESPONSE).build();
        assertThat(components(c).values()).containsExactly(p, 0.25, ResetSource.PREFERRED_RESPONSE);
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(d.withBetaMix(0.25).withPpo(p)).isEqualTo(c.toBuilder().setResetSource(d.resetSource()).build());
        serialisesItsComponents(c);

        rejects(() -> d.toBuilder().setPpo(null).build(), "ppo", "null");
        rejects(() -> d.toBuilder().setBetaMix(1.5).build(), "betaMix", "1.5");
        rejects(() -> d.toBuilder().setResetSource(null).build(), "resetSource", "null");
    }
}
