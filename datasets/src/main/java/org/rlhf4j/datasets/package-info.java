/**
 * Reddit TL;DR and generic SFT / preference / prompt data: row records, formats, bundled real samples and the
 * {@link org.rlhf4j.datasets.TldrData} entry point that picks downloaded data or the bundled samples.
 *
 * <p>Sub-packages: {@code io} (streaming JSON Lines parsers), {@code task} (query formatting, truncation,
 * tokenization, collation, shuffling, splits), {@code download} (cached, resumable, checksummed downloads),
 * {@code stats} (dataset statistics for {@code rlhf4j data stats}) and {@code source} (bundled, full or file data
 * sources, encoded with skip counts, provenance ids).
 */
package org.rlhf4j.datasets;
