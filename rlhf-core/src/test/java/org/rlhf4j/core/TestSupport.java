package org.rlhf4j.core;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers shared by the core tests. */
public final class TestSupport {

    private TestSupport() {}

    /**
     * Returns a test resource directory as a path.
     *
     * @param name resource path
     * @return the path
     */
    public static Path resource(String name) {
        URL url = TestSupport.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalArgumentException("no test resource " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Copies a resource directory's files into a fresh temporary directory.
     *
     * @param name resource directory
     * @param target where to copy
     * @return target
     * @throws IOException on failure
     */
    public static Path copyDir(String name, Path target) throws IOException {
        Files.createDirectories(target);
        try (var s = Files.list(resource(name))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try (InputStream in = Files.newInputStream(p)) {
                    Files.copy(in, target.resolve(p.getFileName().toString()));
                }
            }
        }
        return target;
    }
}
