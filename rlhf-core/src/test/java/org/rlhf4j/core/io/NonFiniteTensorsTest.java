package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rlhf4j.core.TestSupport;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;

/** Non-finite weights are never written and never loaded; the error names the file and the tensor. */
class NonFiniteTensorsTest {

    /** Overwrites one float of a tensor in a safetensors file. */
    static void poke(Path file, String tensor, int index, float value) throws Exception {
        long begin;
        long dataStart;
        try (SafeTensors st = SafeTensors.open(file)) {
            begin = st.entries().get(tensor).begin();
            dataStart = Files.size(file) - st.entries().values().stream().mapToLong(SafeTensors.Entry::end).max()
                    .orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value);
            ch.write(b, dataStart + begin + 4L * index);
        }
    }

    @Test
    void aModelDirectoryWithANanOrInfiniteTensorIsRefusedAtLoadNamingFileAndTensor(@TempDir Path dir)
            throws Exception {
        Path nan = TestSupport.copyDir("parity/gpt2-tiny", dir.resolve("nan"));
        poke(nan.resolve("model.safetensors"), "transformer.h.0.attn.c_attn.weight", 7, Float.NaN);
        Path inf = TestSupport.copyDir("parity/gpt2-tiny", dir.resolve("inf"));
        poke(inf.resolve("model.safetensors"), "transformer.ln_f.bias", 0, Float.NEGATIVE_INFINITY);
        try (NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> CausalLm.load(nan, m)).isInstanceOf(NonFiniteTensorException.class)
                    .hasMessageContaining(nan.resolve("model.safetensors").toString())
                    .hasMessageContaining("tensor 'transformer.h.0.attn.c_attn.weight' holds NaN or infinity")
                    .extracting(e -> ((NonFiniteTensorException) e).tensor())
                    .isEqualTo("transformer.h.0.attn.c_attn.weight");
            assertThatThrownBy(() -> ScalarModel.load(nan, m, 0)).isInstanceOf(NonFiniteTensorException.class)
                    .hasMessageContaining("transformer.h.0.attn.c_attn.weight");
            assertThatThrownBy(() -> CausalLm.load(inf, m)).isInstanceOf(NonFiniteTensorException.class)
                    .hasMessageContaining(inf.resolve("model.safetensors").toString())
                    .hasMessageContaining("'transformer.ln_f.bias'");
            // the untouched copy loads
            try (CausalLm ok = CausalLm.load(TestSupport.resource("parity/gpt2-tiny"), m)) {
                assertThat(ok.weights().count()).isPositive();
            }
        }
    }

    @Test
    void nonFiniteTensorsAreNeverWritten(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("fine", m.create(new float[] {1f, 2f}));
            t.put("bad", m.create(new float[] {1f, Float.POSITIVE_INFINITY}));
            Path file = dir.resolve("w.safetensors");
            assertThatThrownBy(() -> SafeTensors.write(file, t, Map.of()))
                    .isInstanceOf(NonFiniteTensorException.class)
                    .hasMessageContaining("w.safetensors")
                    .hasMessageContaining("tensor 'bad' holds NaN or infinity; refusing to write");
            assertThat(file).doesNotExist();
            t.remove("bad");
            SafeTensors.write(file, t, Map.of());
            try (SafeTensors st = SafeTensors.open(file)) {
                assertThat(st.load("fine", m).toFloatArray()).containsExactly(1f, 2f);
            }
        }
    }
}
