package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.tensor.FusedOps;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * Llama's SiLU (TorchScript {@code F.silu}, decision 0024) and its fallback (the previous z·σ(z) composition) both
 * equal z / (1 + e^−z) evaluated in float64, in value and input gradient.
 */
class FusedSiluTest {

    /** silu(z) = z / (1 + e^−z), written out. */
    private static NDArray formula(NDArray z) {
        return z.div(TensorOps.add(z.neg().exp(), 1));
    }

    @Test
    void theSiluUsedByLlamaEqualsTheFormulaInFloat64() {
        assertThat(FusedOps.available()).isTrue();
        double[] e = FusedGeluTest.errors(Llama::silu, FusedSiluTest::formula);
        System.out.printf("fused silu vs float64: values %.2e, gradients %.2e%n", e[0], e[1]);
        assertThat(e[0]).isLessThan(1e-6);
        assertThat(e[1]).isLessThan(1e-6);
    }

    @Test
    void theFallbackEqualsTheFormulaInFloat64() {
        double[] e = FusedGeluTest.errors(Llama::siluComposed, FusedSiluTest::formula);
        System.out.printf("composed silu vs float64: values %.2e, gradients %.2e%n", e[0], e[1]);
        assertThat(e[0]).isLessThan(1e-6);
        assertThat(e[1]).isLessThan(1e-6);
    }
}
