package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.io.Json;

/**
 * Prompt templates of the {@link GroundingJudge}, with the strict parsing of the judge's JSON reply.
 *
 * <p>{@link #FACTUAL} is a directed-reasoning protocol after "exoskeleton reasoning" (Yaron et al. 2025, Humains-Junior,
 * arXiv:2510.25933: a fixed
 * scaffold — extract the facts, check each claim against them, then answer — that, combined with fine-tuning on the
 * protocol, brought a 3.8B model to GPT-4o's FACTS grounding score, 72.7 % vs 73.5 %): the judge first lists the
 * post's facts, then checks every claim of the summary against them, then gives the verdict, as one JSON object:
 *
 * <pre>
 * {"facts": ["...", ...],
 *  "claims": [{"claim": "...", "supported": true|false, "evidence": "..."}, ...],
 *  "verdict": "supported"|"unsupported"}
 * </pre>
 */
public enum GroundingTemplate {

    /** Facts, then claims checked against them, then the verdict, as one JSON object. */
    FACTUAL("factual",
            "You check whether a summary of a forum post states only what the post supports. Work in three steps.\n\n"
                    + "Post:\n{post}\n\n"
                    + "Summary:\n{summary}\n\n"
                    + "STEP 1 (facts): list the facts the post states, one short sentence each, in the post's own terms."
                    + " Add nothing the post does not say.\n"
                    + "STEP 2 (claims): split the summary into its atomic claims. For each claim, set \"supported\" to"
                    + " true only if a fact from step 1 states it or directly implies it; set it to false if the post"
                    + " contradicts the claim or does not say it. Give as \"evidence\" the fact that supports the claim,"
                    + " or an empty string when there is none.\n"
                    + "STEP 3 (verdict): \"supported\" if every claim is supported, otherwise \"unsupported\".\n\n"
                    + "Answer with one JSON object and nothing else, in exactly this form:\n"
                    + "{\"facts\": [\"<fact>\", ...], \"claims\": [{\"claim\": \"<claim>\", \"supported\": true,"
                    + " \"evidence\": \"<fact>\"}, ...], \"verdict\": \"supported\"}");

    private static final ObjectReader STRICT = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String id;
    private final String text;

    GroundingTemplate(String id, String text) {
        this.id = id;
        this.text = text;
    }

    /**
     * Returns the template's name in reports.
     *
     * @return e.g. {@code factual}
     */
    public String id() {
        return id;
    }

    /**
     * Returns the template text with {@code {post}} and {@code {summary}} placeholders.
     *
     * @return the text
     */
    public String text() {
        return text;
    }

    /**
     * Fills the template in one pass (so a summary containing {@code {post}} is not substituted again); the summary is
     * stripped of surrounding whitespace.
     *
     * @param post the post ({@link Matchup#postText})
     * @param summary the summary
     * @return the prompt
     */
    public String render(String post, String summary) {
        StringBuilder sb = new StringBuilder(text.length() + post.length() + summary.length());
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("{post}", i)) {
                sb.append(post);
                i += "{post}".length();
            } else if (text.startsWith("{summary}", i)) {
                sb.append(summary.strip());
                i += "{summary}".length();
            } else {
                sb.append(text.charAt(i++));
            }
        }
        return sb.toString();
    }

    /**
     * Parses a grounding reply strictly. The reply must be one JSON object, alone or as the only content of one
     * markdown code fence (```` ```json ... ``` ````), with
     * <ul>
     *   <li>{@code facts}: an array of strings;</li>
     *   <li>{@code claims}: an array of objects, each with {@code claim} (a non-blank string), {@code supported} (a
     *       JSON boolean, not a string) and {@code evidence} (a string, may be empty);</li>
     *   <li>{@code verdict}: {@code "supported"} or {@code "unsupported"}, and consistent with the claims:
     *       {@code unsupported} exactly when some claim has {@code supported: false}.</li>
     * </ul>
     * Other fields are ignored. Anything else is {@link Grounding.Status#MALFORMED} with a problem naming the field
     * (e.g. {@code claims[1].supported: expected true or false, got "yes"}); a reply is never read as supported by
     * default.
     *
     * @param id the prompt id
     * @param reply the reply text (null = malformed)
     * @return the judgement
     */
    public static Grounding parse(String id, String reply) {
        if (reply == null) {
            return Grounding.malformed(id, "no reply");
        }
        String body = unfenced(reply.strip());
        JsonNode n;
        try {
            n = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            return Grounding.malformed(id, "reply is not one JSON object: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            return Grounding.malformed(id, "reply is not a JSON object");
        }
        JsonNode facts = n.get("facts");
        if (facts == null) {
            return Grounding.malformed(id, "facts: missing");
        }
        if (!facts.isArray()) {
            return Grounding.malformed(id, "facts: expected an array of strings, got " + shown(facts));
        }
        List<String> factList = new ArrayList<>();
        for (int i = 0; i < facts.size(); i++) {
            if (!facts.get(i).isTextual()) {
                return Grounding.malformed(id, "facts[" + i + "]: expected a string, got " + shown(facts.get(i)));
            }
            factList.add(facts.get(i).asText());
        }
        JsonNode claims = n.get("claims");
        if (claims == null) {
            return Grounding.malformed(id, "claims: missing");
        }
        if (!claims.isArray()) {
            return Grounding.malformed(id, "claims: expected an array of objects, got " + shown(claims));
        }
        List<Grounding.Claim> claimList = new ArrayList<>();
        for (int i = 0; i < claims.size(); i++) {
            JsonNode c = claims.get(i);
            String at = "claims[" + i + "]";
            if (!c.isObject()) {
                return Grounding.malformed(id, at + ": expected an object, got " + shown(c));
            }
            JsonNode claim = c.get("claim");
            if (claim == null || !claim.isTextual() || claim.asText().isBlank()) {
                return Grounding.malformed(id, at + ".claim: expected a non-blank string, got " + shown(claim));
            }
            JsonNode supported = c.get("supported");
            if (supported == null || !supported.isBoolean()) {
                return Grounding.malformed(id, at + ".supported: expected true or false, got " + shown(supported));
            }
            JsonNode evidence = c.get("evidence");
            if (evidence == null || !evidence.isTextual()) {
                return Grounding.malformed(id, at + ".evidence: expected a string, got " + shown(evidence));
            }
            claimList.add(new Grounding.Claim(claim.asText(), supported.asBoolean(), evidence.asText()));
        }
        JsonNode verdict = n.get("verdict");
        if (verdict == null) {
            return Grounding.malformed(id, "verdict: missing");
        }
        Grounding.Status status;
        if (verdict.isTextual() && verdict.asText().equals("supported")) {
            status = Grounding.Status.SUPPORTED;
        } else if (verdict.isTextual() && verdict.asText().equals("unsupported")) {
            status = Grounding.Status.UNSUPPORTED;
        } else {
            return Grounding.malformed(id, "verdict: expected \"supported\" or \"unsupported\", got " + shown(verdict));
        }
        int firstUnsupported = -1;
        for (int i = 0; i < claimList.size() && firstUnsupported < 0; i++) {
            if (!claimList.get(i).supported()) {
                firstUnsupported = i;
            }
        }
        if (status == Grounding.Status.SUPPORTED && firstUnsupported >= 0) {
            return Grounding.malformed(id, "verdict: \"supported\" contradicts claims[" + firstUnsupported
                    + "].supported = false");
        }
        if (status == Grounding.Status.UNSUPPORTED && firstUnsupported < 0) {
            return Grounding.malformed(id, "verdict: \"unsupported\" but every claim is supported");
        }
        return new Grounding(id, status, factList, claimList, null);
    }

    /** The content of a reply that is one fenced code block (```json or ```), else the reply itself. */
    private static String unfenced(String s) {
        if (!s.startsWith("```") || !s.endsWith("```") || s.length() < 6) {
            return s;
        }
        int nl = s.indexOf('\n');
        if (nl < 0) {
            return s;
        }
        String lang = s.substring(3, nl).strip();
        if (!(lang.isEmpty() || lang.equalsIgnoreCase("json"))) {
            return s;
        }
        return s.substring(nl + 1, s.length() - 3);
    }

    private static String shown(JsonNode n) {
        if (n == null) {
            return "nothing (missing)";
        }
        String t = n.toString();
        return t.length() <= 80 ? t : t.substring(0, 80) + "…";
    }

    /**
     * Looks a template up by its id or enum name.
     *
     * @param name e.g. {@code factual}
     * @return the template
     */
    public static GroundingTemplate named(String name) {
        for (GroundingTemplate t : values()) {
            if (t.id.equalsIgnoreCase(name) || t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown grounding template '" + name + "' (factual)");
    }
}
