/** Benchmarks: matmul peak, training-step throughput (MFU), generation with and without KV cache. */
package org.rlhf4j.examples.bench;
