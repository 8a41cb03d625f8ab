/**
 * Cached, resumable, checksummed downloads of OpenAI's summarize-from-feedback files with
 * {@link java.net.http.HttpClient}; works offline with a warm cache and explains what to fetch without one.
 */
package org.rlhf4j.datasets.download;
