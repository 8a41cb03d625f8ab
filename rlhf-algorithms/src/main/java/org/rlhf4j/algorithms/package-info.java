/** Algorithms. */
package org.rlhf4j.algorithms;
