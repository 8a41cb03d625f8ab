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
     * @param response {@code encode(completion) + [eos]}
     */
    record Sft(String id, EncodedQuery query, int[] response) implements Encoded {
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
