package org.rlhf4j.datasets.download;

import java.nio.file.Path;
import java.util.Map;

/** Where rlhf4j caches downloaded data: {@code $RLHF4J_CACHE}, else {@code ~/.cache/rlhf4j}. */
public final class CacheDirs {

    /** The environment variable that moves the cache. */
    public static final String ENV = "RLHF4J_CACHE";

    private CacheDirs() {}

    /**
     * Returns the cache directory for this process.
     *
     * @return the directory (not created)
     */
    public static Path defaultRoot() {
        return resolve(System.getenv(), System.getProperty("user.home"));
    }

    /**
     * Returns the cache directory for a given environment.
     *
     * @param env environment variables
     * @param userHome the user's home directory
     * @return {@code env[RLHF4J_CACHE]} if set and not blank, else {@code userHome/.cache/rlhf4j}
     */
    public static Path resolve(Map<String, String> env, String userHome) {
        String v = env.get(ENV);
        if (v != null && !v.isBlank()) {
            return Path.of(v);
        }
        return Path.of(userHome, ".cache", "rlhf4j");
    }
}
