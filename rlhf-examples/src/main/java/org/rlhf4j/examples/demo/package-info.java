/**
 * Self-contained demonstrations that run in minutes on a CPU and show one algorithmic effect each, such as
 * {@link org.rlhf4j.examples.demo.ResetExplorationDemo} (DR-PO's resets solve a sparse-reward task PPO cannot).
 */
package org.rlhf4j.examples.demo;
