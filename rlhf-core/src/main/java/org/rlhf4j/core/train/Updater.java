package org.rlhf4j.core.train;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tensor.TensorOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of every training step, in order: global-norm clipping, the non-finite guard, the learning rate of this
 * update, the AdamW update, zeroing the gradients, the weight guard.
 *
 * <p>The non-finite guard: when the loss or the gradient norm is NaN or infinite the update is skipped (gradients
 * zeroed, parameters and optimizer moments untouched) and counted; after {@code maxConsecutiveSkips} skips in a row
 * training stops with an error naming the step, instead of silently drifting.
 *
 * <p>The weight guard: finite gradients can still make non-finite weights (a huge learning rate, an overflow inside
 * the update). After every applied update the parameters are checked ({@link TensorOps#firstNonFinite}: one sum per
 * tensor, one device synchronisation; under 1% of a step) and a non-finite parameter stops training
 * at once with a {@link NonFiniteException} naming the update and the first bad tensor, before any checkpoint of the
 * diverged weights can be written. The check only reads the weights, so a finite run is bit-identical with or
 * without it.
 *
 * <p>With a {@link LossScaler} (fp16 mixed precision) the backward pass runs on {@link #scaleLoss} S·L and the step
 * begins by unscaling the gradients (×1/S, before clipping, as {@code GradScaler.unscale_}). A finite loss whose
 * unscaled gradients are not finite is a float16 overflow: the update is skipped (gradients zeroed, parameters and
 * optimizer moments untouched, the learning-rate schedule does not advance) and S is halved; such a step is counted
 * in {@link LossScaler#overflows()}, not by the non-finite guard, which keeps its meaning (a non-finite loss: the
 * forward itself diverged, which a smaller S cannot fix).
 */
public final class Updater {

    private static final Logger LOG = LoggerFactory.getLogger(Updater.class);

    /**
     * What one call did.
     *
     * @param gradNorm global gradient norm before clipping
     * @param lr the learning rate used (0 when skipped)
     * @param skipped whether the update was skipped by the non-finite guard
     * @param overflow whether the update was skipped because the fp16 gradients overflowed (only with a
     *     {@link LossScaler})
     * @param lossScale the loss scale S used by this step's backward pass (1 without a scaler)
     */
    public record Result(double gradNorm, double lr, boolean skipped, boolean overflow, double lossScale) {

        /**
         * A result without loss scaling.
         *
         * @param gradNorm global gradient norm before clipping
         * @param lr the learning rate used
         * @param skipped whether the non-finite guard skipped the update
         */
        public Result(double gradNorm, double lr, boolean skipped) {
            this(gradNorm, lr, skipped, false, 1.0);
        }
    }

    private final AdamW optimizer;
    private final String name;
    private final LrSchedule schedule;
    private final double maxGradNorm;
    private final int maxConsecutiveSkips;
    private final LossScaler scaler;
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
        this("model", optimizer, schedule, maxGradNorm, maxConsecutiveSkips);
    }

    /**
     * Creates an updater whose errors name the model it updates (e.g. {@code policy}, {@code critic}).
     *
     * @param name the model's role, used in messages
     * @param optimizer the optimizer
     * @param schedule the learning-rate schedule (indexed by the optimizer's step count)
     * @param maxGradNorm clipping threshold; 0 disables
     * @param maxConsecutiveSkips how many non-finite steps in a row are tolerated
     */
    public Updater(String name, AdamW optimizer, LrSchedule schedule, double maxGradNorm, int maxConsecutiveSkips) {
        this(name, optimizer, schedule, maxGradNorm, maxConsecutiveSkips, null);
    }

    /**
     * Creates an updater with dynamic loss scaling (fp16 mixed precision); the scaler's state is saved and loaded
     * with the optimizer's ({@link AdamW#setLossScaler}).
     *
     * @param name the model's role, used in messages
     * @param optimizer the optimizer
     * @param schedule the learning-rate schedule (indexed by the optimizer's step count)
     * @param maxGradNorm clipping threshold; 0 disables
     * @param maxConsecutiveSkips how many non-finite steps in a row are tolerated
     * @param scaler the loss scaler, or null for none
     */
    public Updater(String name, AdamW optimizer, LrSchedule schedule, double maxGradNorm, int maxConsecutiveSkips,
            LossScaler scaler) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank, got '" + name + "'");
        }
        if (maxGradNorm < 0) {
            throw new IllegalArgumentException("maxGradNorm must be >= 0, got " + maxGradNorm);
        }
        if (maxConsecutiveSkips < 0) {
            throw new IllegalArgumentException("maxConsecutiveSkips must be >= 0, got " + maxConsecutiveSkips);
        }
        this.name = name;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
        this.maxConsecutiveSkips = maxConsecutiveSkips;
        this.scaler = scaler;
        if (scaler != null) {
            optimizer.setLossScaler(scaler);
        }
    }

    /**
     * Returns what the backward pass differentiates: S·L with a loss scaler, else {@code loss} itself.
     *
     * @param loss the loss L (or a micro-batch's share of it)
     * @return S·L, or {@code loss}
     */
    public NDArray scaleLoss(NDArray loss) {
        return scaler == null ? loss : scaler.scale(loss);
    }

    /**
     * Returns the loss scaler, or null without fp16 mixed precision.
     *
     * @return the scaler or null
     */
    public LossScaler lossScaler() {
        return scaler;
    }

    /**
     * Clips, guards, updates, zeroes gradients and checks the updated weights. Call after the gradient collector is
     * closed.
     *
     * @param weights the parameters holding gradients
     * @param loss the step's loss (for the guard)
     * @return what happened
     * @throws NonFiniteException after too many consecutive non-finite steps, or at once when the update made a
     *     parameter NaN or infinite (the weights in memory are then unusable; the last checkpoint is intact)
     */
    public Result step(Weights weights, double loss) {
        double lossScale = scaler == null ? 1.0 : scaler.scale();
        if (scaler != null && Double.isFinite(loss)) {
            scaler.unscale(weights);
        }
        double norm = Gradients.clipGlobalNorm(weights, maxGradNorm);
        if (scaler != null && Double.isFinite(loss) && !Double.isFinite(norm)) {
            // GradScaler: found_inf → skip optimizer.step, scale *= backoff
            Gradients.zero(weights);
            LOG.info("fp16 gradient overflow at update {} (loss scale {}): update skipped, scale halved",
                    optimizer.stepCount(), lossScale);
            scaler.update(true, optimizer.stepCount());
            return new Result(norm, 0, false, true, lossScale);
        }
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
            Gradients.zero(weights);
            consecutiveSkips++;
            skippedTotal++;
            LOG.warn("non-finite loss {} or gradient norm {} at update {}: update skipped ({} in a row)", loss, norm,
                    optimizer.stepCount(), consecutiveSkips);
            if (consecutiveSkips > maxConsecutiveSkips) {
                throw new NonFiniteException(
                        "training diverged: " + consecutiveSkips + " consecutive non-finite steps of the " + name
                                + " at update " + optimizer.stepCount() + " (loss " + loss + ", grad norm " + norm
                                + ")");
            }
            return new Result(norm, 0, true, false, lossScale);
        }
        consecutiveSkips = 0;
        if (scaler != null) {
            scaler.update(false, optimizer.stepCount());
        }
        double lr = schedule.lr(optimizer.stepCount());
        optimizer.update(weights, lr);
        Gradients.zero(weights);
        String bad = TensorOps.firstNonFinite(weights.asMap());
        if (bad != null) {
            throw new NonFiniteException("training diverged: " + name + " parameter '" + bad
                    + "' holds NaN or infinity after update " + optimizer.stepCount() + " (lr " + lr
                    + ", grad norm " + norm + "); its weights were not saved");
        }
        return new Result(norm, lr, false, false, lossScale);
    }

    /**
     * Returns the mixed-precision rows of a step's metrics, prefixed by {@code prefix}: {@code loss_scale} (the scale
     * S the next backward pass will use) and {@code overflow_skipped_total} (updates skipped on fp16 overflow since
     * the run began, resumes included); empty without a loss scaler.
     *
     * @param prefix e.g. {@code "train/"}
     * @return the rows, in order
     */
    public Map<String, Double> precisionMetrics(String prefix) {
        Map<String, Double> row = new LinkedHashMap<>();
        if (scaler != null) {
            row.put(prefix + "loss_scale", scaler.scale());
            row.put(prefix + "overflow_skipped_total", (double) scaler.overflows());
        }
        return row;
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
