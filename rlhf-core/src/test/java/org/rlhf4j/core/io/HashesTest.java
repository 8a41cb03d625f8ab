package org.rlhf4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashesTest {

    @Test
    void matchesTheStandardVectorsAndStreamsFiles(@TempDir Path dir) throws Exception {
        // FIPS 180-2 test vectors
        assertThat(Hashes.sha256("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(Hashes.sha256(new byte[0]))
                .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        byte[] big = new byte[(1 << 16) * 3 + 17]; // crosses several read blocks
        new Random(1).nextBytes(big);
        Path f = Files.write(dir.resolve("data.bin"), big);
        assertThat(Hashes.sha256(f)).isEqualTo(Hashes.sha256(big));
        Files.write(f, new byte[0]);
        assertThat(Hashes.sha256(f)).isEqualTo(Hashes.sha256(new byte[0]));
    }
}
