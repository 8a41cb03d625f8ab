package org.rlhf4j.core.train;

/**
 * Seed derivation. Each random stream of a run is a pure function of (run seed, step, purpose), so a run resumed at
 * step s draws exactly what the uninterrupted run drew, without saving any engine RNG state.
 */
public final class Seeds {

    private Seeds() {}

    /**
     * Derives a seed with SplitMix64 mixing.
     *
     * @param seed the run seed
     * @param step the step (or any index)
     * @param stream a purpose tag (e.g. 1 = generation, 2 = minibatch shuffling)
     * @return the derived seed
     */
    public static long derive(long seed, long step, long stream) {
        long z = mix(seed ^ 0x9E3779B97F4A7C15L);
        z = mix(z ^ (step * 0xBF58476D1CE4E5B9L));
        return mix(z ^ (stream * 0x94D049BB133111EBL));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
