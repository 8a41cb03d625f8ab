package org.rlhf4j.algorithms.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Judges one summary at a time for factual grounding: does the post support every claim? An LLM is asked with a
 * {@link GroundingTemplate} (default {@link GroundingTemplate#FACTUAL}: list the post's facts, check each claim against
 * them, then the verdict, as JSON) and its reply is parsed strictly ({@link GroundingTemplate#parse}).
 *
 * <p>Not a pairwise {@link Judge}: there is no opponent and no presentation order, so each summary is one question.
 * It sends its prompts through an {@link LlmJudge}'s client ({@link LlmJudge#complete}): the same endpoint, request
 * body, {@link JudgeCache} (a rerun sends nothing), retries, deadline and API-key redaction. A reply without a usable
 * body, or one that does not follow the schema, is {@link Grounding.Status#MALFORMED}: counted, reported, left out of
 * the {@link HallucinationRate}, never read as supported. Not thread-safe.
 */
public final class GroundingJudge {

    /** Default {@code max_tokens} of a grounding request: a fact list and a claim list need more than a letter. */
    public static final int DEFAULT_MAX_TOKENS = 1024;

    /**
     * A summary to judge.
     *
     * @param id the prompt id
     * @param post the post as shown to the judge ({@link Matchup#postText})
     * @param summary the summary
     */
    public record Item(String id, String post, String summary) {

        /**
         * Checks the parts.
         *
         * @param id id
         * @param post post
         * @param summary summary
         */
        public Item {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(post, "post");
            Objects.requireNonNull(summary, "summary");
        }
    }

    /**
     * Counters of this judge's work (the HTTP and cache counters are the client's, {@link LlmJudge#stats()}).
     *
     * @param questions summaries judged
     * @param malformed replies that did not follow the schema or had no usable body
     */
    public record Stats(long questions, long malformed) {}

    private final LlmJudge client;
    private final GroundingTemplate template;
    private long questions;
    private long malformed;

    private GroundingJudge(Builder b) {
        this.client = b.client;
        this.template = b.template;
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
     * Judges one summary.
     *
     * @param item the summary with its post
     * @return the judgement (malformed when the reply is unusable)
     * @throws JudgeException when the endpoint fails after all retries or refuses the request
     */
    public Grounding judge(Item item) {
        questions++;
        LlmJudge.Reply r = client.complete(template.render(item.post(), item.summary()));
        Grounding g = r.content() == null ? Grounding.malformed(item.id(), r.problem())
                : GroundingTemplate.parse(item.id(), r.content());
        if (g.status() == Grounding.Status.MALFORMED) {
            malformed++;
        }
        return g;
    }

    /**
     * Judges several summaries in order.
     *
     * @param items the summaries
     * @return one judgement per summary
     */
    public List<Grounding> judgeAll(List<Item> items) {
        List<Grounding> out = new ArrayList<>(items.size());
        for (Item i : items) {
            out.add(judge(i));
        }
        return out;
    }

    /**
     * Returns the counters so far.
     *
     * @return the stats
     */
    public Stats stats() {
        return new Stats(questions, malformed);
    }

    /**
     * Returns the template.
     *
     * @return the template
     */
    public GroundingTemplate template() {
        return template;
    }

    /**
     * Returns a short description for reports (never contains credentials).
     *
     * @return e.g. {@code llm:gpt-4o/factual at https://api.openai.com/v1}
     */
    public String describe() {
        return "llm:" + client.model() + "/" + template.id() + " at " + client.baseUrlForDisplay();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return describe();
    }

    /** Builder of {@link GroundingJudge}: {@code setX} for required values, {@code optX} for optional ones. */
    public static final class Builder {
        private LlmJudge client;
        private GroundingTemplate template = GroundingTemplate.FACTUAL;

        private Builder() {}

        /**
         * Sets the LLM client the prompts go through (its template is not used; build it with
         * {@code optMaxTokens(}{@value GroundingJudge#DEFAULT_MAX_TOKENS}{@code )}, a JSON fact list needs the room). The caller
         * closes it.
         *
         * @param c the client
         * @return this
         */
        public Builder setClient(LlmJudge c) {
            this.client = c;
            return this;
        }

        /**
         * Sets the template (default {@link GroundingTemplate#FACTUAL}).
         *
         * @param t the template
         * @return this
         */
        public Builder optTemplate(GroundingTemplate t) {
            this.template = t;
            return this;
        }

        /**
         * Builds the judge.
         *
         * @return the judge
         */
        public GroundingJudge build() {
            if (client == null) {
                throw new IllegalArgumentException("client must not be null");
            }
            if (template == null) {
                throw new IllegalArgumentException("template must not be null");
            }
            return new GroundingJudge(this);
        }
    }
}
