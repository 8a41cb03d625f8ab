/** Datasets. */
package org.rlhf4j.datasets;
