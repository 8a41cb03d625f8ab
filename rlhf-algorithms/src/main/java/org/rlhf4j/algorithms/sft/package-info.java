/**
 * Supervised fine-tuning: mean negative log-likelihood of the reference response tokens given the query
 * ({@link org.rlhf4j.algorithms.sft.SftConfig}, {@link org.rlhf4j.algorithms.sft.SftTrainer},
 * {@link org.rlhf4j.algorithms.sft.SftLosses}).
 */
package org.rlhf4j.algorithms.sft;
