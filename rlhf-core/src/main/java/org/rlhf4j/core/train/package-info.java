/**
 * Training utilities: AdamW with a no-decay group, learning-rate schedules, global-norm gradient clipping, a
 * non-finite guard, per-step seeds, gradient accumulation and metrics sinks.
 */
package org.rlhf4j.core.train;
