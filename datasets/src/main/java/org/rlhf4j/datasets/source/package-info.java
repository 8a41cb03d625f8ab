/**
 * Where training and evaluation rows come from, as the command line names them: the bundled TL;DR samples
 * ({@code bundled}), the full downloaded OpenAI TL;DR files ({@code full}) or a user's JSON Lines file
 * ({@link org.rlhf4j.datasets.source.DataSource}); rows converted to the shape a trainer needs and encoded with the
 * rows over the token limits skipped, counted by reason and logged ({@link org.rlhf4j.datasets.source.EncodedRows});
 * provenance ids with a file's sha256; and the tiny preset's compact vocabulary
 * ({@link org.rlhf4j.datasets.source.TldrVocabulary}).
 */
package org.rlhf4j.datasets.source;
