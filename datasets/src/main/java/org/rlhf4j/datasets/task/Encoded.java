package org.rlhf4j.datasets.task;

import java.util.List;

/** A tokenized row: a query and its response(s), each response ending with EOS. */
public sealed interface Encoded permits Encoded.Sft, Encoded.Pair, Encoded.PromptOnly {

    /**
     * Returns the row id.
     *
     * @return the id
     */
    String id();

    /**
     * Returns the query.
     *
     * @return the encoded query
     */
    EncodedQuery query();

    /**
     * Returns the response ids of this row (SFT: one; pair: chosen then rejected; prompt: the reference, if any).
     *
     * @return the responses
     */
    List<int[]> responses();

    /**
     * A supervised sample.
     *
     * @param id row id
     * @param query the query
     * @param response {@code encode(completion) + [eos]}; for a conversational row, the rendered completion (or,
     *     for a whole conversation, everything after the query) as the chat template ends it, without an added EOS
     * @param lossMask which response tokens carry loss (1) and which do not (0, e.g. a user turn between two
     *     assistant turns); null when every response token does
     */
    record Sft(String id, EncodedQuery query, int[] response, int[] lossMask) implements Encoded {

        /**
         * Checks the loss mask: null, or 0/1 values, as many as response tokens, at least one 1.
         *
         * @param id id
         * @param query query
         * @param response response
         * @param lossMask mask or null
         */
        public Sft {
            if (lossMask != null) {
                if (lossMask.length != response.length) {
                    throw new IllegalArgumentException(id + ": the loss mask has " + lossMask.length
                            + " entries for " + response.length + " response tokens");
                }
                int ones = 0;
                for (int v : lossMask) {
                    if (v != 0 && v != 1) {
                        throw new IllegalArgumentException(id + ": loss mask values must be 0 or 1, got " + v);
                    }
                    ones += v;
                }
                if (ones == 0) {
                    throw new IllegalArgumentException(id + ": the loss mask selects no response token");
                }
            }
        }

        /**
         * Creates a sample whose every response token carries loss.
         *
         * @param id row id
         * @param query the query
         * @param response the response ids
         */
        public Sft(String id, EncodedQuery query, int[] response) {
            this(id, query, response, null);
        }

        /**
         * Returns whether response token j carries loss.
         *
         * @param j response position
         * @return {@code lossMask[j] == 1}, or true without a mask
         */
        public boolean trains(int j) {
            return lossMask == null || lossMask[j] == 1;
        }

        /**
         * Returns the number of response tokens that carry loss.
         *
         * @return Σ lossMask, or the response length without a mask
         */
        public int lossTokens() {
            if (lossMask == null) {
                return response.length;
            }
            int n = 0;
            for (int v : lossMask) {
                n += v;
            }
            return n;
        }

        /** {@inheritDoc} */
        @Override
        public List<int[]> responses() {
            return List.of(response);
        }
    }

    /**
     * A preference sample.
     *
     * @param id row id
     * @param query the query
     * @param chosen {@code encode(chosen) + [eos]}
     * @param rejected {@code encode(rejected) + [eos]}
     */
    record Pair(String id, EncodedQuery query, int[] chosen, int[] rejected) implements Encoded {
        /** {@inheritDoc} */
        @Override
        public List<int[]> responses() {
            return List.of(chosen, rejected);
        }
    }

    /**
     * An RL prompt.
     *
     * @param id row id
     * @param query the query
     * @param reference {@code encode(reference) + [eos]}, or null when the row has no reference
     */
    record PromptOnly(String id, EncodedQuery query, int[] reference) implements Encoded {
        /** {@inheritDoc} */
        @Override
        public List<int[]> responses() {
            return reference == null ? List.of() : List.of(reference);
        }
    }
}
