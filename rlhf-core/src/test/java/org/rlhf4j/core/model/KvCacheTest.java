package org.rlhf4j.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.rlhf4j.core.model.Gpt2InvariantsTest.maxAbsDiff;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rlhf4j.core.TestSupport;

/**
 * The preallocated KV cache: writes land in place in one buffer per layer and touch only the new positions, attention
 * reads a view (no copy) on which matMul is correct, the capacity is enforced, and a preallocated cache gives the same
 * forwards as the unbounded (concatenating) one on GPT-2, GPT-NeoX and grouped-query / sliding-window Llamas.
 */
class KvCacheTest {

    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    private static NDArray seq(NDManager m, long b, long h, long t, long d, float start) {
        return m.arange(start, start + b * h * t * d, 1f, DataType.FLOAT32).reshape(b, h, t, d);
    }

    @Test
    void writesInPlaceOnlyTheNewPositionsAndReturnsViews() {
        try (NDManager m = manager.newSubManager(); KvCache cache = new KvCache(2, 6)) {
            assertThat(cache.capacity()).isEqualTo(OptionalInt.of(6));
            NDArray k1 = seq(m, 2, 3, 4, 5, 1);
            NDArray v1 = seq(m, 2, 3, 4, 5, 1000);
            NDList first = cache.append(0, k1, v1);
            NDArray keys = cache.keyBuffer(0);
            assertThat(keys.getShape()).isEqualTo(new Shape(2, 3, 6, 5));
            assertThat(first.get(0).getShape()).isEqualTo(new Shape(2, 3, 4, 5));
            assertThat(maxAbsDiff(first.get(0), k1)).isZero();
            assertThat(maxAbsDiff(first.get(1), v1)).isZero();
            // not yet written positions are untouched zeros
            assertThat(keys.get(new NDIndex(":, :, 4:")).abs().sum().getFloat()).isZero();

            // the returned array is a view of the buffer: a write to the buffer shows through it
            keys.set(new NDIndex(":, :, 1:2"), m.full(new Shape(2, 3, 1, 5), -7f));
            assertThat(first.get(0).get(new NDIndex("0, 0, 1, 0")).getFloat()).isEqualTo(-7f);
            keys.set(new NDIndex(":, :, 1:2"), k1.get(new NDIndex(":, :, 1:2")));

            NDArray k2 = seq(m, 2, 3, 1, 5, -50);
            NDList second = cache.append(0, k2, k2.neg());
            // same buffer object (written in place), earlier positions unchanged, one new position, rest untouched
            assertThat(cache.keyBuffer(0)).isSameAs(keys);
            assertThat(maxAbsDiff(keys.get(new NDIndex(":, :, :4")), k1)).isZero();
            assertThat(maxAbsDiff(keys.get(new NDIndex(":, :, 4:5")), k2)).isZero();
            assertThat(keys.get(new NDIndex(":, :, 5:")).abs().sum().getFloat()).isZero();
            assertThat(second.get(0).getShape()).isEqualTo(new Shape(2, 3, 5, 5));
            assertThat(maxAbsDiff(second.get(1).get(new NDIndex(":, :, 4:5")), k2.neg())).isZero();
            // layer 1 is independent and not allocated until written
            assertThat(cache.keyBuffer(1)).isNull();
        }
    }

    @Test
    void matMulOnTheViewEqualsMatMulOnAContiguousCopy() {
        try (NDManager m = manager.newSubManager(); KvCache cache = new KvCache(1, 9)) {
            NDArray k = m.randomNormal(new Shape(2, 2, 5, 4));
            NDArray v = m.randomNormal(new Shape(2, 2, 5, 4));
            NDArray q = m.randomNormal(new Shape(2, 2, 1, 4));
            cache.append(0, k.get(new NDIndex(":, :, :4")), v.get(new NDIndex(":, :, :4")));
            NDList kv = cache.append(0, k.get(new NDIndex(":, :, 4:")), v.get(new NDIndex(":, :, 4:")));
            NDArray viaView = q.matMul(kv.get(0).transpose(0, 1, 3, 2)).softmax(-1).matMul(kv.get(1));
            NDArray viaCopy = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1).matMul(v);
            assertThat(maxAbsDiff(viaView, viaCopy)).isLessThan(1e-6);
        }
    }

    @Test
    void viewsBelongToTheStepAndBuffersSurviveItsScope() {
        try (NDManager m = manager.newSubManager(); KvCache cache = new KvCache(1, 4)) {
            NDArray view;
            try (NDScope scope = new NDScope()) {
                NDArray k = m.ones(new Shape(1, 1, 2, 3));
                view = cache.append(0, k, k).get(0);
            }
            assertThat(view.isReleased()).isTrue();
            NDArray buf = cache.keyBuffer(0);
            assertThat(buf.isReleased()).isFalse();
            assertThat(buf.sum().getFloat()).isEqualTo(6f);
            cache.close();
            assertThat(buf.isReleased()).isTrue();
            assertThat(cache.keyBuffer(0)).isNull();
        }
    }

    @Test
    void rejectsWritesPastTheCapacityAndMismatchedShapes() {
        try (NDManager m = manager.newSubManager(); KvCache cache = new KvCache(3, 5)) {
            NDArray k = m.zeros(new Shape(2, 2, 4, 3));
            cache.append(1, k, k);
            NDArray two = m.zeros(new Shape(2, 2, 2, 3));
            assertThatThrownBy(() -> cache.append(1, two, two))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("KV cache of capacity 5 cannot take 2 new position(s) after 4 at layer 1");
            NDArray otherBatch = m.zeros(new Shape(3, 2, 1, 3));
            assertThatThrownBy(() -> cache.append(1, otherBatch, otherBatch))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("holds keys (2, 2, 5, 3) float32 but got new keys (3, 2, 1, 3) float32");
            NDArray half = m.zeros(new Shape(2, 2, 1, 3), DataType.FLOAT16);
            assertThatThrownBy(() -> cache.append(1, half, half))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("float16");
        }
        assertThatThrownBy(() -> new KvCache(2, 0)).hasMessageContaining("capacity must be >= 1, got 0");
        assertThatThrownBy(() -> new KvCache(0)).hasMessageContaining("numLayers must be >= 1, got 0");
        assertThat(new KvCache(2).capacity()).isEmpty();
    }

    /**
     * Prefill 6 positions (one row left-padded by 3), then 4 one-token steps: the logits of both caches and of the full
     * forward agree; one more position is past the capacity.
     */
    static void preallocatedEqualsUnboundedAndFullForward(CausalLm model, String what) {
        long[][] rows = {{5, 9, 11, 3, 40, 41, 42, 43, 44, 45}, {0, 0, 0, 7, 8, 9, 50, 51, 52, 53}};
        float[][] maskRows = {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1, 1, 1, 1, 1}};
        try (NDManager m = manager.newSubManager();
                KvCache fixed = new KvCache(model.config().numLayers(), 10);
                KvCache unbounded = new KvCache(model.config().numLayers())) {
            NDArray ids = m.create(rows);
            NDArray mask = m.create(maskRows);
            NDArray reference = model.forward(ids, mask);
            int prompt = 6;
            for (int t = 0; t < 10; t = t == 0 ? prompt : t + 1) {
                NDIndex cols = t == 0 ? new NDIndex(":, :" + prompt) : new NDIndex(":, " + t + ":" + (t + 1));
                NDArray a = model.logits(model.hidden(ids.get(cols), mask.get(cols), fixed));
                NDArray b = model.logits(model.hidden(ids.get(cols), mask.get(cols), unbounded));
                assertThat(maxAbsDiff(a, b)).as("%s: preallocated vs unbounded at %d", what, t).isLessThan(1e-6);
                if (t > 0) {
                    NDArray want = reference.get(new NDIndex(":, " + t + ":" + (t + 1) + ", :"));
                    assertThat(maxAbsDiff(a, want)).as("%s: cached vs full forward at %d", what, t).isLessThan(1e-5);
                }
            }
            assertThat(fixed.length()).isEqualTo(10);
            assertThatThrownBy(() -> model.hidden(ids.get(new NDIndex(":, :1")), mask.get(new NDIndex(":, :1")), fixed))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("capacity 10 cannot take 1 new position(s) after 10");
        }
    }

    @Test
    void preallocatedCacheForwardsEqualTheUnboundedCacheAcrossArchitectures() throws Exception {
        try (NDManager m = manager.newSubManager();
                Gpt2 gpt2 = Gpt2.random(Gpt2Config.of(97, 64, 32, 2, 4), m, 3);
                GptNeoX neox = GptNeoX.random(GptNeoXConfig.of(97, 64, 32, 2, 4), m, 3);
                Llama gqa = Llama.random(LlamaConfig.of(LlamaFamily.LLAMA, 97, 64, 32, 2, 4, 2, 48, 1, 2), m, 7);
                CausalLm window = CausalLm.load(TestSupport.resource("llama-parity/mistral-window"), m)) {
            preallocatedEqualsUnboundedAndFullForward(gpt2, "gpt2");
            preallocatedEqualsUnboundedAndFullForward(neox, "gpt_neox");
            preallocatedEqualsUnboundedAndFullForward(gqa, "llama GQA");
            preallocatedEqualsUnboundedAndFullForward(window, "mistral sliding window");
        }
    }
}
