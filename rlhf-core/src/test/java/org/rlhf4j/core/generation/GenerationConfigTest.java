package org.rlhf4j.core.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The named factories and the builder give the values the positional constructor calls gave (written out in record
 * order), {@code toBuilder()} round-trips, and errors name the field.
 */
class GenerationConfigTest {

    static List<Object> values(GenerationConfig c) {
        return Arrays.asList(c.maxNewTokens(), c.minNewTokens(), c.temperature(), c.topK(), c.topP(),
                c.eosMode(), c.eosTokenId(), c.padTokenId(), c.useKvCache());
    }

    @Test
    void factoriesGiveTheFormerPositionalValues() {
        assertThat(values(GenerationConfig.sampling(12, 7)))
                .containsExactly(12, 0, 1.0, 0, 1.0, EosMode.STOP, 7, 7, true);
        assertThat(values(GenerationConfig.greedy(53, 7)))
                .containsExactly(53, 0, 0.0, 0, 1.0, EosMode.STOP, 7, 7, true);
        assertThat(GenerationConfig.greedy(53, 7).greedy()).isTrue();
        assertThat(values(GenerationConfig.rollout(53, 7)))
                .containsExactly(53, 0, 0.7, 0, 1.0, EosMode.FIXED_LENGTH_THEN_TRUNCATE, 7, 7, true);
        assertThat(GenerationConfig.builder(12, 7).build()).isEqualTo(GenerationConfig.sampling(12, 7));
    }

    @Test
    void builderSetsEveryFieldAndToBuilderRoundTrips() {
        GenerationConfig c = GenerationConfig.builder(1, 2).setMaxNewTokens(20).setMinNewTokens(3).setTemperature(0.5)
                .setTopK(40).setTopP(0.9).setEosMode(EosMode.FIXED_LENGTH_THEN_TRUNCATE).setEosTokenId(5)
                .setPadTokenId(0).setUseKvCache(false).build();
        assertThat(values(c)).containsExactly(20, 3, 0.5, 40, 0.9, EosMode.FIXED_LENGTH_THEN_TRUNCATE, 5, 0, false);
        assertThat(c.toBuilder().build()).isEqualTo(c).isNotSameAs(c);
        assertThat(c.withTemperature(0.0)).isEqualTo(c.toBuilder().setTemperature(0.0).build());
        assertThat(c.withTopKTopP(0, 1.0)).isEqualTo(c.toBuilder().setTopK(0).setTopP(1.0).build());
        assertThat(c.withKvCache(true)).isEqualTo(c.toBuilder().setUseKvCache(true).build());
    }

    @Test
    void errorsNameTheField() {
        GenerationConfig.Builder b = GenerationConfig.sampling(8, 1).toBuilder();
        assertThatThrownBy(() -> b.setMaxNewTokens(0).build()).hasMessageContaining("maxNewTokens")
                .hasMessageContaining("0");
        b.setMaxNewTokens(8);
        assertThatThrownBy(() -> b.setMinNewTokens(9).build()).hasMessageContaining("minNewTokens")
                .hasMessageContaining("9");
        b.setMinNewTokens(0);
        assertThatThrownBy(() -> b.setTemperature(-1).build()).hasMessageContaining("temperature")
                .hasMessageContaining("-1.0");
        b.setTemperature(1);
        assertThatThrownBy(() -> b.setTopK(-2).build()).hasMessageContaining("topK").hasMessageContaining("-2");
        b.setTopK(0);
        assertThatThrownBy(() -> b.setTopP(1.5).build()).hasMessageContaining("topP").hasMessageContaining("1.5");
        b.setTopP(1);
        assertThatThrownBy(() -> b.setEosMode(null).build()).hasMessageContaining("eosMode");
        b.setEosMode(EosMode.STOP);
        assertThatThrownBy(() -> b.setEosTokenId(-3).build()).hasMessageContaining("eosTokenId")
                .hasMessageContaining("-3");
        b.setEosTokenId(1);
        assertThatThrownBy(() -> b.setPadTokenId(-4).build()).hasMessageContaining("padTokenId")
                .hasMessageContaining("-4");
        assertThat(b.setPadTokenId(1).build()).isEqualTo(GenerationConfig.sampling(8, 1));
    }
}
