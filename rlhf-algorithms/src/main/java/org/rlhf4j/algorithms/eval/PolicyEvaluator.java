package org.rlhf4j.algorithms.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rlhf4j.algorithms.common.ResponseBatch;
import org.rlhf4j.algorithms.common.Sequences;
import org.rlhf4j.core.generation.GenerationConfig;
import org.rlhf4j.core.generation.Generator;
import org.rlhf4j.core.generation.Rollout;
import org.rlhf4j.core.model.CausalLm;
import org.rlhf4j.core.model.ScalarModel;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.core.train.Seeds;
import org.rlhf4j.datasets.PromptRow;
import org.rlhf4j.datasets.task.EncodedQuery;
import org.rlhf4j.datasets.task.FactScaffold;
import org.rlhf4j.datasets.task.TaskLimitException;
import org.rlhf4j.datasets.task.TldrTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates one policy (or a file of summaries) on a prompt set: the numbers of the pipeline's table.
 *
 * <p>Steps: 1. encode each prompt's query with the task's limits (rows that do not fit, or lack the reference or
 * the opponent's summary, are skipped and counted by reason); 2. generate one summary per prompt, seeded, with at most
 * {@code maxNewTokens} (53) new tokens, stopping at EOS, greedy (τ = 0, the default) or sampled at τ; or take the
 * given summaries; 3. measure
 * <ul>
 *   <li>length: mean tokens per summary, EOS included when present, the share that ended with EOS, the references'
 *       mean length (encoded as {@code " " + text + EOS}), and per summary the share of its most frequent token
 *       (the inputs of {@link EvaluationChecks}' flags);</li>
 *   <li>RM score: mean r_φ(q, y) of the summaries as generated, and with PPO's missing-EOS rule (score :=
 *       {@code noEosScore}); also the opponent's (reference summaries score ≈ 0 after RM normalisation);</li>
 *   <li>KL: mean over prompts of Σ_t [log π_τ(y_t) − log π_ref,τ(y_t)] over the tokens of a sample y ~ π_τ, with
 *       log π_τ = log softmax(z/τ), τ = {@code klTemperature} (default 1: the KL of the models themselves; PPO's
 *       training curves use the rollout τ 0.7). The k1 estimator, unbiased because y is drawn from π_τ (the summary
 *       rollout is reused when it was sampled at that τ, otherwise a separate seeded sample is drawn);</li>
 *   <li>ROUGE-1/2/L F1 against the reference summaries ({@link Rouge});</li>
 *   <li>win rate against the opponent (the references, or another policy's summaries) by the judge
 *       ({@link WinRate}), with the policy as A;</li>
 *   <li>with a {@link GroundingJudge}, the hallucination rate: the share of summaries with a claim the post does not
 *       support ({@link HallucinationRate}).</li>
 * </ul>
 * A scaffolded policy ({@link Builder#optScaffold}) writes {@code Facts: … Summary: …} ({@link FactScaffold}); every
 * text measure (ROUGE, judges) then uses the part after {@code Summary:}, and outputs without it are evaluated as
 * written and counted ({@link PolicyEvaluation#withoutSummaryMarker()}, flag {@link PolicyFlag#NO_SUMMARY_MARKER});
 * lengths, EOS and the RM score are those of the whole output.
 */
public final class PolicyEvaluator {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyEvaluator.class);
    private static final long GEN_STREAM = 0x5EED_0001L;
    private static final long KL_STREAM = 0x5EED_0002L;

    private final String name;
    private final CausalLm policy;
    private final Map<String, String> givenSummaries;
    private final Tokenizer tokenizer;
    private final TldrTask task;
    private final List<PromptRow> prompts;
    private final ScalarModel rewardModel;
    private final CausalLm referencePolicy;
    private final Judge judge;
    private final GroundingJudge groundingJudge;
    private final boolean scaffold;
    private final String opponentName;
    private final Map<String, String> opponentSummaries;
    private final double temperature;
    private final double klTemperature;
    private final int maxNewTokens;
    private final long seed;
    private final int batchSize;
    private final int numSamples;
    private final double noEosScore;

    private PolicyEvaluator(Builder b) {
        this.name = b.name == null ? (b.policy != null ? "policy" : "summaries") : b.name;
        this.policy = b.policy;
        this.givenSummaries = b.summaries;
        this.tokenizer = b.task.tokenizer();
        this.task = b.task;
        this.prompts = List.copyOf(b.prompts);
        this.rewardModel = b.rewardModel;
        this.referencePolicy = b.referencePolicy;
        this.judge = b.judge;
        this.groundingJudge = b.groundingJudge;
        this.scaffold = b.scaffold;
        this.opponentName = b.opponentSummaries == null ? "reference" : b.opponentName;
        this.opponentSummaries = b.opponentSummaries;
        this.temperature = b.temperature;
        this.klTemperature = b.klTemperature;
        this.maxNewTokens = b.maxNewTokens;
        this.seed = b.seed;
        this.batchSize = b.batchSize;
        this.numSamples = b.numSamples;
        this.noEosScore = b.noEosScore;
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
     * Runs the evaluation.
     *
     * @return the measurements
     * @throws JudgeException when an LLM judge fails
     */
    public PolicyEvaluation evaluate() {
        // 1. queries, references, opponents
        Map<String, Integer> skipped = new TreeMap<>();
        List<PromptRow> rows = new ArrayList<>();
        List<int[]> queries = new ArrayList<>();
        List<String> opponents = new ArrayList<>();
        for (PromptRow p : prompts) {
            if (p.reference() == null) {
                skipped.merge("no_reference", 1, Integer::sum);
                continue;
            }
            String opp = opponentSummaries == null ? p.reference() : opponentSummaries.get(p.id());
            if (opp == null) {
                skipped.merge("no_opponent_summary", 1, Integer::sum);
                continue;
            }
            if (givenSummaries != null && !givenSummaries.containsKey(p.id())) {
                skipped.merge("no_summary", 1, Integer::sum);
                continue;
            }
            EncodedQuery q;
            try {
                q = task.encodeQuery(p.prompt());
            } catch (TaskLimitException e) {
                skipped.merge(e.reason().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
                continue;
            }
            rows.add(p);
            queries.add(q.ids());
            opponents.add(opp);
        }
        int n = rows.size();
        if (n == 0) {
            throw new IllegalArgumentException("no prompt can be evaluated; skipped by reason: " + skipped);
        }
        if (!skipped.isEmpty()) {
            LOG.warn("{}: evaluating {} of {} prompts; skipped by reason: {}", name, n, prompts.size(), skipped);
        }
        // 2. summaries
        int eos = tokenizer.eosTokenId();
        List<int[]> responses = new ArrayList<>(n);
        List<String> texts = new ArrayList<>(n);
        Rollout[] rollouts = null;
        if (policy != null) {
            GenerationConfig g = GenerationConfig.builder(maxNewTokens, eos).setTemperature(temperature).build();
            rollouts = generate(policy, queries, g, GEN_STREAM);
            for (Rollout r : rollouts) {
                for (int b = 0; b < r.batchSize(); b++) {
                    responses.add(r.response(b));
                }
            }
            for (int[] resp : responses) {
                texts.add(tokenizer.decode(resp, true));
            }
        } else {
            for (PromptRow p : rows) {
                String s = givenSummaries.get(p.id());
                texts.add(s);
                responses.add(encodeSummary(s));
            }
        }
        Integer withoutMarker = null;
        if (scaffold) {
            int missing = 0;
            for (int i = 0; i < n; i++) {
                var part = FactScaffold.summaryPart(texts.get(i));
                if (part.isPresent()) {
                    texts.set(i, part.get());
                } else {
                    missing++;
                }
            }
            withoutMarker = missing;
            if (missing > 0) {
                LOG.warn("{}: {} of {} scaffolded outputs have no \"{}\" marker; evaluated as written", name, missing,
                        n, FactScaffold.SUMMARY_MARKER);
            }
        }
        // 3. measurements
        double length = 0;
        int withEos = 0;
        double referenceLength = 0;
        List<PolicyEvaluation.Summary> summaries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] r = responses.get(i);
            length += r.length;
            boolean e = r.length > 0 && r[r.length - 1] == eos;
            withEos += e ? 1 : 0;
            List<String> pieces = new ArrayList<>(r.length);
            for (int k = 0; k < r.length - (e ? 1 : 0); k++) {
                pieces.add(tokenizer.decode(new int[] {r[k]}, false));
            }
            summaries.add(new PolicyEvaluation.Summary(rows.get(i).id(), texts.get(i), r.length, e,
                    EvaluationChecks.dominantTokenShare(pieces)));
            referenceLength += encodeSummary(rows.get(i).reference()).length;
        }
        Double rm = null;
        Double rmPenalized = null;
        Double oppRm = null;
        if (rewardModel != null) {
            RewardModelJudge scorer = RewardModelJudge.builder().setModel(rewardModel).setTokenizer(tokenizer)
                    .optMicroBatchSize(batchSize).build();
            double[] s = scorer.score(queries, responses);
            List<int[]> oppIds = new ArrayList<>(n);
            for (String o : opponents) {
                oppIds.add(scorer.encodeSummary(o));
            }
            double[] so = scorer.score(queries, oppIds);
            double sum = 0;
            double pen = 0;
            double os = 0;
            for (int i = 0; i < n; i++) {
                int[] r = responses.get(i);
                boolean e = r.length > 0 && r[r.length - 1] == eos;
                sum += s[i];
                pen += e ? s[i] : noEosScore;
                os += so[i];
            }
            rm = sum / n;
            rmPenalized = pen / n;
            oppRm = os / n;
        }
        Double kl = null;
        if (policy != null && referencePolicy != null) {
            kl = kl(queries, rollouts, eos);
        }
        List<String> refs = new ArrayList<>(n);
        for (PromptRow p : rows) {
            refs.add(p.reference());
        }
        Rouge.Scores rouge = Rouge.mean(texts, refs);
        List<Judgement> judgements = null;
        WinRate.Result win = null;
        if (judge != null) {
            List<Matchup> matchups = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                matchups.add(new Matchup(rows.get(i).id(), Matchup.postText(rows.get(i).prompt()), queries.get(i),
                        texts.get(i), opponents.get(i)));
            }
            judgements = judge.judgeAll(matchups);
            win = WinRate.of(judgements);
        }
        List<Grounding> groundings = null;
        HallucinationRate.Result hallucination = null;
        if (groundingJudge != null) {
            List<GroundingJudge.Item> items = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                items.add(new GroundingJudge.Item(rows.get(i).id(), Matchup.postText(rows.get(i).prompt()),
                        texts.get(i)));
            }
            groundings = groundingJudge.judgeAll(items);
            hallucination = HallucinationRate.of(groundings);
            if (hallucination.malformed() > 0) {
                LOG.warn("{}: {} of {} grounding replies were malformed (left out of the hallucination rate)", name,
                        hallucination.malformed(), n);
            }
        }
        List<PolicyEvaluation.Sample> samples = new ArrayList<>();
        for (int i = 0; i < Math.min(numSamples, n); i++) {
            Judgement j = judgements == null ? null : judgements.get(i);
            samples.add(new PolicyEvaluation.Sample(rows.get(i).id(), texts.get(i), opponents.get(i),
                    j == null ? null : j.verdict(), j == null ? null : j.detail()));
        }
        return new PolicyEvaluation(name, n, skipped, policy != null ? temperature : null, length / n,
                (double) withEos / n, referenceLength / n, rm, rmPenalized, oppRm, kl, kl != null ? klTemperature : null, rouge, opponentName,
                judge == null ? null : judge.describe(), win, samples, summaries, withoutMarker,
                groundingJudge == null ? null : groundingJudge.describe(), hallucination, groundings);
    }

    private int[] encodeSummary(String text) {
        int[] ids = tokenizer.encode(" " + text.strip());
        int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = tokenizer.eosTokenId();
        return out;
    }

    private Rollout[] generate(CausalLm model, List<int[]> queries, GenerationConfig g, long stream) {
        int n = queries.size();
        Rollout[] out = new Rollout[(n + batchSize - 1) / batchSize];
        for (int off = 0, k = 0; off < n; off += batchSize, k++) {
            out[k] = Generator.generate(model, queries.subList(off, Math.min(n, off + batchSize)), null, g,
                    Seeds.derive(seed, off, stream));
        }
        return out;
    }

    private double kl(List<int[]> queries, Rollout[] summaryRollouts, int eos) {
        Rollout[] rs = summaryRollouts;
        if (temperature != klTemperature) {
            GenerationConfig g = GenerationConfig.builder(maxNewTokens, eos).setTemperature(klTemperature).build();
            rs = generate(policy, queries, g, KL_STREAM);
        }
        double total = 0;
        int n = 0;
        int off = 0;
        for (Rollout r : rs) {
            List<int[]> q = new ArrayList<>();
            List<int[]> y = new ArrayList<>();
            for (int b = 0; b < r.batchSize(); b++) {
                q.add(queries.get(off + b));
                y.add(r.response(b));
            }
            off += r.batchSize();
            ResponseBatch batch = ResponseBatch.of(q, y, eos);
            try (NDManager m = policy.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                ResponseBatch.Tensors t = batch.toTensors(m);
                NDArray lp = Sequences.responseLogprobs(policy, t, klTemperature, false).logprobs();
                NDArray lr = Sequences.responseLogprobs(referencePolicy, t, klTemperature, false).logprobs();
                float[] d = TensorOps.where(t.responseMask(), lp.sub(lr)).sum(new int[] {1}).toFloatArray();
                for (float v : d) {
                    total += v;
                    n++;
                }
            }
        }
        return total / n;
    }

    /** Builder of {@link PolicyEvaluator}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder {
        private String name;
        private CausalLm policy;
        private Map<String, String> summaries;
        private TldrTask task;
        private List<PromptRow> prompts;
        private ScalarModel rewardModel;
        private CausalLm referencePolicy;
        private Judge judge;
        private GroundingJudge groundingJudge;
        private boolean scaffold;
        private String opponentName;
        private Map<String, String> opponentSummaries;
        private double temperature = 0;
        private double klTemperature = 1.0;
        private int maxNewTokens = 53;
        private long seed = 0;
        private int batchSize = 8;
        private int numSamples = 3;
        private double noEosScore = -1.0;

        private Builder() {}

        /**
         * Sets the policy that writes the summaries (or use {@link #setSummaries}).
         *
         * @param p the policy
         * @return this
         */
        public Builder setPolicy(CausalLm p) {
            this.policy = p;
            return this;
        }

        /**
         * Evaluates given summaries instead of generating them.
         *
         * @param byId summary text per prompt id
         * @return this
         */
        public Builder setSummaries(Map<String, String> byId) {
            this.summaries = byId;
            return this;
        }

        /**
         * Sets the task (tokenizer and query limits; longest query + {@code maxNewTokens} must fit the policy).
         *
         * @param t the task
         * @return this
         */
        public Builder setTask(TldrTask t) {
            this.task = t;
            return this;
        }

        /**
         * Sets the prompts with their reference summaries.
         *
         * @param rows the prompts
         * @return this
         */
        public Builder setPrompts(List<PromptRow> rows) {
            this.prompts = rows;
            return this;
        }

        /**
         * Sets the name in reports.
         *
         * @param n e.g. {@code ppo}
         * @return this
         */
        public Builder optName(String n) {
            this.name = n;
            return this;
        }

        /**
         * Sets a reward model for the RM score.
         *
         * @param rm the reward model
         * @return this
         */
        public Builder optRewardModel(ScalarModel rm) {
            this.rewardModel = rm;
            return this;
        }

        /**
         * Sets the reference policy of the KL (normally the SFT policy).
         *
         * @param ref the reference
         * @return this
         */
        public Builder optReferencePolicy(CausalLm ref) {
            this.referencePolicy = ref;
            return this;
        }

        /**
         * Sets the judge of the win rate.
         *
         * @param j the judge
         * @return this
         */
        public Builder optJudge(Judge j) {
            this.judge = j;
            return this;
        }

        /**
         * Sets a grounding judge: the hallucination rate of the summaries.
         *
         * @param g the judge
         * @return this
         */
        public Builder optGroundingJudge(GroundingJudge g) {
            this.groundingJudge = g;
            return this;
        }

        /**
         * Evaluates a scaffolded policy: its outputs are {@code Facts: … Summary: …} and the summary is the part after
         * {@code Summary:} ({@link FactScaffold#summaryPart}); default false.
         *
         * @param s whether the outputs are scaffolded
         * @return this
         */
        public Builder optScaffold(boolean s) {
            this.scaffold = s;
            return this;
        }

        /**
         * Judges against another policy's summaries instead of the references.
         *
         * @param opponent its name in reports
         * @param byId its summary per prompt id
         * @return this
         */
        public Builder optOpponent(String opponent, Map<String, String> byId) {
            this.opponentName = opponent;
            this.opponentSummaries = byId;
            return this;
        }

        /**
         * Sets the sampling temperature of the summaries (default 0: greedy).
         *
         * @param t τ
         * @return this
         */
        public Builder optTemperature(double t) {
            this.temperature = t;
            return this;
        }

        /**
         * Sets the temperature of the KL samples and log-probabilities (default 1).
         *
         * @param t τ &gt; 0
         * @return this
         */
        public Builder optKlTemperature(double t) {
            this.klTemperature = t;
            return this;
        }

        /**
         * Sets the most new tokens per summary (default 53).
         *
         * @param n tokens
         * @return this
         */
        public Builder optMaxNewTokens(int n) {
            this.maxNewTokens = n;
            return this;
        }

        /**
         * Sets the sampling seed.
         *
         * @param s the seed
         * @return this
         */
        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /**
         * Sets the prompts per generation and scoring batch (default 8).
         *
         * @param n the size
         * @return this
         */
        public Builder optBatchSize(int n) {
            this.batchSize = n;
            return this;
        }

        /**
         * Sets how many sample summaries the report keeps (default 3).
         *
         * @param n the count
         * @return this
         */
        public Builder optNumSamples(int n) {
            this.numSamples = n;
            return this;
        }

        /**
         * Sets the score of a summary without EOS in the penalised RM score (default −1, as PPO).
         *
         * @param s the score
         * @return this
         */
        public Builder optNoEosScore(double s) {
            this.noEosScore = s;
            return this;
        }

        /**
         * Builds the evaluator.
         *
         * @return the evaluator
         */
        public PolicyEvaluator build() {
            if ((policy == null) == (summaries == null)) {
                throw new IllegalArgumentException("give exactly one of a policy and summaries");
            }
            if (task == null || prompts == null) {
                throw new IllegalArgumentException("task and prompts are required");
            }
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be >= 0 and finite, got " + temperature);
            }
            if (!(klTemperature > 0) || Double.isInfinite(klTemperature)) {
                throw new IllegalArgumentException("klTemperature must be > 0 and finite, got " + klTemperature);
            }
            if (maxNewTokens < 1 || batchSize < 1 || numSamples < 0) {
                throw new IllegalArgumentException("need maxNewTokens >= 1, batchSize >= 1, numSamples >= 0, got "
                        + maxNewTokens + ", " + batchSize + ", " + numSamples);
            }
            if (referencePolicy != null && policy == null) {
                throw new IllegalArgumentException("a reference policy (KL) needs a policy, not given summaries");
            }
            if (opponentSummaries != null && (opponentName == null || opponentName.isBlank())) {
                throw new IllegalArgumentException("the opponent needs a name");
            }
            return new PolicyEvaluator(this);
        }
    }
}
