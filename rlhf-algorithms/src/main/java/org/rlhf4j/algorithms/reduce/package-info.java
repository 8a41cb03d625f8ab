/**
 * Preference-data reduction after TL;DR (Wang et al., "Too Large; Data Reduction for Vision-Language Pre-Training",
 * ICCV 2023): embed each comparison, learn a codebook with k-means, keep the comparisons nearest each code in
 * proportion to the code's size, drop exact and near-duplicates and contradictory pairs, and optionally flag pairs a
 * judge reward model strongly disagrees with (never relabelled). See {@link org.rlhf4j.algorithms.reduce.DataReducer}
 * and docs/reduce.md.
 */
package org.rlhf4j.algorithms.reduce;
