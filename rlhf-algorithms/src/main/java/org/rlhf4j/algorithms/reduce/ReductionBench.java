package org.rlhf4j.algorithms.reduce;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.algorithms.reward.RewardConfig;
import org.rlhf4j.algorithms.reward.RewardTrainer;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Measures what a reduction costs: trains a reward model ({@link RewardTrainer}, Bradley–Terry) on a subset chosen by
 * the codebook, on a random subset of the same size, or on every row, and reports its held-out accuracy.
 *
 * <p>Every run trains the same number of optimizer steps whatever the subset's size (epochs = steps·batch / rows),
 * so the comparison is about what the data holds, not how long one trains. The random subset has exactly as many
 * rows as the codebook's (which can be below the target when few distinct rows remain).
 */
public final class ReductionBench {

    /** Makes the reward model a run starts from. */
    @FunctionalInterface
    public interface ModelFactory {
        /**
         * Creates a fresh model.
         *
         * @param manager the manager it lives in
         * @param seed the run's seed
         * @return the model
         * @throws IOException when it is loaded from disk and that fails
         */
        ScalarModel create(NDManager manager, long seed) throws IOException;
    }

    /**
     * One run's result.
     *
     * @param selection how the subset was chosen
     * @param fraction the fraction asked for (1 for {@link Selection#FULL})
     * @param seed the run's seed (subset and model)
     * @param rows training rows
     * @param accuracy held-out accuracy, fraction of pairs with r(chosen) &gt; r(rejected)
     * @param lines the training lines
     */
    public record Run(Selection selection, double fraction, long seed, int rows, double accuracy, List<Long> lines) {}

    private final List<ReductionRow> train;
    private final List<Encoded.Pair> heldOut;
    private final TldrTask task;
    private final Tokenizer tokenizer;
    private final ModelFactory models;
    private final int steps;
    private final int batchSize;
    private final double learningRate;
    private final int codebookSize;
    private final Embedder embedder;
    private final Map<String, ReductionReport> reports = new java.util.HashMap<>();

    private ReductionBench(Builder b) {
        this.train = b.train;
        this.tokenizer = b.tokenizer;
        this.task = TldrTask.builder().setTokenizer(b.tokenizer).build();
        this.heldOut = b.heldOut.stream().map(r -> Encodings.encode(task, r)).toList();
        this.models = b.models;
        this.steps = b.steps;
        this.batchSize = b.batchSize;
        this.learningRate = b.learningRate;
        this.codebookSize = b.codebookSize;
        this.embedder = b.embedder != null ? b.embedder : new HashedEmbedder();
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Chooses the training lines of a run.
     *
     * @param selection how
     * @param fraction the fraction (ignored for {@link Selection#FULL})
     * @param seed the seed of the codebook or the random draw
     * @return the lines, ascending
     * @throws IOException when the embedder fails
     */
    public List<Long> select(Selection selection, double fraction, long seed) throws IOException {
        return switch (selection) {
            case FULL -> train.stream().map(ReductionRow::line).sorted().toList();
            case CODEBOOK -> codebook(fraction, seed).keptLines();
            case RANDOM -> DataReducer.randomSubset(train, codebook(fraction, seed).kept(), seed);
        };
    }

    private ReductionReport codebook(double fraction, long seed) throws IOException {
        String key = fraction + "/" + seed;
        ReductionReport r = reports.get(key);
        if (r == null) {
            r = reduce(fraction, seed);
            reports.put(key, r);
        }
        return r;
    }

    /**
     * Runs the codebook reduction a {@link Selection#CODEBOOK} run trains on (cached per fraction and seed).
     *
     * @param fraction the fraction
     * @param seed the seed
     * @return the report
     * @throws IOException when the embedder fails
     */
    public ReductionReport report(double fraction, long seed) throws IOException {
        return codebook(fraction, seed);
    }

    private ReductionReport reduce(double fraction, long seed) throws IOException {
        return DataReducer.builder().setFraction(fraction).optSeed(seed).optCodebookSize(codebookSize)
                .optEmbedder(embedder).build().reduce(train);
    }

    /**
     * Runs one training.
     *
     * @param selection how the subset is chosen
     * @param fraction the fraction
     * @param seed subset and model seed
     * @return the result
     * @throws IOException when the model or the embedder fails
     */
    public Run run(Selection selection, double fraction, long seed) throws IOException {
        List<Long> lines = select(selection, fraction, seed);
        Set<Long> keep = new HashSet<>(lines);
        List<Encoded.Pair> data = new ArrayList<>();
        for (ReductionRow r : train) {
            if (keep.contains(r.line())) {
                data.add(Encodings.encode(task, r));
            }
        }
        RewardConfig cfg = RewardConfig.builder().setSeed(seed)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(learningRate)
                        .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).build())
                .setBatchSize(batchSize).setMicroBatchSize(batchSize)
                // ceil(epochs·n/batch) = steps exactly
                .setEpochs((steps * (double) batchSize - 0.5) / data.size())
                .setSchedule(TrainingSchedule.of(0, 0)).setNormalizeOnReferences(false).build();
        try (NDManager m = NDManager.newBaseManager();
                ScalarModel rm = models.create(m, seed)) {
            RewardTrainer t = RewardTrainer.builder().setConfig(cfg).setModel(rm).setTokenizer(tokenizer)
                    .setTrainData(data).optEvalSets(Map.of()).build();
            t.train();
            double acc = t.evaluate("held-out", heldOut, steps).accuracy();
            double f = selection == Selection.FULL ? 1.0 : fraction;
            return new Run(selection, f, seed, data.size(), acc, lines);
        }
    }

    /** Builder of {@link ReductionBench}. */
    public static final class Builder {

        private List<ReductionRow> train;
        private List<ReductionRow> heldOut;
        private Tokenizer tokenizer;
        private ModelFactory models;
        private int steps = 150;
        private int batchSize = 16;
        private double learningRate = 1e-3;
        private int codebookSize = 256;
        private Embedder embedder;

        private Builder() {}

        /**
         * Sets the rows subsets are drawn from (required).
         *
         * @param rows training rows
         * @return this builder
         */
        public Builder setTrain(List<ReductionRow> rows) {
            this.train = List.copyOf(rows);
            return this;
        }

        /**
         * Sets the held-out rows accuracy is measured on (required).
         *
         * @param rows held-out rows
         * @return this builder
         */
        public Builder setHeldOut(List<ReductionRow> rows) {
            this.heldOut = List.copyOf(rows);
            return this;
        }

        /**
         * Sets the tokenizer rows are encoded with (required).
         *
         * @param t the tokenizer
         * @return this builder
         */
        public Builder setTokenizer(Tokenizer t) {
            this.tokenizer = Objects.requireNonNull(t, "tokenizer");
            return this;
        }

        /**
         * Sets how each run's model is made (required).
         *
         * @param f the factory
         * @return this builder
         */
        public Builder setModels(ModelFactory f) {
            this.models = Objects.requireNonNull(f, "models");
            return this;
        }

        /**
         * Sets the optimizer steps of every run (default 150).
         *
         * @param n &ge; 1
         * @return this builder
         */
        public Builder optSteps(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + n);
            }
            this.steps = n;
            return this;
        }

        /**
         * Sets the batch size (default 16).
         *
         * @param n &ge; 1
         * @return this builder
         */
        public Builder optBatchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /**
         * Sets the constant learning rate (default 1e-3).
         *
         * @param lr &gt; 0
         * @return this builder
         */
        public Builder optLearningRate(double lr) {
            if (!(lr > 0)) {
                throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
            }
            this.learningRate = lr;
            return this;
        }

        /**
         * Sets the codebook size asked for (default 256).
         *
         * @param k &ge; 1
         * @return this builder
         */
        public Builder optCodebookSize(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("codebook size must be >= 1, got " + k);
            }
            this.codebookSize = k;
            return this;
        }

        /**
         * Sets the embedder of the codebook selection (default {@link HashedEmbedder}).
         *
         * @param e the embedder
         * @return this builder
         */
        public Builder optEmbedder(Embedder e) {
            this.embedder = Objects.requireNonNull(e, "embedder");
            return this;
        }

        /**
         * Builds the bench.
         *
         * @return the bench
         * @throws IllegalStateException when a required part is missing
         */
        public ReductionBench build() {
            if (train == null || heldOut == null || tokenizer == null || models == null) {
                throw new IllegalStateException("setTrain, setHeldOut, setTokenizer and setModels are required");
            }
            return new ReductionBench(this);
        }
    }
}
