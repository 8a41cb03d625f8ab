/**
 * Pieces every trainer shares: query+response batches, response log-probabilities, the deterministic data stream,
 * optimizer settings, run directories and progress reporting.
 */
package org.rlhf4j.algorithms.common;
