package org.rlhf4j.core.train;

import org.rlhf4j.core.model.Weights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of every training step, in order: global-norm clipping, the non-finite guard, the learning rate of this
 * update, the AdamW update, zeroing the gradients.
 *
 * <p>The guard: when the loss or the gradient norm is NaN or infinite the update is skipped (gradients zeroed,
 * parameters and optimizer moments untouched) and counted; after {@code maxConsecutiveSkips} skips in a row training
 * stops with an error naming the step, instead of silently drifting.
 */
public final class Updater {

    private static final Logger LOG = LoggerFactory.getLogger(Updater.class);

    /**
     * What one call did.
     *
     * @param gradNorm global gradient norm before clipping
     * @param lr the learning rate used (0 when skipped)
     * @param skipped whether the update was skipped by the non-finite guard
     */
    public record Result(double gradNorm, double lr, boolean skipped) {}

    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final double maxGradNorm;
    private final int maxConsecutiveSkips;
    private int consecutiveSkips;
    private long skippedTotal;

    /**
     * Creates an updater.
     *
     * @param optimizer the optimizer
     * @param schedule the learning-rate schedule (indexed by the optimizer's step count)
     * @param maxGradNorm clipping threshold; 0 disables
     * @param maxConsecutiveSkips how many non-finite steps in a row are tolerated
     */
    public Updater(AdamW optimizer, LrSchedule schedule, double maxGradNorm, int maxConsecutiveSkips) {
        if (maxGradNorm < 0) {
            throw new IllegalArgumentException("maxGradNorm must be >= 0, got " + maxGradNorm);
        }
        if (maxConsecutiveSkips < 0) {
            throw new IllegalArgumentException("maxConsecutiveSkips must be >= 0, got " + maxConsecutiveSkips);
        }
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
        this.maxConsecutiveSkips = maxConsecutiveSkips;
    }

    /**
     * Clips, guards, updates and zeroes gradients. Call after the gradient collector is closed.
     *
     * @param weights the parameters holding gradients
     * @param loss the step's loss (for the guard)
     * @return what happened
     * @throws NonFiniteException after too many consecutive non-finite steps
     */
    public Result step(Weights weights, double loss) {
        double norm = Gradients.clipGlobalNorm(weights, maxGradNorm);
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
            Gradients.zero(weights);
            consecutiveSkips++;
            skippedTotal++;
            LOG.warn("non-finite loss {} or gradient norm {} at update {}: update skipped ({} in a row)", loss, norm,
                    optimizer.stepCount(), consecutiveSkips);
            if (consecutiveSkips > maxConsecutiveSkips) {
                throw new NonFiniteException(
                        "training diverged: " + consecutiveSkips + " consecutive non-finite steps at update "
                                + optimizer.stepCount() + " (loss " + loss + ", grad norm " + norm + ")");
            }
            return new Result(norm, 0, true);
        }
        consecutiveSkips = 0;
        double lr = schedule.lr(optimizer.stepCount());
        optimizer.update(weights, lr);
        Gradients.zero(weights);
        return new Result(norm, lr, false);
    }

    /**
     * Returns the number of skipped updates so far.
     *
     * @return count
     */
    public long skippedTotal() {
        return skippedTotal;
    }

    /**
     * Returns the optimizer.
     *
     * @return the optimizer
     */
    public AdamW optimizer() {
        return optimizer;
    }

    /** Thrown when training keeps producing non-finite losses or gradients. */
    public static final class NonFiniteException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /**
         * Creates the exception.
         *
         * @param message what happened, with the step
         */
        public NonFiniteException(String message) {
            super(message);
        }
    }
}
