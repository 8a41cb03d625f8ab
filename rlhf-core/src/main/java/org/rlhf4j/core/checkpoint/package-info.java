/**
 * Checkpoints: atomic directory writes, trainer state, and provenance (config, seed, data, versions) so that any
 * run can be repeated and resumed exactly.
 */
package org.rlhf4j.core.checkpoint;
