package org.rlhf4j.core.train;

/**
 * Learning-rate schedules: the learning rate for update number {@code step} (0-based).
 */
public sealed interface LrSchedule permits LrSchedule.Constant, LrSchedule.Linear, LrSchedule.Cosine {

    /**
     * Returns the learning rate of an update.
     *
     * @param step 0-based update index
     * @return the learning rate
     */
    double lr(long step);

    /**
     * A constant rate, optionally after a linear warm-up.
     *
     * @param peak the rate
     * @param warmupSteps warm-up updates (rate rises linearly from peak/warmup to peak)
     */
    record Constant(double peak, long warmupSteps) implements LrSchedule {
        /** Validates. */
        public Constant {
            checkPeak(peak);
            checkNonNegative("warmupSteps", warmupSteps);
        }

        @Override
        public double lr(long step) {
            return step < warmupSteps ? peak * (step + 1) / warmupSteps : peak;
        }
    }

    /**
     * Linear warm-up, then linear decay to {@code finalFraction · peak} at {@code totalSteps} (the references' PPO
     * uses no warm-up and decay to 0: lr_t = peak · (1 − t/T)).
     *
     * @param peak peak rate
     * @param warmupSteps warm-up updates
     * @param totalSteps total updates
     * @param finalFraction final rate as a fraction of peak
     */
    record Linear(double peak, long warmupSteps, long totalSteps, double finalFraction) implements LrSchedule {
        /** Validates. */
        public Linear {
            checkPeak(peak);
            checkNonNegative("warmupSteps", warmupSteps);
            if (totalSteps < 1 || totalSteps < warmupSteps) {
                throw new IllegalArgumentException(
                        "totalSteps must be >= max(1, warmupSteps=" + warmupSteps + "), got " + totalSteps);
            }
            if (!(finalFraction >= 0 && finalFraction <= 1)) {
                throw new IllegalArgumentException("finalFraction must be in [0, 1], got " + finalFraction);
            }
        }

        @Override
        public double lr(long step) {
            if (step < warmupSteps) {
                return peak * (step + 1) / warmupSteps;
            }
            long decay = totalSteps - warmupSteps;
            double frac = decay == 0 ? 1 : Math.min(1.0, (double) (step - warmupSteps) / decay);
            return peak * (1 - frac * (1 - finalFraction));
        }
    }

    /**
     * Linear warm-up, then cosine decay to {@code minFraction · peak} at {@code totalSteps}.
     *
     * @param peak peak rate
     * @param warmupSteps warm-up updates
     * @param totalSteps total updates
     * @param minFraction final rate as a fraction of peak
     */
    record Cosine(double peak, long warmupSteps, long totalSteps, double minFraction) implements LrSchedule {
        /** Validates. */
        public Cosine {
            checkPeak(peak);
            checkNonNegative("warmupSteps", warmupSteps);
            if (totalSteps < 1 || totalSteps < warmupSteps) {
                throw new IllegalArgumentException(
                        "totalSteps must be >= max(1, warmupSteps=" + warmupSteps + "), got " + totalSteps);
            }
            if (!(minFraction >= 0 && minFraction <= 1)) {
                throw new IllegalArgumentException("minFraction must be in [0, 1], got " + minFraction);
            }
        }

        @Override
        public double lr(long step) {
            if (step < warmupSteps) {
                return peak * (step + 1) / warmupSteps;
            }
            long decay = totalSteps - warmupSteps;
            double frac = decay == 0 ? 1 : Math.min(1.0, (double) (step - warmupSteps) / decay);
            double cos = 0.5 * (1 + Math.cos(Math.PI * frac));
            return peak * (minFraction + (1 - minFraction) * cos);
        }
    }

    private static void checkPeak(double peak) {
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("learning rate must be > 0 and finite, got " + peak);
        }
    }

    private static void checkNonNegative(String name, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + v);
        }
    }
}
