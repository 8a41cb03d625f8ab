/**
 * Streaming JSON Lines parsers for the TL;DR formats and the generic user formats, with strict and lenient handling
 * of bad rows.
 *
 * <p>Files are read line by line at the byte level (a line is decoded with a strict UTF-8 decoder and parsed with
 * Jackson on its own), so a large file is never held in memory and every error names the file, line and field.
 */
package org.rlhf4j.datasets.io;
