package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rlhf4j.core.io.Json;

/**
 * Asks an LLM for the facts a post states — step 1 of the {@link GroundingTemplate#FACTUAL} protocol on its own — to
 * build scaffolded training targets from LLM-extracted facts ({@code data scaffold --facts llm}). The prompt goes
 * through an {@link LlmJudge}'s client ({@link LlmJudge#complete}), so replies are cached and a rerun sends nothing.
 * The reply must be one JSON object {@code {"facts": ["...", ...]}} (one markdown fence tolerated), parsed strictly.
 */
public final class FactExtractor {

    /** The prompt; {@code {post}} is the post. */
    public static final String TEMPLATE = "List the facts that the following forum post states.\n\n"
            + "Post:\n{post}\n\n"
            + "Write each fact as one short sentence in the post's own terms, the most important first, at most {n}."
            + " Add nothing the post does not say.\n\n"
            + "Answer with one JSON object and nothing else, in exactly this form:\n"
            + "{\"facts\": [\"<fact>\", ...]}";

    private static final ObjectReader STRICT = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * The facts of one post, or why the reply is unusable.
     *
     * @param facts the facts (empty when malformed)
     * @param problem why the reply is malformed, naming the field; null when usable
     */
    public record Result(List<String> facts, String problem) {

        /**
         * Copies the facts.
         *
         * @param facts facts
         * @param problem problem
         */
        public Result {
            facts = List.copyOf(facts);
        }
    }

    private final LlmJudge client;
    private final int maxFacts;

    /**
     * Creates an extractor.
     *
     * @param client the LLM client (the caller closes it)
     * @param maxFacts the most facts asked for and kept, &ge; 1
     */
    public FactExtractor(LlmJudge client, int maxFacts) {
        this.client = Objects.requireNonNull(client, "client");
        if (maxFacts < 1) {
            throw new IllegalArgumentException("maxFacts must be >= 1, got " + maxFacts);
        }
        this.maxFacts = maxFacts;
    }

    /**
     * Returns the prompt for a post.
     *
     * @param post the post
     * @return the prompt
     */
    public String render(String post) {
        int at = TEMPLATE.indexOf("{post}");
        return (TEMPLATE.substring(0, at) + post + TEMPLATE.substring(at + "{post}".length()))
                .replace("at most {n}.", "at most " + maxFacts + ".");
    }

    /**
     * Asks for the facts of a post.
     *
     * @param post the post ({@link Matchup#postText})
     * @return the facts (at most {@code maxFacts}), or the problem of the reply
     * @throws JudgeException when the endpoint fails after all retries or refuses the request
     */
    public Result facts(String post) {
        LlmJudge.Reply r = client.complete(render(post));
        if (r.content() == null) {
            return new Result(List.of(), r.problem());
        }
        return parse(r.content(), maxFacts);
    }

    /**
     * Parses a reply strictly: one JSON object (one markdown fence tolerated) whose {@code facts} is an array of
     * non-blank strings; the first {@code maxFacts} are kept.
     *
     * @param reply the reply text
     * @param maxFacts the most facts kept
     * @return the facts, or the problem naming the field
     */
    public static Result parse(String reply, int maxFacts) {
        String s = reply.strip();
        if (s.startsWith("```") && s.endsWith("```") && s.indexOf('\n') > 0) {
            String lang = s.substring(3, s.indexOf('\n')).strip();
            if (lang.isEmpty() || lang.equalsIgnoreCase("json")) {
                s = s.substring(s.indexOf('\n') + 1, s.length() - 3);
            }
        }
        JsonNode n;
        try {
            n = STRICT.readTree(s);
        } catch (JsonProcessingException e) {
            return new Result(List.of(), "reply is not one JSON object: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            return new Result(List.of(), "reply is not a JSON object");
        }
        JsonNode facts = n.get("facts");
        if (facts == null || !facts.isArray()) {
            return new Result(List.of(), facts == null ? "facts: missing" : "facts: expected an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < facts.size(); i++) {
            JsonNode f = facts.get(i);
            if (!f.isTextual() || f.asText().isBlank()) {
                return new Result(List.of(), "facts[" + i + "]: expected a non-blank string, got " + f);
            }
            if (out.size() < maxFacts) {
                out.add(f.asText().strip());
            }
        }
        return new Result(out, null);
    }
}
