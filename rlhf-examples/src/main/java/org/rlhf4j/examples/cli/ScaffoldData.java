package org.rlhf4j.examples.cli;

import java.io.IOException;
import java.util.List;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.source.EncodedRows;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.FactScaffold;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * {@code --scaffold} of {@code sft} and {@code dpo}: the training targets become {@code Facts: … Summary: …}
 * ({@link FactScaffold}, facts picked from the post by overlap with the reference or the preferred response), encoded
 * with the task's limits like any other rows.
 */
final class ScaffoldData {

    /**
     * Response token limit used with {@code --scaffold} when {@code --max-response-tokens} is not given: room for
     * {@value FactScaffold#DEFAULT_MAX_FACTS} facts of up to {@value FactScaffold#MAX_FACT_WORDS} words and the summary.
     */
    static final int DEFAULT_MAX_RESPONSE_TOKENS = 256;

    private ScaffoldData() {}

    /**
     * Raises the response limit for protocol targets unless the user set one.
     *
     * @param train the command's training options
     */
    static void widenResponses(TrainOptions train) {
        if (train.maxResponseTokens == null) {
            train.maxResponseTokens = DEFAULT_MAX_RESPONSE_TOKENS;
        }
    }

    /**
     * Returns scaffolded, encoded SFT samples.
     *
     * @param source the data
     * @param task the task
     * @param split the split
     * @return the samples with skip counts
     * @throws IOException when the data cannot be read
     */
    static EncodedRows<Encoded.Sft> sft(DataSource source, TldrTask task, String split) throws IOException {
        List<org.rlhf4j.datasets.SftExample> rows = source.sftRows(split).stream()
                .map(e -> FactScaffold.scaffold(e, FactScaffold.DEFAULT_MAX_FACTS)).toList();
        return EncodedRows.encode(source.label(split) + "+scaffold", rows, task::encodeSft);
    }

    /**
     * Returns scaffolded, encoded preference pairs.
     *
     * @param source the data
     * @param task the task
     * @param split the split
     * @return the pairs with skip counts
     * @throws IOException when the data cannot be read
     */
    static EncodedRows<Encoded.Pair> pairs(DataSource source, TldrTask task, String split) throws IOException {
        List<org.rlhf4j.datasets.PreferencePair> rows = source.pairRows(split).stream()
                .map(p -> FactScaffold.scaffold(p, FactScaffold.DEFAULT_MAX_FACTS)).toList();
        return EncodedRows.encode(source.label(split) + "+scaffold", rows, task::encodePair);
    }
}
