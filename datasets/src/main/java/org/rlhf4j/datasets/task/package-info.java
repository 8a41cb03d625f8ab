/**
 * Task formatting as in the references (OpenAI summarize-from-feedback, "The N+ implementation details of RLHF",
 * TRL): query template and post truncation, reference responses with EOS, response length limits, left-padded
 * collation into plain Java arrays, seeded shuffling and deterministic splits.
 */
package org.rlhf4j.datasets.task;
