package org.rlhf4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;
import org.rlhf4j.core.model.Weights;
import org.rlhf4j.core.tensor.TensorOps;

/**
 * Dynamic loss scaling for fp16 mixed precision, with the semantics of {@code torch.amp.GradScaler}
 * ({@code torch/amp/grad_scaler.py}, {@code torch._amp_update_scale_}).
 *
 * <p>The backward pass runs on S·L instead of L, so that float16 gradients of small magnitude do not flush to zero;
 * before clipping the gradients are multiplied by 1/S ({@link #unscale}). With S a power of two (the defaults keep it
 * one) both multiplications are exact: the unscaled gradients equal the gradients of L bit for bit unless a float16
 * intermediate overflowed or underflowed. After each step {@link #update}:
 * <ul>
 *   <li>an overflow (a non-finite gradient after unscaling): the update is skipped by the caller and S ← S·backoff,
 *       the growth tracker resets to 0;</li>
 *   <li>a finite step: tracker ← tracker + 1; when it reaches {@code growthInterval}, S ← S·growth (kept unchanged
 *       if S·growth would exceed the float32 range, as torch does) and the tracker resets to 0.</li>
 * </ul>
 * Defaults are torch's: S₀ = 2¹⁶, growth 2, backoff 0.5, interval 2000. Unlike torch, S has a floor
 * ({@link #DEFAULT_MIN_SCALE} = 2⁻²⁴, the smallest float16 subnormal): when an overflow would take S below it,
 * {@link #update} throws a {@link Updater.NonFiniteException}, because the gradients overflow float16 even when the
 * loss is scaled down ~2⁴⁰-fold from S₀ (40 overflows in a row) — the run has diverged, scaling cannot help.
 */
public final class LossScaler {

    /** torch's {@code init_scale}: 2¹⁶. */
    public static final double DEFAULT_INIT_SCALE = 65536.0;
    /** torch's {@code growth_factor}. */
    public static final double DEFAULT_GROWTH_FACTOR = 2.0;
    /** torch's {@code backoff_factor}. */
    public static final double DEFAULT_BACKOFF_FACTOR = 0.5;
    /** torch's {@code growth_interval}. */
    public static final int DEFAULT_GROWTH_INTERVAL = 2000;
    /** The floor of the scale: 2⁻²⁴, the smallest positive float16 (subnormal). */
    public static final double DEFAULT_MIN_SCALE = 0x1p-24;

    /**
     * The scaler's state, saved with the optimizer so that a resumed run continues exactly.
     *
     * @param scale the current scale S
     * @param growthTracker finite steps since the last growth or overflow
     * @param overflows overflowing (skipped) steps so far
     */
    public record State(double scale, int growthTracker, long overflows) {

        /** Validates. */
        public State {
            if (!(scale > 0) || Double.isInfinite(scale)) {
                throw new IllegalArgumentException("scale must be > 0 and finite, got " + scale);
            }
            if (growthTracker < 0) {
                throw new IllegalArgumentException("growthTracker must be >= 0, got " + growthTracker);
            }
            if (overflows < 0) {
                throw new IllegalArgumentException("overflows must be >= 0, got " + overflows);
            }
        }
    }

    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private final double minScale;
    private double scale;
    private int growthTracker;
    private long overflows;
    private int consecutiveOverflows;

    private LossScaler(Builder b) {
        this.growthFactor = b.growthFactor;
        this.backoffFactor = b.backoffFactor;
        this.growthInterval = b.growthInterval;
        this.minScale = b.minScale;
        this.scale = b.initScale;
    }

    /**
     * Returns a builder with torch's defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the scaled loss S·L for the backward pass (a new array; exact for a power-of-two S).
     *
     * @param loss the loss L
     * @return S·L
     */
    public NDArray scale(NDArray loss) {
        return TensorOps.mul(loss, scale);
    }

    /**
     * Returns what a backward pass differentiates with an optional scaler: S·L, or {@code loss} itself without one
     * (fp32 training stays bit-identical).
     *
     * @param scaler the scaler, or null
     * @param loss the loss L
     * @return S·L or L
     */
    public static NDArray apply(LossScaler scaler, NDArray loss) {
        return scaler == null ? loss : scaler.scale(loss);
    }

    /**
     * Multiplies every gradient by 1/S in place (exact for a power-of-two S).
     *
     * @param weights the parameters holding the gradients of S·L
     */
    public void unscale(Weights weights) {
        float inv = (float) (1.0 / scale);
        try (NDScope scope = new NDScope()) {
            for (NDArray p : weights.arrays()) {
                p.getGradient().muli(inv);
            }
        }
    }

    /**
     * Updates the scale after a step ({@code torch._amp_update_scale_}).
     *
     * @param overflow whether the unscaled gradients held an infinity or NaN (the step is then skipped)
     * @param update the optimizer's update count, for the message
     * @throws Updater.NonFiniteException when an overflow takes the scale below the floor
     */
    public void update(boolean overflow, long update) {
        if (overflow) {
            overflows++;
            consecutiveOverflows++;
            growthTracker = 0;
            double next = scale * backoffFactor;
            if (next < minScale) {
                throw new Updater.NonFiniteException("training diverged: fp16 gradients overflow at every loss scale ("
                        + consecutiveOverflows + " overflowing steps in a row at update " + update + "; the scale "
                        + scale + " would fall below the floor " + minScale + "); train in fp32 or lower the"
                        + " learning rate");
            }
            scale = next;
            return;
        }
        consecutiveOverflows = 0;
        growthTracker++;
        if (growthTracker == growthInterval) {
            double grown = scale * growthFactor;
            if (grown <= Float.MAX_VALUE) { // torch keeps the scale when growing it would leave the float32 range
                scale = grown;
            }
            growthTracker = 0;
        }
    }

    /**
     * Returns the current scale S.
     *
     * @return S
     */
    public double scale() {
        return scale;
    }

    /**
     * Returns the number of overflowing (skipped) steps so far.
     *
     * @return count
     */
    public long overflows() {
        return overflows;
    }

    /**
     * Returns the state to save.
     *
     * @return the state
     */
    public State state() {
        return new State(scale, growthTracker, overflows);
    }

    /**
     * Restores a saved state.
     *
     * @param s the state
     */
    public void restore(State s) {
        scale = s.scale();
        growthTracker = s.growthTracker();
        overflows = s.overflows();
        consecutiveOverflows = 0;
    }

    /**
     * Returns the state as string metadata (e.g. of the optimizer's safetensors file).
     *
     * @return {@code loss_scale}, {@code loss_scale_growth_tracker}, {@code loss_scale_overflows}
     */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("loss_scale", Double.toString(scale));
        m.put("loss_scale_growth_tracker", Integer.toString(growthTracker));
        m.put("loss_scale_overflows", Long.toString(overflows));
        return m;
    }

    /**
     * Reads a state written by {@link #toMetadata()}.
     *
     * @param metadata the metadata
     * @return the state
     * @throws IllegalArgumentException naming the missing or malformed field
     */
    public static State stateFromMetadata(Map<String, String> metadata) {
        return new State(Double.parseDouble(field(metadata, "loss_scale")),
                Integer.parseInt(field(metadata, "loss_scale_growth_tracker")),
                Long.parseLong(field(metadata, "loss_scale_overflows")));
    }

    private static String field(Map<String, String> metadata, String name) {
        String v = metadata.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing metadata field '" + name + "'");
        }
        return v;
    }

    /** Builder of {@link LossScaler}; every setting is optional with torch's default. */
    public static final class Builder {
        private double initScale = DEFAULT_INIT_SCALE;
        private double growthFactor = DEFAULT_GROWTH_FACTOR;
        private double backoffFactor = DEFAULT_BACKOFF_FACTOR;
        private int growthInterval = DEFAULT_GROWTH_INTERVAL;
        private double minScale = DEFAULT_MIN_SCALE;

        private Builder() {}

        /**
         * Sets the initial scale S₀ (&gt; 0, finite). Default 2¹⁶.
         *
         * @param v S₀
         * @return this
         */
        public Builder optInitScale(double v) {
            initScale = v;
            return this;
        }

        /**
         * Sets the growth factor (&gt; 1). Default 2.
         *
         * @param v the factor
         * @return this
         */
        public Builder optGrowthFactor(double v) {
            growthFactor = v;
            return this;
        }

        /**
         * Sets the backoff factor (in (0, 1)). Default 0.5.
         *
         * @param v the factor
         * @return this
         */
        public Builder optBackoffFactor(double v) {
            backoffFactor = v;
            return this;
        }

        /**
         * Sets the growth interval: finite steps in a row before the scale grows (&gt;= 1). Default 2000.
         *
         * @param v the interval
         * @return this
         */
        public Builder optGrowthInterval(int v) {
            growthInterval = v;
            return this;
        }

        /**
         * Sets the floor of the scale (&gt; 0). Default 2⁻²⁴.
         *
         * @param v the floor
         * @return this
         */
        public Builder optMinScale(double v) {
            minScale = v;
            return this;
        }

        /**
         * Builds the scaler.
         *
         * @return the scaler
         * @throws IllegalArgumentException naming the setting out of range
         */
        public LossScaler build() {
            if (!(initScale > 0) || Double.isInfinite(initScale)) {
                throw new IllegalArgumentException("initScale must be > 0 and finite, got " + initScale);
            }
            if (!(growthFactor > 1) || Double.isInfinite(growthFactor)) {
                throw new IllegalArgumentException("growthFactor must be > 1 and finite, got " + growthFactor);
            }
            if (!(backoffFactor > 0 && backoffFactor < 1)) {
                throw new IllegalArgumentException("backoffFactor must be in (0, 1), got " + backoffFactor);
            }
            if (growthInterval < 1) {
                throw new IllegalArgumentException("growthInterval must be >= 1, got " + growthInterval);
            }
            if (!(minScale > 0) || minScale > initScale) {
                throw new IllegalArgumentException(
                        "minScale must be in (0, initScale=" + initScale + "], got " + minScale);
            }
            return new LossScaler(this);
        }
    }
}
