/**
 * Downloads model repositories from the Hugging Face Hub (or any endpoint that speaks its HTTP API) without Python:
 * {@link org.rlhf4j.datasets.hub.HubClient} for the API calls and verified, resumable file transfers,
 * {@link org.rlhf4j.datasets.hub.FileSelection} for which files a causal LM needs, and
 * {@link org.rlhf4j.datasets.hub.HubDownload} for a whole snapshot that appears atomically in its directory.
 */
package org.rlhf4j.datasets.hub;
