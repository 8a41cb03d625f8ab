/**
 * Benchmarks: matmul peak, memory bandwidth, training-step throughput (MFU), generation with and without KV cache and
 * the decode roofline, the phases of an RL update, resident memory over a long run, DPO/PPO memory.
 */
package org.rlhf4j.examples.bench;
