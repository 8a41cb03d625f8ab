package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Objects;

/**
 * A per-summary grounding judgement of the {@link GroundingJudge}: the facts the judge listed from the post, each claim
 * of the summary with whether those facts support it, and the verdict; or, for a reply that does not follow
 * {@link GroundingTemplate}'s schema, {@link Status#MALFORMED} with the reason (never read as supported).
 *
 * @param id the prompt id
 * @param status supported, unsupported or malformed
 * @param facts the post's facts as the judge listed them (empty when malformed)
 * @param claims the summary's claims with their support (empty when malformed)
 * @param problem why the reply is malformed, naming the field; null otherwise
 */
public record Grounding(String id, Status status, List<String> facts, List<Claim> claims, String problem) {

    /** The outcome of one grounding judgement. */
    public enum Status {
        /** Every claim of the summary is supported by the post's facts (also: a summary without claims). */
        SUPPORTED("supported"),
        /** At least one claim is not supported: the summary hallucinates. */
        UNSUPPORTED("unsupported"),
        /** The reply did not follow the schema, or had no usable body; excluded from the rate and counted. */
        MALFORMED("malformed");

        private final String key;

        Status(String key) {
            this.key = key;
        }

        /**
         * Returns the name in JSON and in the judge's reply.
         *
         * @return e.g. {@code unsupported}
         */
        @JsonValue
        public String key() {
            return key;
        }
    }

    /**
     * One claim of a summary.
     *
     * @param claim the claim, as the judge stated it
     * @param supported whether the post's facts support it
     * @param evidence the supporting fact or quote (may be empty, e.g. for an unsupported claim)
     */
    public record Claim(String claim, boolean supported, String evidence) {

        /**
         * Checks the parts.
         *
         * @param claim claim
         * @param supported supported
         * @param evidence evidence
         */
        public Claim {
            Objects.requireNonNull(claim, "claim");
            Objects.requireNonNull(evidence, "evidence");
        }
    }

    /**
     * Checks the parts and copies the lists.
     *
     * @param id id
     * @param status status
     * @param facts facts
     * @param claims claims
     * @param problem problem, non-null exactly when malformed
     */
    public Grounding {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        facts = List.copyOf(facts);
        claims = List.copyOf(claims);
        if ((status == Status.MALFORMED) != (problem != null)) {
            throw new IllegalArgumentException("a problem is given exactly for a malformed judgement, got status "
                    + status + " with problem " + problem);
        }
    }

    /**
     * A malformed judgement.
     *
     * @param id the prompt id
     * @param problem what is wrong, naming the field
     * @return the judgement
     */
    public static Grounding malformed(String id, String problem) {
        return new Grounding(id, Status.MALFORMED, List.of(), List.of(), problem);
    }

    /**
     * Returns the number of claims the facts do not support.
     *
     * @return the count
     */
    public int unsupportedClaims() {
        return (int) claims.stream().filter(c -> !c.supported()).count();
    }
}
