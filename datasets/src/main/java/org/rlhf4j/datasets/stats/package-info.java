/** Dataset statistics: row counts per split, skipped rows by reason, token-length percentiles. */
package org.rlhf4j.datasets.stats;
